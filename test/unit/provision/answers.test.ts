import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRidergateError } from '../../../src/errors.js';
import {
  type Asker,
  answersFromFlags,
  answersFromTerminal,
} from '../../../src/provision/answers.js';
import { writeFileAtomic } from '../../../src/provision/atomic-write.js';
import { writeIssuerAndTrust } from '../../helpers/daemon.js';

describe('provisioning answers', () => {
  let dir: string;
  let keys: Awaited<ReturnType<typeof writeIssuerAndTrust>>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-answers-'));
    keys = await writeIssuerAndTrust(dir, 'eats');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const required = () => ({
    site: 'north',
    gate: 'g1',
    brokerUrl: 'mqtts://broker.example:8883',
    rootKey: keys.rootKeyFile,
    trust: keys.trustFile,
  });

  it('takes flags, filling in the usual defaults', async () => {
    const answers = await answersFromFlags({ ...required(), scannerPath: '/dev/ttyACM0' });
    expect(answers).toMatchObject({
      ...required(),
      scannerDriver: 'serial',
      scannerPath: '/dev/ttyACM0',
      relayDriver: 'onoff',
      storePath: '/var/lib/ridergate/ridergate.db',
    });
  });

  it('names every missing flag and every bad value at once, never showing a password', async () => {
    const problems = await answersFromFlags({
      site: 'North Park',
      brokerUrl: 'http://broker',
      username: 'u',
      password: 'line one\nline two',
      scannerDriver: 'tcp',
      relayProfile: 'no-such-board',
    }).catch((err: unknown) => (isRidergateError(err, 'usage') ? err.message : String(err)));
    expect(problems).toContain('missing --gate (Gate id)');
    expect(problems).toContain('missing --root-key');
    expect(problems).toContain('missing --trust');
    expect(problems).toContain('missing --scanner-host');
    expect(problems).toContain('--site "North Park": "North Park" is not a site id');
    expect(problems).toContain(
      '--broker-url "http://broker": mqtt.url "http://broker": scheme "http:" is not one of',
    );
    expect(problems).toContain('--password (hidden): one line');
    expect(problems).toContain('--relay-profile "no-such-board"');
    expect(problems).not.toContain('line one');
  });

  it('refuses a flag whose question does not apply, naming what it needs', async () => {
    const problems = await answersFromFlags(
      { ...required(), password: 'pw-1', scannerHost: 'h', scannerDriver: 'serial' },
      { password: '--password-file' },
    ).catch((err: unknown) => (isRidergateError(err, 'usage') ? err.message : String(err)));
    expect(problems).toContain('--password-file needs --username');
    expect(problems).toContain('--scanner-host needs --scanner-driver tcp');
    expect(problems).not.toContain('pw-1');
  });

  it('says on a terminal that a flag is not used when its question does not apply', async () => {
    const said: string[] = [];
    // Enter for every question but the scanner driver (the ninth).
    const typed = [...Array(8).fill(''), 'sim', '', '', '', ''];
    const asker: Asker = {
      question: async () => typed.shift() ?? '',
      say: (line) => said.push(line),
    };
    const flags = { ...required(), password: 'pw-1', relayDriver: 'sim' };
    const answers = await answersFromTerminal(flags, asker, { password: '--password-file' });
    expect(said).toContain('  --password-file needs --username: not used');
    expect(answers).toMatchObject({ scannerDriver: 'sim', relayDriver: 'sim' });
    expect(answers.password).toBeUndefined();
    expect(typed).toEqual([]);
  });

  it('refuses a root key file holding the private key', async () => {
    const privateFile = keys.rootKeyFile.replace(/\.pub\.json$/, '.key.json');
    const problems = await answersFromFlags({ ...required(), rootKey: privateFile }).catch(
      (err: unknown) => (isRidergateError(err, 'usage') ? err.message : String(err)),
    );
    expect(problems).toContain(`--root-key "${privateFile}": ${privateFile}: holds a private key`);
  });

  it('asks again on a terminal until each answer is fine, showing why', async () => {
    const typed = [
      '',
      'North Park',
      'north',
      'g1',
      'mqtt://broker:1883',
      '',
      '',
      '',
      keys.rootKeyFile,
      join(dir, 'missing.jws'),
      keys.trustFile,
      'sim',
      'nope',
      'generic-cdc-cr',
      '',
      'relay-1ch-active-low',
      '',
    ];
    const said: string[] = [];
    const prompts: string[] = [];
    const asker: Asker = {
      question: async (prompt) => {
        prompts.push(prompt);
        return typed.shift() ?? '';
      },
      say: (line) => said.push(line),
    };
    const answers = await answersFromTerminal({}, asker);
    expect(answers).toMatchObject({
      site: 'north',
      gate: 'g1',
      scannerDriver: 'sim',
      scannerProfile: 'generic-cdc-cr',
      relayDriver: 'onoff',
      relayProfile: 'relay-1ch-active-low',
    });
    expect(said[0]).toBe('  an answer is needed here');
    expect(said[1]).toMatch(/"North Park" is not a site id/);
    expect(said[2]).toMatch(/missing\.jws: cannot read the trust list \(no such file\)/);
    expect(said.find((line) => line.includes('"nope"'))).toMatch(/^ {2}.*"nope"/);
    expect(prompts).toContain('Relay driver (onoff, sim) [onoff]: ');
    expect(said.join('\n')).toContain('  relay-1ch-active-low: 1-channel relay module');
    expect(typed).toEqual([]);
  });
});

describe('atomic configuration write', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-atomic-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces the file whole, keeps a .bak of the old one and sets the mode', async () => {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'old: 1\n');
    await writeFileAtomic(file, 'new: 2\n', { mode: 0o640, keepBackup: true });
    expect(readFileSync(file, 'utf8')).toBe('new: 2\n');
    expect(readFileSync(`${file}.bak`, 'utf8')).toBe('old: 1\n');
    expect(statSync(file).mode & 0o777).toBe(0o640);
  });

  it('leaves the old file untouched and no temporary file when the check refuses the new one', async () => {
    const file = join(dir, 'kept.yaml');
    writeFileSync(file, 'good: 1\n');
    await expect(
      writeFileAtomic(file, 'bad: 2\n', {
        mode: 0o640,
        keepBackup: true,
        verify: (temporary) => {
          expect(readFileSync(temporary, 'utf8')).toBe('bad: 2\n');
          throw new Error('refused');
        },
      }),
    ).rejects.toThrow('refused');
    expect(readFileSync(file, 'utf8')).toBe('good: 1\n');
    expect(existsSync(`${file}.bak`)).toBe(false);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});
