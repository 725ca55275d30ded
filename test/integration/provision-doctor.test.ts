import { spawn } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli, writeIssuerAndTrust } from '../helpers/daemon.js';
import { type Mosquitto, mosquittoMissing, startMosquitto } from '../helpers/mosquitto.js';
import { PtyPair, socatAvailable } from '../helpers/pty.js';

const ridergate = (args: string[]) => runCli(args);

type Row = { check: string; status: string; detail: string; fix?: string };
const rowsOf = (stdout: string) => (JSON.parse(stdout) as { ok: boolean; checks: Row[] }).checks;
const row = (rows: Row[], check: string) => rows.find((r) => r.check === check);

const missing =
  mosquittoMissing() ?? (socatAvailable() ? undefined : 'socat not installed: tests skipped');

describe.skipIf(missing !== undefined)(
  'provision by flags, then doctor, against mosquitto with passwords',
  () => {
    let dir: string;
    let broker: Mosquitto;
    let pty: PtyPair;
    let keys: Awaited<ReturnType<typeof writeIssuerAndTrust>>;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ridergate-provision-'));
      // mosquitto started as root reads these after dropping to its own user: open them to it.
      const brokerDir = join(dir, 'broker');
      mkdirSync(brokerDir, { mode: 0o755 });
      chmodSync(dir, 0o755);
      const passwords = join(brokerDir, 'mosquitto.passwd');
      writeFileSync(passwords, '');
      const accounts: [string, string][] = [
        ['gate-g1', 's3cret-pass'],
        ['stranger', 'other-pass'],
      ];
      for (const [user, pass] of accounts) {
        const run = spawn('mosquitto_passwd', ['-b', passwords, user, pass]);
        await new Promise((resolve) => run.once('exit', resolve));
      }
      chmodSync(passwords, 0o644);
      const acl = join(brokerDir, 'mosquitto.acl');
      // gate-g1 may use its own topics only; stranger may connect but no more.
      writeFileSync(acl, 'user gate-g1\ntopic readwrite ridergate/v1/north/g1/#\n');
      broker = await startMosquitto([
        'allow_anonymous false',
        `password_file ${passwords}`,
        `acl_file ${acl}`,
      ]);
      pty = new PtyPair(dir);
      await pty.start();
      keys = await writeIssuerAndTrust(dir, 'eats');
      writeFileSync(join(dir, 'pw.txt'), 's3cret-pass\n');
    });

    afterAll(async () => {
      await pty?.stop();
      await broker?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    const provisionArgs = (configDir: string, over: string[] = []) => [
      'provision',
      '--config-dir',
      configDir,
      '--site',
      'north',
      '--gate',
      'g1',
      '--broker-url',
      broker.url,
      '--username',
      'gate-g1',
      '--password-file',
      join(dir, 'pw.txt'),
      '--root-key',
      keys.rootKeyFile,
      '--trust',
      keys.trustFile,
      '--scanner-driver',
      'serial',
      '--scanner-profile',
      'generic-cdc-cr',
      '--scanner-path',
      pty.a,
      '--relay-driver',
      'sim',
      '--relay-profile',
      'relay-1ch-active-low',
      '--store-path',
      join(dir, 'var', 'gate.db'),
      ...over,
    ];

    it('provisions a gate by flags, runs the selftest, and doctor finds it fit to run', async () => {
      const configDir = join(dir, 'etc');
      const provision = await ridergate(provisionArgs(configDir, ['--yes', '--no-scan']));
      expect(provision.stderr).toBe('');
      expect(provision.stdout).toMatch(
        /^relay +OK +pulsed BCM pin 17 \(sim, active low\); click confirmed$/m,
      );
      expect(provision.stdout).toMatch(
        /^broker +OK +mqtt:\/\/127\.0\.0\.1:\d+: published to ridergate\/v1\/north\/g1\/selftest and received it back$/m,
      );
      expect(provision.stdout).toMatch(/^all checks passed/m);
      expect(provision.code).toBe(0);

      const config = parse(readFileSync(join(configDir, 'config.yaml'), 'utf8'));
      expect(config.mqtt).toEqual({
        url: broker.url,
        username: 'gate-g1',
        passwordFile: join(configDir, 'mqtt-password'),
      });
      expect(readFileSync(join(configDir, 'mqtt-password'), 'utf8')).toBe('s3cret-pass\n');
      expect(statSync(join(configDir, 'mqtt-password')).mode & 0o777).toBe(0o600);
      expect(statSync(join(configDir, 'device.key.json')).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(configDir, 'root.pub.json'))).toEqual(
        readFileSync(keys.rootKeyFile),
      );
      expect(provision.stdout).not.toContain('s3cret-pass');

      const doctor = await ridergate([
        'doctor',
        '--config',
        join(configDir, 'config.yaml'),
        '--json',
        '--user',
        'root',
      ]);
      const rows = rowsOf(doctor.stdout);
      expect(rows.map((r) => r.check)).toEqual([
        'configuration',
        'files',
        'scanner device',
        'gpio mapping',
        'clock',
        'disk space',
        'database',
        'trust list',
        'broker',
      ]);
      expect(row(rows, 'scanner device')).toMatchObject({
        status: 'ok',
        detail: `${pty.a} opens for reading and writing`,
      });
      expect(row(rows, 'trust list')).toMatchObject({
        status: 'ok',
        detail: 'version 1, 1 key(s) of 1 issuer(s)',
      });
      expect(row(rows, 'broker')?.status).toBe('ok');
      expect(rows.filter((r) => r.status === 'fail')).toEqual([]);
      expect(doctor.code).toBe(0);

      // Without a terminal and without --yes nobody can confirm the click: reported, not failed.
      const selftest = await ridergate([
        'selftest',
        '--config',
        join(configDir, 'config.yaml'),
        '--no-scan',
      ]);
      expect(selftest.stdout).toMatch(
        /^relay +SKIP +pulsed BCM pin 17 \(sim, active low\) for 250 ms; not confirmed \(no terminal to ask, no --yes\)$/m,
      );
      expect(selftest.stdout).toMatch(/^scanner read +SKIP +not asked for \(--no-scan\)$/m);
      expect(selftest.code).toBe(0);
    });

    it('keeps the device key and a .bak of the old configuration when run again', async () => {
      const configDir = join(dir, 'again');
      await ridergate(provisionArgs(configDir, ['--no-selftest']));
      const firstKey = readFileSync(join(configDir, 'device.key.json'), 'utf8');
      const firstConfig = readFileSync(join(configDir, 'config.yaml'), 'utf8');
      const second = await ridergate(provisionArgs(configDir, ['--no-selftest', '--gate', 'g2']));
      expect(second.code).toBe(0);
      expect(second.stdout).toMatch(/device key \S+ \(kept from before\)/);
      expect(readFileSync(join(configDir, 'device.key.json'), 'utf8')).toBe(firstKey);
      expect(readFileSync(join(configDir, 'config.yaml.bak'), 'utf8')).toBe(firstConfig);
      expect(parse(readFileSync(join(configDir, 'config.yaml'), 'utf8')).gate.id).toBe('g2');
    });

    it('doctor names a wrong password and an ACL that refuses the topic, each with its fix', async () => {
      const configDir = join(dir, 'wrong');
      await ridergate(provisionArgs(configDir, ['--no-selftest']));
      const configFile = join(configDir, 'config.yaml');
      writeFileSync(join(configDir, 'mqtt-password'), 'not-the-password\n');
      const wrong = await ridergate(['doctor', '--config', configFile, '--json', '--user', 'root']);
      expect(wrong.code).toBe(1);
      expect(row(rowsOf(wrong.stdout), 'broker')).toMatchObject({
        status: 'fail',
        fix: expect.stringContaining('mqtt.username and the password in mqtt.passwordFile'),
      });

      writeFileSync(join(configDir, 'mqtt-password'), 'other-pass\n');
      const text = readFileSync(configFile, 'utf8').replace(
        'username: gate-g1',
        'username: stranger',
      );
      writeFileSync(configFile, text);
      const denied = await ridergate([
        'doctor',
        '--config',
        configFile,
        '--json',
        '--user',
        'root',
      ]);
      expect(denied.code).toBe(1);
      expect(row(rowsOf(denied.stdout), 'broker')).toMatchObject({
        status: 'fail',
        fix: 'let this user read and write {prefix}/{site}/{gate}/# in the broker ACL',
      });
    });

    it('refuses to provision without a terminal when a required flag is missing (exit 2)', async () => {
      const run = await ridergate([
        'provision',
        '--config-dir',
        join(dir, 'none'),
        '--site',
        'north',
      ]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('missing --gate (Gate id)');
      expect(run.stderr).toContain('missing --broker-url');
      expect(run.stderr).toContain('missing --root-key');
      expect(run.stderr).toContain('missing --trust');
    });

    it('refuses a trust list that does not verify with the given root key', async () => {
      mkdirSync(join(dir, 'other-keys'));
      const other = await writeIssuerAndTrust(join(dir, 'other-keys'), 'eats');
      const configDir = join(dir, 'badtrust');
      const run = await ridergate(
        provisionArgs(configDir, ['--no-selftest', '--trust', other.trustFile]),
      );
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(
        `--trust "${other.trustFile}": ${other.trustFile}: the signature does not verify with the fleet root key`,
      );
    });

    it('doctor points at a misspelled key in the provisioned file, with its line', async () => {
      const configDir = join(dir, 'typo');
      await ridergate(provisionArgs(configDir, ['--no-selftest']));
      const configFile = join(configDir, 'config.yaml');
      writeFileSync(
        configFile,
        readFileSync(configFile, 'utf8').replace('relay:\n', 'relay:\n  pulseMS: 500\n'),
      );
      const run = await ridergate(['doctor', '--config', configFile]);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(
        /relay\.pulseMS: unknown setting \(got 500\); did you mean relay\.pulseMs\? \(.*config\.yaml line \d+\)/,
      );
    });
  },
);
