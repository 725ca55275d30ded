import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFiles } from '../../../src/provision/checks/files-check.js';
import { checkInput, FAKE, fakeSystem } from './check-fixture.js';

describe.skipIf(process.getuid?.() !== 0)('files check (needs root to chown)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-files-check-'));
    chmodSync(dir, 0o755);
    for (const name of ['config.yaml', 'root.pub.json', 'trust.jws', 'mqtt-password'])
      writeFileSync(join(dir, name), 'x\n', { mode: 0o644 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const input = () => ({
    ...checkInput(fakeSystem(dir), {
      trust: { rootKeyFile: join(dir, 'root.pub.json'), file: join(dir, 'trust.jws') },
      mqtt: { username: 'gate', passwordFile: join(dir, 'mqtt-password') },
    }),
    configFile: join(dir, 'config.yaml'),
  });

  it('names a secret written by root that the service user cannot read, with the fix', () => {
    const secret = join(dir, 'mqtt-password');
    chownSync(secret, 0, 0);
    chmodSync(secret, 0o600);
    expect(checkFiles(input())).toEqual({
      check: 'files',
      status: 'fail',
      detail: `mqtt.passwordFile ${secret}: user ridergate cannot read it (mode 0600)`,
      fix: 'chgrp ridergate FILE && chmod 640 FILE (secrets stay unreadable to others)',
    });
  });

  it('says to create a missing file and to name a file, not a folder, each once', () => {
    chownSync(join(dir, 'mqtt-password'), 0, FAKE.uid);
    chmodSync(join(dir, 'mqtt-password'), 0o640);
    const missing = join(dir, 'no-ca.pem');
    const result = checkFiles({
      ...input(),
      config: {
        ...input().config,
        mqtt: {
          ...input().config.mqtt,
          caFile: missing,
          certFile: dir,
          keyFile: join(dir, 'nokey'),
        },
      },
    });
    expect(result).toMatchObject({ check: 'files', status: 'fail' });
    expect(result.detail).toContain(`mqtt.caFile ${missing}: does not exist`);
    expect(result.detail).toContain(`mqtt.certFile ${dir}: is a folder, not a file`);
    expect(result.fix).toBe(
      'create the missing file, or correct the setting that names it (ridergate provision copies them into /etc/ridergate); ' +
        'point the setting at the file, not at its folder',
    );
  });

  it('passes once the file belongs to the service group', () => {
    const secret = join(dir, 'mqtt-password');
    chownSync(secret, 0, FAKE.uid);
    chmodSync(secret, 0o640);
    expect(checkFiles(input())).toEqual({
      check: 'files',
      status: 'ok',
      detail: '4 file(s) readable by ridergate',
    });
  });
});
