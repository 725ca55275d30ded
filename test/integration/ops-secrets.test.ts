import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/daemon.js';
import {
  freePort,
  type Mosquitto,
  mosquittoMissing,
  startMosquitto,
  writePasswordFile,
} from '../helpers/mosquitto.js';

/** Runs the CLI with exactly `env` (plus PATH), without blocking mosquitto. */
const ridergate = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runCli(args, { env: { PATH: process.env.PATH, ...env } });

/** `cmd sign … --publish --url URL` of a selftest to north/g1, waiting 1 s for results. */
function signArgs(keyFile: string, url: string, extra: string[]): string[] {
  return [
    ...['cmd', 'sign', '--key', keyFile, '--cmd', 'selftest', '--site', 'north', '--gate', 'g1'],
    ...['--publish', '--url', url, '--wait', '1', ...extra],
  ];
}

/** Generates an operations key pair in `dir`; the private key's path. */
async function opsKey(dir: string): Promise<string> {
  const gen = await ridergate(['keys', 'gen', '--name', 'ops', '--out', dir]);
  expect(gen.code).toBe(0);
  return join(dir, 'ops.key.json');
}

describe('the operations tools and broker passwords', () => {
  let dir: string;
  let keyFile: string;
  const sign = (url: string, extra: string[] = []) => signArgs(keyFile, url, extra);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-ops-secrets-'));
    keyFile = await opsKey(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('never prints the password of a --url it cannot reach', async () => {
    const port = await freePort();
    const run = await ridergate(sign(`mqtt://ops:hunter2@127.0.0.1:${port}`));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot connect to mqtt://ops:***@127.0.0.1:${port}`);
    expect(run.stderr + run.stdout).not.toContain('hunter2');
    const snapshot = join(dir, 'snapshot.json');
    writeFileSync(snapshot, '[]');
    const revoked = await ridergate([
      ...['revocations', 'sign', '--key', keyFile, '--snapshot', snapshot, '--seq', '1'],
      ...['--publish', '--url', `mqtt://ops:hunter2@127.0.0.1:${port}`, '--wait', '1'],
    ]);
    expect(revoked.code).toBe(1);
    expect(revoked.stderr).toContain(`cannot connect to mqtt://ops:***@127.0.0.1:${port}`);
    expect(revoked.stderr + revoked.stdout).not.toContain('hunter2');
    // Not even a URL the parser takes (port out of range) shows its password.
    const watch = await ridergate(['watch', '--url', 'mqtt://ops:hunter2@127.0.0.1:99999']);
    expect(watch.code).toBe(2);
    expect(watch.stderr).toContain('mqtt://ops:***@127.0.0.1:99999');
    expect(watch.stderr).not.toContain('hunter2');
  });

  it('documents --password-file and OPS_MQTT_PASSWORD in the help of every tool', async () => {
    for (const tool of [['cmd', 'sign'], ['revocations', 'sign'], ['watch']]) {
      const help = await ridergate([...tool, '--help']);
      expect(help.stdout).toMatch(/--password-file <file> +file holding the broker password/);
      expect(help.stdout).toContain('OPS_MQTT_PASSWORD');
      expect(help.stdout).not.toContain('RIDERGATE_MQTT_PASSWORD');
    }
  });

  it('lets run and doctor start in a shell where OPS_MQTT_PASSWORD is set', async () => {
    const config = join(dir, 'gate.yaml');
    writeFileSync(
      config,
      `gate: { site: north, id: g1 }\nrelay: { driver: sim }\nstore: { path: ${join(dir, 'gate.db')} }\n`,
    );
    const doctor = await ridergate(['doctor', '--config', config, '--json'], {
      OPS_MQTT_PASSWORD: 'hunter2',
    });
    const rows = (JSON.parse(doctor.stdout) as { checks: { check: string; status: string }[] })
      .checks;
    expect(rows.find((r) => r.check === 'configuration')?.status).toBe('ok');
    // `run` gets past the configuration (and then stops at the missing trust key).
    const run = await ridergate(['run', '--config', config], { OPS_MQTT_PASSWORD: 'hunter2' });
    expect(run.stderr).toContain('trust.rootKeyFile');
    expect(run.stderr).not.toContain('OPS_MQTT_PASSWORD');
    // The variable the tools used to read is a configuration override, and refused as one.
    const old = await ridergate(['run', '--config', config], {
      RIDERGATE_MQTT_PASSWORD: 'hunter2',
    });
    expect(old.code).toBe(78);
    expect(old.stderr).toContain(
      'RIDERGATE_MQTT_PASSWORD: a secret is never set by a variable here: write it to a file (mode 0600) and set mqtt.passwordFile; the operations tools (cmd sign, revocations sign, watch) read OPS_MQTT_PASSWORD',
    );
    expect(old.stderr).not.toContain('hunter2');
  });
});

describe.skipIf(mosquittoMissing() !== undefined)(
  'operations tools against mosquitto with passwords',
  () => {
    let dir: string;
    let keyFile: string;
    let broker: Mosquitto;
    let goodFile: string;
    const sign = (url: string, extra: string[] = []) => signArgs(keyFile, url, extra);

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ridergate-ops-broker-'));
      keyFile = await opsKey(dir);
      const passwords = await writePasswordFile(dir, { ops: 'hunter2' });
      broker = await startMosquitto(['allow_anonymous false', `password_file ${passwords}`]);
      goodFile = join(dir, 'ops.pw');
      writeFileSync(goodFile, 'hunter2\n', { mode: 0o600 });
    });
    afterAll(async () => {
      await broker?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('connects with --password-file or OPS_MQTT_PASSWORD, and refuses a wrong one', async () => {
      // Connected and published: no gate answers, so it waits out --wait.
      const noGate = /no result for command \S+ within 1 s/;
      const byFile = await ridergate(
        sign(broker.url, ['--username', 'ops', '--password-file', goodFile]),
      );
      expect(byFile.stderr).toMatch(noGate);
      const byEnv = await ridergate(sign(broker.url, ['--username', 'ops']), {
        OPS_MQTT_PASSWORD: 'hunter2',
      });
      expect(byEnv.stderr).toMatch(noGate);
      const wrong = await ridergate(sign(broker.url, ['--username', 'ops']), {
        OPS_MQTT_PASSWORD: 'nope',
      });
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain(`cannot connect to ${broker.url}`);
      expect(wrong.stderr).not.toContain('nope');
    });

    it('refuses a password file others can read, naming the fix', async () => {
      const open = join(dir, 'open.pw');
      writeFileSync(open, 'hunter2\n');
      chmodSync(open, 0o644);
      const run = await ridergate(sign(broker.url, ['--username', 'ops', '--password-file', open]));
      // A file named by a flag of a tool is bad usage (exit 2); `run` keeps 78 for its settings.
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`--password-file: ${open} has mode 0644`);
      expect(run.stderr).toContain(`chmod 600 ${open}`);
      expect(run.stderr).not.toContain('hunter2');
    });
  },
);
