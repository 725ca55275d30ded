import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cliPath, writeIssuerAndTrust } from '../helpers/daemon.js';
import { waitUntil } from '../helpers/pty.js';

/** util-linux `script` runs a command on a pseudo-terminal, as a technician's SSH session. */
const scriptMissing = spawnSync('script', ['--version'], { stdio: 'ignore' }).status !== 0;

describe.skipIf(scriptMissing)('provision on a terminal', () => {
  let dir: string;
  let keys: Awaited<ReturnType<typeof writeIssuerAndTrust>>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-provision-tty-'));
    keys = await writeIssuerAndTrust(dir, 'eats');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('asks each question with its default, re-asks a bad answer and hides the password', async () => {
    const configDir = join(dir, 'etc');
    const command = [
      process.execPath,
      cliPath(),
      'provision',
      '--config-dir',
      configDir,
      '--no-selftest',
      '--store-path',
      join(dir, 'gate.db'),
    ]
      .map((a) => `'${a}'`)
      .join(' ');
    const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    child.stdout.on('data', (c: Buffer) => {
      screen += c.toString('utf8');
    });
    const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const dialogue: [string, string][] = [
      ['Site id: ', 'North Park'],
      ['is not a site id', 'north'],
      ['Gate id: ', 'g7'],
      ['Broker URL (mqtts://host:8883): ', 'mqtt://broker.example:1883'],
      ['Broker user name (empty: none): ', 'gate-g7'],
      ['Broker password (empty: none): ', 'hunter2-secret'],
      ['Broker CA certificate file', ''],
      ['Client certificate file', ''],
      ['Fleet root public key file (root.pub.json): ', keys.rootKeyFile],
      ['First trust list file (signed JWS): ', keys.trustFile],
      ['Scanner connection (serial, tcp, sim) [serial]: ', 'sim'],
      ['Scanner profile (empty: 9600 8N1, CR or LF): ', ''],
      ['Relay driver (onoff, sim) [onoff]: ', ''],
      ['Relay board profile', 'relay-1ch-active-low'],
      [`Event database file [${join(dir, 'gate.db')}]: `, ''],
    ];
    let seen = 0;
    // A prompt that never comes must not leave the session behind.
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    for (const [prompt, answer] of dialogue) {
      await waitUntil(() => screen.indexOf(prompt, seen) >= 0, `prompt "${prompt}"`, {
        timeoutMs: 15_000,
      });
      seen = screen.indexOf(prompt, seen) + prompt.length;
      child.stdin.write(`${answer}\r`);
    }
    expect(await exit).toBe(0);
    clearTimeout(guard);
    expect(screen).toContain('"North Park" is not a site id');
    expect(screen).not.toContain('hunter2-secret');
    expect(screen).toMatch(/device key \S+ \(new\)/);
    const config = parse(readFileSync(join(configDir, 'config.yaml'), 'utf8'));
    expect(config).toMatchObject({
      gate: { site: 'north', id: 'g7' },
      relay: { driver: 'onoff', profile: 'relay-1ch-active-low' },
      mqtt: { url: 'mqtt://broker.example:1883', username: 'gate-g7' },
    });
    expect(readFileSync(join(configDir, 'mqtt-password'), 'utf8')).toBe('hunter2-secret\n');
  }, 90_000);
});
