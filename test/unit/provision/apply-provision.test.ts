import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../../src/config/load.js';
import { applyProvision } from '../../../src/provision/provision.js';
import { writeIssuerAndTrust } from '../../helpers/daemon.js';

describe('writing a provisioned configuration folder', () => {
  let dir: string;
  let keys: Awaited<ReturnType<typeof writeIssuerAndTrust>>;
  const pem = (what: string) => `-----BEGIN ${what}-----\nMIIB\n-----END ${what}-----\n`;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-apply-'));
    keys = await writeIssuerAndTrust(dir, 'eats');
    writeFileSync(join(dir, 'ca.pem'), pem('CERTIFICATE'));
    writeFileSync(join(dir, 'cert.pem'), pem('CERTIFICATE'));
    writeFileSync(join(dir, 'key.pem'), pem('PRIVATE KEY'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const answers = () => ({
    site: 'north',
    gate: 'g1',
    brokerUrl: 'mqtts://broker.example:8883',
    username: 'gate-g1',
    password: 'pw-1',
    caFile: join(dir, 'ca.pem'),
    certFile: join(dir, 'cert.pem'),
    keyFile: join(dir, 'key.pem'),
    rootKey: keys.rootKeyFile,
    trust: keys.trustFile,
    scannerDriver: 'tcp',
    scannerHost: '192.0.2.10',
    scannerPort: '4001',
    relayDriver: 'sim',
    storePath: join(dir, 'gate.db'),
  });

  it('copies the TLS files in (the key 0600), references them, and the result loads', async () => {
    const etc = join(dir, 'etc');
    const result = await applyProvision(answers(), etc);
    const { config } = loadConfig(result.configFile, {});
    expect(config.mqtt).toMatchObject({
      caFile: join(etc, 'mqtt-ca.pem'),
      certFile: join(etc, 'mqtt-cert.pem'),
      keyFile: join(etc, 'mqtt-key.pem'),
      passwordFile: join(etc, 'mqtt-password'),
    });
    expect(config.scanner).toMatchObject({ driver: 'tcp', host: '192.0.2.10', port: 4001 });
    expect(statSync(join(etc, 'mqtt-key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(etc, 'mqtt-password')).mode & 0o777).toBe(0o600);
    expect(statSync(join(etc, 'mqtt-ca.pem')).mode & 0o777).toBe(0o644);
    expect(statSync(etc).mode & 0o777).toBe(0o750);
  });

  it('keeps settings of an earlier configuration it was not asked about', async () => {
    const etc = join(dir, 'tuned');
    const first = await applyProvision(answers(), etc);
    writeFileSync(
      first.configFile,
      `${readFileSync(first.configFile, 'utf8')}policy:\n  skewSec: 90\n`,
    );
    await applyProvision({ ...answers(), gate: 'g2' }, etc);
    const config = parse(readFileSync(first.configFile, 'utf8'));
    expect(config.policy).toEqual({ skewSec: 90 });
    expect(config.gate.id).toBe('g2');
  });

  it('replaces nothing when the real loader refuses the result', async () => {
    const etc = join(dir, 'refused');
    const first = await applyProvision(answers(), etc);
    const before = readFileSync(first.configFile, 'utf8');
    await expect(applyProvision({ ...answers(), site: 'change-me' }, etc)).rejects.toThrow(
      /gate\.site: still "change-me"/,
    );
    expect(readFileSync(first.configFile, 'utf8')).toBe(before);
    expect(existsSync(`${first.configFile}.bak`)).toBe(false);
  });

  it('writes nothing when the root key file holds the private key', async () => {
    const etc = join(dir, 'private-root');
    const rootKey = keys.rootKeyFile.replace(/\.pub\.json$/, '.key.json');
    await expect(applyProvision({ ...answers(), rootKey }, etc)).rejects.toThrow(
      /holds a private key \("d"\)/,
    );
    expect(existsSync(etc)).toBe(false);
  });

  it('refuses an empty folder name instead of writing into the current folder', async () => {
    await expect(applyProvision(answers(), '')).rejects.toThrow('--config-dir: the path is empty');
  });

  it.skipIf(process.getuid?.() !== 0)(
    'hands the files to the service user when run as root',
    async () => {
      const etc = join(dir, 'owned');
      await applyProvision(answers(), etc, { uid: 990, gid: 991 });
      const owner = (name: string) => {
        const st = statSync(join(etc, name));
        return { uid: st.uid, gid: st.gid, mode: st.mode & 0o777 };
      };
      expect(statSync(etc).gid).toBe(991);
      expect(owner('mqtt-password')).toEqual({ uid: 0, gid: 991, mode: 0o640 });
      expect(owner('mqtt-key.pem')).toEqual({ uid: 0, gid: 991, mode: 0o640 });
      expect(owner('mqtt-ca.pem')).toEqual({ uid: 0, gid: 991, mode: 0o644 });
      expect(owner('config.yaml')).toEqual({ uid: 0, gid: 991, mode: 0o640 });
      expect(owner('device.key.json')).toEqual({ uid: 990, gid: 991, mode: 0o600 });
    },
  );
});
