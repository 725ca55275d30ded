import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildClientOptions } from '../../../src/link/client-options.js';
import { readSecretFile } from '../../../src/link/secret-file.js';
import { tlsHint } from '../../../src/link/tls-hint.js';

const BASE = { clientId: 'north-g1', connectTimeoutMs: 1000, keepaliveSec: 30, reconnectMs: 1000 };

describe('secret files and TLS options', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-secrets-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function secret(mode: number, text = 's3cret-value\n'): string {
    const path = join(dir, `secret-${mode.toString(8)}`);
    writeFileSync(path, text);
    chmodSync(path, mode);
    return path;
  }

  it.each([0o600, 0o400, 0o640, 0o440])('reads a password file of mode %o, trimmed', (mode) => {
    expect(readSecretFile(secret(mode), 'mqtt.passwordFile')).toBe('s3cret-value');
  });

  it.each([
    [0o644, 'others can read or write it'],
    [0o604, 'others can read or write it'],
    [0o660, 'its group can write it'],
  ])('refuses mode %o: %s, never showing the secret', (mode, why) => {
    const path = secret(mode);
    let message = '';
    try {
      readSecretFile(path, 'mqtt.passwordFile');
    } catch (err) {
      message = (err as Error).message;
      expect(err).toMatchObject({ code: 'config_invalid' });
    }
    expect(message).toContain(why);
    expect(message).toContain(`chmod 600 ${path}`);
    expect(message).not.toContain('s3cret');
  });

  it('refuses a password file that is too large or missing, naming the setting', () => {
    expect(() => readSecretFile(secret(0o600, 'x'.repeat(5000)), 'mqtt.passwordFile')).toThrow(
      /too large/,
    );
    expect(() => readSecretFile(join(dir, 'none'), 'mqtt.passwordFile')).toThrow(
      /mqtt\.passwordFile.*no such file/,
    );
  });

  it('verifies the broker by default, with the URL host as server name', () => {
    const byName = buildClientOptions({ ...BASE, url: 'mqtts://broker.example:8883' });
    expect(byName).toMatchObject({ rejectUnauthorized: true, servername: 'broker.example' });
    const byIp = buildClientOptions({ ...BASE, url: 'mqtts://127.0.0.1:8883' });
    expect(byIp.rejectUnauthorized).toBe(true);
    expect(byIp.servername).toBeUndefined();
    expect(buildClientOptions({ ...BASE, tlsInsecure: true }).rejectUnauthorized).toBe(false);
  });

  it('refuses a client key file others can read', () => {
    expect(() => buildClientOptions({ ...BASE, keyFile: secret(0o644) })).toThrow(
      expect.objectContaining({
        code: 'config_invalid',
        message: expect.stringContaining('mqtt.keyFile'),
      }),
    );
  });

  it('says which TLS setting names a missing file, a folder or a file too large', () => {
    const missing = join(dir, 'no-ca.pem');
    expect(() => buildClientOptions({ ...BASE, caFile: missing })).toThrow(
      expect.objectContaining({
        code: 'config_invalid',
        message: `${missing}: cannot read the mqtt.caFile PEM file (no such file)`,
      }),
    );
    expect(() => buildClientOptions({ ...BASE, certFile: dir })).toThrow(
      expect.objectContaining({
        code: 'config_invalid',
        message: `${dir}: is a folder; expected a mqtt.certFile PEM file`,
      }),
    );
    const huge = join(dir, 'huge.pem');
    writeFileSync(huge, Buffer.alloc(1024 * 1024 + 1, 65));
    expect(() => buildClientOptions({ ...BASE, caFile: huge })).toThrow(
      expect.objectContaining({ message: expect.stringContaining('too large for a mqtt.caFile') }),
    );
  });

  it('names the fix for the common TLS failures', () => {
    const coded = (code: string) => Object.assign(new Error('x'), { code });
    expect(tlsHint(coded('UNABLE_TO_VERIFY_LEAF_SIGNATURE')).hint).toContain('mqtt.caFile');
    expect(tlsHint(coded('ERR_TLS_CERT_ALTNAME_INVALID')).hint).toContain('does not name the host');
    expect(tlsHint(coded('CERT_HAS_EXPIRED')).hint).toContain('expired');
    expect(tlsHint(new Error('ECONNREFUSED'))).toEqual({});
    expect(tlsHint(undefined)).toEqual({});
  });
});
