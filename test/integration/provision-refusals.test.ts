import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli, writeIssuerAndTrust } from '../helpers/daemon.js';

/** Runs the CLI without a terminal (answers from flags only) in `cwd`. */
const ridergate = (args: string[], cwd?: string) => runCli(args, cwd === undefined ? {} : { cwd });

const pem = (what: string) => `-----BEGIN ${what}-----\nMIIB\n-----END ${what}-----\n`;

describe('provision refuses flags it would misuse or drop (exit 2, nothing written)', () => {
  let dir: string;
  let keys: Awaited<ReturnType<typeof writeIssuerAndTrust>>;
  let rootPrivateFile: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-provision-refusals-'));
    keys = await writeIssuerAndTrust(dir, 'eats');
    rootPrivateFile = join(dir, 'root.key.json');
    writeFileSync(join(dir, 'pw.txt'), 'pw-1\n');
    writeFileSync(join(dir, 'ca.pem'), pem('CERTIFICATE'));
    writeFileSync(join(dir, 'key.pem'), pem('PRIVATE KEY'));
    writeFileSync(join(dir, 'ec-key.pem'), pem('EC PRIVATE KEY'));
    writeFileSync(join(dir, 'csr.pem'), pem('CERTIFICATE REQUEST'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Provision by flags into `configDir`, without the selftest. */
  const provision = (configDir: string, over: string[], cwd?: string) =>
    ridergate(
      [
        'provision',
        '--config-dir',
        configDir,
        '--site',
        'north',
        '--gate',
        'g1',
        '--broker-url',
        'mqtt://127.0.0.1:1',
        '--root-key',
        keys.rootKeyFile,
        '--trust',
        keys.trustFile,
        '--scanner-driver',
        'sim',
        '--relay-driver',
        'sim',
        '--store-path',
        join(dir, 'gate.db'),
        '--no-selftest',
        ...over,
      ],
      cwd,
    );

  it('refuses the fleet root private key and writes no root.pub.json', async () => {
    const configDir = join(dir, 'private-root');
    const run = await provision(configDir, ['--root-key', rootPrivateFile]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `--root-key "${rootPrivateFile}": ${rootPrivateFile}: holds a private key ("d"); give the public key (the .pub.json file), and treat that private key as leaked if it was copied anywhere`,
    );
    expect(existsSync(configDir)).toBe(false);
  });

  it('copies only the public members of the root key', async () => {
    const configDir = join(dir, 'public-root');
    const run = await provision(configDir, []);
    expect(run.code).toBe(0);
    const copied = JSON.parse(readFileSync(join(configDir, 'root.pub.json'), 'utf8'));
    expect(copied).not.toHaveProperty('d');
    expect(copied).toEqual(JSON.parse(readFileSync(keys.rootKeyFile, 'utf8')));
  });

  it.each([
    [['--password', 'pw-1'], '--password needs --username'],
    [['--password-file', 'PW'], '--password-file needs --username'],
    [['--key-file', 'KEY'], '--key-file needs --cert-file'],
    [['--cert-file', 'CA'], 'missing --key-file (Client certificate key file (PEM))'],
    [['--scanner-host', '192.0.2.10'], '--scanner-host needs --scanner-driver tcp'],
    [['--scanner-path', '/dev/ttyACM0'], '--scanner-path needs --scanner-driver serial'],
    [['--password', 'a', '--password-file', 'PW', '--username', 'u'], 'give --password or'],
  ])('refuses %j without what it needs: %s', async (flags, message) => {
    const configDir = join(dir, 'needs');
    const files: Record<string, string> = {
      PW: join(dir, 'pw.txt'),
      KEY: join(dir, 'key.pem'),
      CA: join(dir, 'ca.pem'),
    };
    const run = await provision(
      configDir,
      flags.map((f) => files[f] ?? f),
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr).not.toContain('pw-1');
    expect(existsSync(configDir)).toBe(false);
  });

  it('refuses a CA or client certificate file holding a private key or no certificate', async () => {
    const configDir = join(dir, 'pem');
    const ca = await provision(configDir, ['--ca-file', join(dir, 'key.pem')]);
    expect(ca.code).toBe(2);
    expect(ca.stderr).toContain(
      `--ca-file "${join(dir, 'key.pem')}": ${join(dir, 'key.pem')}: holds a private key; give the certificate only`,
    );
    const csr = await provision(configDir, ['--ca-file', join(dir, 'csr.pem')]);
    expect(csr.code).toBe(2);
    expect(csr.stderr).toContain(
      `--ca-file "${join(dir, 'csr.pem')}": ${join(dir, 'csr.pem')}: holds no certificate (no -----BEGIN CERTIFICATE----- line)`,
    );
    const cert = await provision(configDir, [
      ...['--username', 'u', '--cert-file', join(dir, 'ec-key.pem')],
      ...['--key-file', join(dir, 'ec-key.pem')],
    ]);
    expect(cert.code).toBe(2);
    expect(cert.stderr).toContain(`--cert-file "${join(dir, 'ec-key.pem')}"`);
    expect(cert.stderr).toContain('holds a private key');
    expect(existsSync(configDir)).toBe(false);
  });

  it('refuses a --key-file that holds no private key', async () => {
    const configDir = join(dir, 'no-key');
    const run = await provision(configDir, [
      ...['--cert-file', join(dir, 'ca.pem'), '--key-file', join(dir, 'ca.pem')],
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `--key-file "${join(dir, 'ca.pem')}": ${join(dir, 'ca.pem')}: holds no private key`,
    );
    expect(existsSync(configDir)).toBe(false);
  });

  it('takes a certificate and its key, and writes both', async () => {
    const configDir = join(dir, 'client-tls');
    const run = await provision(configDir, [
      ...['--cert-file', join(dir, 'ca.pem'), '--key-file', join(dir, 'ec-key.pem')],
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(readFileSync(join(configDir, 'mqtt-key.pem'), 'utf8')).toBe(pem('EC PRIVATE KEY'));
  });

  it('refuses an empty --config-dir and writes nothing in the current folder', async () => {
    const cwd = join(dir, 'cwd');
    mkdirSync(cwd);
    const run = await provision('', [], cwd);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('ridergate: --config-dir: the path is empty; name a folder\n');
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('checks the scanner profile with the sim driver too, and keeps a good one', async () => {
    const bad = await provision(join(dir, 'bad-profile'), ['--scanner-profile', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--scanner-profile "nope"');
    expect(existsSync(join(dir, 'bad-profile'))).toBe(false);

    const configDir = join(dir, 'sim-profile');
    const good = await provision(configDir, ['--scanner-profile', 'generic-cdc-cr']);
    expect(good.code).toBe(0);
    const config = parse(readFileSync(join(configDir, 'config.yaml'), 'utf8'));
    expect(config.scanner).toEqual({ driver: 'sim', profile: 'generic-cdc-cr', path: 'sim' });
  });
});
