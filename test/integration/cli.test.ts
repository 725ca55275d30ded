import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { cliPath, exited } from '../helpers/daemon.js';
import { PtyPair, socatAvailable, waitUntil } from '../helpers/pty.js';

/** Writes a gate configuration with simulated scanner and relay; `over` adds or replaces sections. */
function writeSimConfig(
  file: string,
  store: string,
  rootKeyFile: string,
  over: Record<string, unknown> = {},
): string {
  writeFileSync(
    file,
    stringify({
      gate: { site: 's1', id: 'g1' },
      scanner: { driver: 'sim' },
      relay: { driver: 'sim' },
      store: { path: store },
      trust: { rootKeyFile },
      ...over,
    }),
  );
  return file;
}

function ridergate(args: string[], timeoutMs = 30_000) {
  const result = spawnSync(process.execPath, [cliPath(), ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the ridergate command line', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('generates a key pair, issues a token from it and verifies it against a trust list', () => {
    const gen = ridergate(['keys', 'gen', '--name', 'eats', '--out', dir, '--kid', 'eats-2026']);
    expect(gen.code).toBe(0);
    expect(gen.stdout).toContain('kid         eats-2026');
    expect(statSync(join(dir, 'eats.key.json')).mode & 0o777).toBe(0o600);

    const jwk: unknown = JSON.parse(readFileSync(join(dir, 'eats.pub.json'), 'utf8'));
    const trust = join(dir, 'trust.yaml');
    writeFileSync(
      trust,
      stringify({
        version: 1,
        issuers: [{ iss: 'eats', keys: [{ kid: 'eats-2026', alg: 'EdDSA', jwk }] }],
      }),
    );

    const qr = join(dir, 'token.png');
    const issued = ridergate([
      'token',
      'issue',
      '--key',
      join(dir, 'eats.key.json'),
      '--iss',
      'eats',
      '--sub',
      'r-1',
      '--sites',
      'north,south',
      '--qr',
      qr,
    ]);
    expect(issued.code).toBe(0);
    const text = issued.stdout.trim();
    expect(text).toMatch(/^RP1:[0-9A-Z $%*+\-./:]+$/);
    expect(issued.stderr).toMatch(/QR version \d+-M written to/);
    expect(readFileSync(qr).subarray(1, 4).toString()).toBe('PNG');

    const ok = ridergate(['token', 'verify', text, '--trust', trust, '--site', 'north', '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      ok: true,
      claims: { iss: 'eats', sub: 'r-1', sites: ['north', 'south'] },
    });

    const elsewhere = ridergate([
      'token',
      'verify',
      text,
      '--trust',
      trust,
      '--site',
      'west',
      '--json',
    ]);
    expect(elsewhere.code).toBe(1);
    expect(JSON.parse(elsewhere.stdout)).toMatchObject({ ok: false, reason: 'wrong_site' });
  });

  it('rejects bad arguments with exit code 2 and says what was expected', () => {
    const alg = ridergate(['keys', 'gen', '--name', 'x', '--alg', 'RS256', '--out', dir]);
    expect(alg.code).toBe(2);
    expect(alg.stderr).toContain('--alg "RS256": expected EdDSA or ES256');
    const ttl = ridergate([
      'token',
      'issue',
      '--key',
      join(dir, 'nope.json'),
      '--iss',
      'a',
      '--sub',
      'b',
      '--ttl',
      '-5',
    ]);
    expect(ttl.code).not.toBe(0);
    expect(ridergate(['no-such-command']).code).toBe(2);
  });

  it('takes number flags only as decimal digits in range and folders that exist, exit 2 otherwise', () => {
    const cases: [string[], string][] = [
      [
        ['ops', '--port', '1e3', '--broker-ws', 'ws://127.0.0.1:9001'],
        '--port "1e3": expected a whole number from 0 to 65535',
      ],
      [
        ['ops', '--port', ' 8080', '--broker-ws', 'ws://127.0.0.1:9001'],
        '--port " 8080": expected a whole number from 0 to 65535',
      ],
      [
        ['ops', '--port', '', '--broker-ws', 'ws://127.0.0.1:9001'],
        '--port "": expected a whole number from 0 to 65535',
      ],
      [
        ['watch', '--max-gates', '0x10'],
        '--max-gates "0x10": expected a whole number from 1 to 100000',
      ],
      [['relay', 'pulse', '--ms', '5e2'], '--ms "5e2": expected whole milliseconds from 50 to'],
      [['devices', '--dir', join(dir, 'no-such-folder')], 'no-such-folder: no such folder'],
      [
        ['events', 'requeue', '--seq', '0', '--store', join(dir, 'none.db')],
        '--seq "0": expected a whole number from 1 to 9007199254740991',
      ],
    ];
    for (const [args, message] of cases) {
      const result = ridergate(args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toContain(message);
    }
  });

  it('refuses to run with an invalid configuration, naming each field, with exit code 78', () => {
    const config = join(dir, 'bad.yaml');
    writeFileSync(
      config,
      'gate: { site: s1, id: g1 }\nrelay: { pulseMs: 90000 }\nmqtt: { url: http://broker }\n',
    );
    const run = ridergate(['run', '--config', config]);
    expect(run.code).toBe(78);
    expect(run.stderr).toContain('relay.pulseMs: got 90000; must be <= 5000');
    expect(run.stderr).toContain('mqtt.url: got "http://broker"');
  });

  it('refuses to start, exit 78 and nothing created, when a broker TLS file is missing', () => {
    const keys = ridergate(['keys', 'gen', '--name', 'tlsroot', '--out', dir]);
    expect(keys.code).toBe(0);
    const store = join(dir, 'no-ca', 'gate.db');
    const ca = join(dir, 'no-such-ca.pem');
    const config = writeSimConfig(join(dir, 'no-ca.yaml'), store, join(dir, 'tlsroot.pub.json'), {
      mqtt: { url: 'mqtts://127.0.0.1:1', caFile: ca },
    });
    const run = ridergate(['run', '--config', config]);
    expect(run.code).toBe(78);
    expect(run.stderr).toBe(
      `ridergate: the gate could not start: ${ca}: cannot read the mqtt.caFile PEM file (no such file)\n`,
    );
    expect(run.stdout).not.toContain('"stack"');
    expect(() => statSync(store)).toThrow();
  });

  it('refuses, with exit 2 and the reason, what would hang or sign nonsense', () => {
    expect(ridergate(['keys', 'gen', '--name', 'hang', '--out', dir]).code).toBe(0);
    const issue = (...flags: string[]) =>
      ridergate(['token', 'issue', '--key', join(dir, 'hang.key.json'), ...flags]);
    const emptyIss = issue('--iss', '', '--sub', 'r1');
    expect([emptyIss.code, emptyIss.stderr, emptyIss.stdout]).toEqual([
      2,
      'ridergate: --iss: expected 1 to 256 characters (got 0)\n',
      '',
    ]);
    const longSub = issue('--iss', 'a', '--sub', 'x'.repeat(300));
    expect(longSub.code).toBe(2);
    expect(longSub.stderr).toContain('--sub: expected 1 to 256 characters (got 300)');

    const sites = issue('--iss', 'a', '--sub', 'r1', '--sites', 'north,,South Park');
    expect([sites.code, sites.stdout]).toEqual([2, '']);
    expect(sites.stderr).toContain('"" is not a site id');

    const fifo = join(dir, 'scan.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const image = ridergate(
      ['token', 'verify', '--image', fifo, '--jwk', join(dir, 'hang.pub.json')],
      10_000,
    );
    expect(image.code).toBe(2);
    expect(image.stderr).toContain(`--image ${fifo}: not a regular file`);

    const config = writeSimConfig(
      join(dir, 'sim-scan.yaml'),
      join(dir, 'sim-scan.db'),
      join(dir, 'hang.pub.json'),
    );
    const scan = ridergate(['scan', '--config', config, '--timeout', '2'], 10_000);
    expect(scan.code).toBe(2);
    expect(scan.stderr).toContain('sets scanner.driver sim, which reads nothing');
  });

  it('pulses a simulated relay for the configured time', () => {
    const config = join(dir, 'sim.yaml');
    writeFileSync(
      config,
      stringify({ gate: { site: 's1', id: 'g1' }, relay: { driver: 'sim', pulseMs: 120 } }),
    );
    const pulse = ridergate(['relay', 'pulse', '--config', config]);
    expect(pulse.code).toBe(0);
    expect(pulse.stdout).toMatch(/relay on BCM pin 17 \(sim\) was active for 1\d\d ms/);
  });

  it('runs the demo end to end and exits 0 when every case behaved as expected', () => {
    const demo = ridergate(['demo', '--dir', join(dir, 'demo')], 60_000);
    expect(demo.stderr).toBe('');
    expect(demo.code).toBe(0);
    for (const expected of [
      'admit',
      'reopen',
      'deny (expired)',
      'deny (bad_signature)',
      'deny (wrong_site)',
      'deny (malformed)',
      'deny (replayed)',
    ]) {
      expect(demo.stdout).toContain(`decision  ${expected},`);
    }
    expect(demo.stdout).toContain('summary   7 of 7 scans behaved as expected: OK');
  });

  it('says so when it runs the demo with the simulated scanner', () => {
    const demo = ridergate(['demo', '--sim', '--dir', join(dir, 'demo-sim')], 60_000);
    expect(demo.code).toBe(0);
    expect(demo.stdout).toContain('scanner    SIMULATED');
  });

  it.skipIf(!socatAvailable())(
    'reads scans from a serial scanner and shows what a gate would decide',
    async () => {
      const pty = new PtyPair(mkdtempSync(join(dir, 'scan-pty-')));
      await pty.start();
      try {
        const gen = ridergate(['keys', 'gen', '--name', 'scan', '--out', dir, '--kid', 'scan-1']);
        expect(gen.code).toBe(0);
        const jwk: unknown = JSON.parse(readFileSync(join(dir, 'scan.pub.json'), 'utf8'));
        const trust = join(dir, 'scan-trust.yaml');
        writeFileSync(
          trust,
          stringify({
            version: 1,
            issuers: [{ iss: 'eats', keys: [{ kid: 'scan-1', alg: 'EdDSA', jwk }] }],
          }),
        );
        const config = join(dir, 'scan.yaml');
        writeFileSync(
          config,
          stringify({
            gate: { site: 'north', id: 'g1' },
            scanner: { path: pty.a },
            trust: { file: trust },
          }),
        );
        const token = ridergate([
          'token',
          'issue',
          '--key',
          join(dir, 'scan.key.json'),
          '--iss',
          'eats',
          '--sub',
          'r-9',
        ]).stdout.trim();

        const child = spawn(
          process.execPath,
          [cliPath(), 'scan', '--config', config, '--count', '2', '--timeout', '20'],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let stdout = '';
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
        });
        await waitUntil(() => stdout.includes('waiting for 2 scan(s)'), 'scan command ready', {
          timeoutMs: 10_000,
        });
        pty.write(`${token}\r\n`);
        pty.write('hello\r\n');
        expect(await exited(child)).toBe(0);
        expect(stdout).toMatch(
          /scan \d+ chars "RP1:.*": token valid \(iss eats, cti [0-9a-f]{16}\)/,
        );
        expect(stdout).toContain('scan 5 chars "hello": deny: malformed');
      } finally {
        await pty.stop();
      }
    },
  );

  it('operations tools refuse bad targets, prefixes and URLs before signing, exit 2 naming the flag', () => {
    expect(ridergate(['keys', 'gen', '--name', 'opsk', '--out', dir]).code).toBe(0);
    const key = join(dir, 'opsk.key.json');
    const snapshot = join(dir, 'snapshot.json');
    writeFileSync(snapshot, '[]');
    const cmd = (...extra: string[]) => ['cmd', 'sign', '--key', key, '--cmd', 'open', ...extra];
    const rev = (...extra: string[]) => [
      ...['revocations', 'sign', '--key', key, '--snapshot', snapshot, '--seq', '1'],
      ...extra,
    ];
    const idRule = "1-64 of a-z, 0-9, '_' and '-', starting with a letter or digit";
    const cases: [string[], string][] = [
      [cmd('--site', ''), `--site "": expected a site id: ${idRule}`],
      [cmd('--site', 'North'), `--site "North": expected a site id: ${idRule}`],
      [cmd('--site', 'north', '--gate', ''), `--gate "": expected a gate id: ${idRule}`],
      [cmd('--site', 'north', '--gate', '_site'), '--gate "_site": expected a gate id'],
      [cmd('--site', 'north', '--url', 'mqtt://127.0.0.1:1'), '--url only applies with --publish'],
      [
        cmd('--site', 'north', '--publish', '--url', 'http://x'),
        '--url "http://x": scheme "http:" is not one of mqtt:',
      ],
      [cmd('--site', 'north', '--prefix', 'a/+'), '--prefix "a/+": expected a topic prefix'],
      [rev('--prefix', ''), '--prefix "": expected a topic prefix'],
      [rev('--publish', '--url', 'http://x'), '--url "http://x": scheme "http:" is not one of'],
      [rev('--url', 'mqtt://127.0.0.1:1'), '--url only applies with --publish'],
      [rev('--publish'), '--publish needs --url'],
      [['watch', '--url', 'http://x'], '--url "http://x": scheme "http:" is not one of mqtt:'],
    ];
    for (const [args, message] of cases) {
      const result = ridergate(args);
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({
        args,
        code: 2,
        stdout: '',
      });
      expect(result.stderr).toContain(`ridergate: ${message}`);
    }
  });

  it('a missing or unreadable file named on the command line of a tool is exit 2, naming the flag', () => {
    expect(ridergate(['keys', 'gen', '--name', 'opsf', '--out', dir]).code).toBe(0);
    const key = join(dir, 'opsf.key.json');
    const missing = join(dir, 'missing');
    const open = join(dir, 'open.key.json');
    writeFileSync(open, readFileSync(key));
    chmodSync(open, 0o644);
    const snapshot = join(dir, 'snapshot-f.json');
    writeFileSync(snapshot, '[]');
    const publish = ['--publish', '--url', 'mqtt://127.0.0.1:1', '--wait', '1'];
    const sign = ['cmd', 'sign', '--cmd', 'open', '--site', 'north'];
    const cases: [string[], string][] = [
      [[...sign, '--key', missing], `--key: ${missing}: cannot read the key file (no such file)`],
      [[...sign, '--key', open], `--key: ${open}: private key file has mode 0644`],
      [
        [...sign, '--key', key, ...publish, '--password-file', missing],
        `${missing}: cannot read the --password-file file (no such file)`,
      ],
      [
        ['revocations', 'sign', '--key', missing, '--snapshot', snapshot, '--seq', '1'],
        `--key: ${missing}: cannot read the key file (no such file)`,
      ],
      [
        ['revocations', 'sign', '--key', key, '--snapshot', missing, '--seq', '1'],
        `${missing}: cannot read the revocation file (no such file)`,
      ],
      [
        ['watch', '--password-file', missing],
        `${missing}: cannot read the --password-file file (no such file)`,
      ],
      [['watch', '--ca', missing], `${missing}: cannot read the --ca file (no such file)`],
      [
        ['token', 'issue', '--key', missing, '--iss', 'a', '--sub', 'b'],
        `--key: ${missing}: cannot read the key file (no such file)`,
      ],
      [['trust', 'sign', missing, '--key', key], `${missing}: cannot read the trust list`],
      [['trust', 'show', missing], `${missing}: cannot read the trust list (no such file)`],
    ];
    for (const [args, message] of cases) {
      const result = ridergate(args);
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({
        args,
        code: 2,
        stdout: '',
      });
      expect(result.stderr).toContain(`ridergate: ${message}`);
    }
  });

  it('signs a trust list with the root key, shows it, and shows what a gate stored', async () => {
    expect(ridergate(['keys', 'gen', '--name', 'root', '--out', dir]).code).toBe(0);
    expect(ridergate(['keys', 'gen', '--name', 'rot', '--out', dir, '--kid', 'rot-1']).code).toBe(
      0,
    );
    const jwk: unknown = JSON.parse(readFileSync(join(dir, 'rot.pub.json'), 'utf8'));
    expect(ridergate(['keys', 'gen', '--name', 'ops', '--out', dir, '--operator']).code).toBe(0);
    const opsJwk: unknown = JSON.parse(readFileSync(join(dir, 'ops.pub.json'), 'utf8'));
    const docFile = join(dir, 'fleet-trust.yaml');
    writeFileSync(
      docFile,
      stringify({
        version: 7,
        issuers: [
          {
            iss: 'eats',
            sites: ['north'],
            keys: [{ kid: 'rot-1', alg: 'EdDSA', jwk, notAfter: '2030-01-01T00:00:00Z' }],
          },
        ],
        operators: [{ kid: 'ops-1', alg: 'EdDSA', jwk: opsJwk, uses: ['revocations'] }],
      }),
    );
    const signed = join(dir, 'fleet-trust.jws');
    const sign = ridergate([
      'trust',
      'sign',
      docFile,
      '--key',
      join(dir, 'root.key.json'),
      '--out',
      signed,
    ]);
    expect(sign.code).toBe(0);
    expect(sign.stdout).toContain(`signed trust list version 7 written to ${signed}`);

    // A version JSON cannot hold exactly, or a site id no gate can have: refused, nothing written.
    const badDoc = join(dir, 'bad-trust.json');
    const badOut = join(dir, 'bad-trust.jws');
    for (const version of ['1e300', '9007199254740993']) {
      writeFileSync(
        badDoc,
        `{"version": ${version}, "issuers": [{"iss": "eats", "sites": ["North Park"], "keys": [{"kid": "rot-1", "alg": "EdDSA", "jwk": ${JSON.stringify(jwk)}}]}]}`,
      );
      const refused = ridergate([
        ...['trust', 'sign', badDoc, '--key', join(dir, 'root.key.json'), '--out', badOut],
      ]);
      expect(refused).toMatchObject({ code: 1, stdout: '' });
      expect(refused.stderr).toContain(`${badDoc}: the trust list is invalid:`);
      expect(refused.stderr).toMatch(
        /- version: \S+ is over the largest allowed, 9007199254740991/,
      );
      expect(refused.stderr).toContain('- issuers[0].sites[0]: "North Park" is not a site id');
      expect(() => statSync(badOut)).toThrow();
    }
    const noKey = ridergate(['trust', 'sign', docFile, '--key', join(dir, 'none.key.json')]);
    expect(noKey).toMatchObject({ code: 2, stdout: '' });
    expect(noKey.stderr).toContain(
      `--key: ${join(dir, 'none.key.json')}: cannot read the key file`,
    );

    const show = ridergate(['trust', 'show', signed, '--root', join(dir, 'root.pub.json')]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(
      'trust list version 7 (signature verified with the fleet root key)',
    );
    expect(show.stdout).toContain('issuer eats: max lifetime 300 s, sites north');
    expect(show.stdout).toMatch(/key rot-1 EdDSA {2}valid … to 2030-01-01T00:00:00.000Z {2}in use/);
    expect(show.stdout).toMatch(
      /operations key ops-1 EdDSA: signs revocations {2}valid … to … {2}in use/,
    );

    const token = ridergate([
      'token',
      'issue',
      '--key',
      join(dir, 'rot.key.json'),
      '--iss',
      'eats',
      '--sub',
      'r-7',
      '--sites',
      'north',
    ]).stdout.trim();
    const verified = ridergate([
      'token',
      'verify',
      token,
      '--trust',
      signed,
      '--root',
      join(dir, 'root.pub.json'),
      '--site',
      'north',
      '--json',
    ]);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, claims: { sub: 'r-7' } });

    const noRoot = ridergate(['trust', 'show', signed]);
    expect(noRoot.code).toBe(2);
    expect(noRoot.stderr).toContain(
      'needs the fleet root public key to check it; pass --root FILE',
    );
    const badRoot = ridergate(['trust', 'show', signed, '--root', join(dir, 'none.pub.json')]);
    expect(badRoot.code).toBe(2);
    expect(badRoot.stderr).toContain(`--root: ${join(dir, 'none.pub.json')}: cannot read the key`);
    const tampered = join(dir, 'tampered.jws');
    const [h, p, sig] = readFileSync(signed, 'utf8').trim().split('.');
    writeFileSync(tampered, `${h}.${p}.${sig?.startsWith('A') ? 'B' : 'A'}${sig?.slice(1)}`);
    const bad = ridergate(['trust', 'show', tampered, '--root', join(dir, 'root.pub.json')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('the signature does not verify with the fleet root key');

    const config = join(dir, 'stored.yaml');
    writeFileSync(
      config,
      stringify({
        gate: { site: 'north', id: 'g1' },
        scanner: { driver: 'sim' },
        relay: { driver: 'sim' },
        store: { path: join(dir, 'stored.db') },
        mqtt: { url: 'mqtt://127.0.0.1:1' },
        trust: { rootKeyFile: join(dir, 'root.pub.json'), file: signed },
        log: { level: 'info' },
      }),
    );
    const gate = spawn(process.execPath, [cliPath(), 'run', '--config', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    gate.stdout.on('data', (chunk: Buffer) => {
      log += chunk.toString();
    });
    await waitUntil(() => log.includes('"gate ready"'), 'gate ready', { timeoutMs: 10_000 });
    expect(log).toContain('"msg":"trust list in force"');
    gate.kill('SIGTERM');
    expect(await exited(gate)).toBe(0);
    const stored = ridergate(['trust', 'show', '--config', config]);
    expect(stored.code).toBe(0);
    expect(stored.stdout).toContain('trust list version 7 (signature verified');
  });

  it('never replaces a key pair by accident, and writes no token when its image cannot be written', () => {
    expect(ridergate(['keys', 'gen', '--name', 'keep', '--out', dir]).code).toBe(0);
    const before = readFileSync(join(dir, 'keep.key.json'), 'utf8');
    const again = ridergate(['keys', 'gen', '--name', 'keep', '--out', dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exist; choose another --name, or add --force');
    expect(readFileSync(join(dir, 'keep.key.json'), 'utf8')).toBe(before);
    expect(ridergate(['keys', 'gen', '--name', 'keep', '--out', dir, '--force']).code).toBe(0);
    expect(readFileSync(join(dir, 'keep.key.json'), 'utf8')).not.toBe(before);

    const intoFolder = ridergate([
      'token',
      'issue',
      '--key',
      join(dir, 'keep.key.json'),
      '--iss',
      'a',
      '--sub',
      'b',
      '--qr',
      dir,
    ]);
    expect(intoFolder.code).toBe(2);
    expect(intoFolder.stdout).toBe('');
    expect(intoFolder.stderr).toContain(`--qr: cannot write ${dir} (it is a folder)`);
    const outOnFile = ridergate([
      'keys',
      'gen',
      '--name',
      'x',
      '--out',
      join(dir, 'keep.key.json'),
    ]);
    expect(outOnFile.stderr).toContain('--out: cannot create the folder');
    expect(
      ridergate(['token', 'issue', '--key', '/dev/zero', '--iss', 'a', '--sub', 'b'], 10_000)
        .stderr,
    ).toContain('/dev/zero: not a regular file');
  });

  it('drives the relay safe with only a valid relay section, whatever else is wrong', () => {
    const config = join(dir, 'half-broken.yaml');
    writeFileSync(config, 'mqtt: { bogus: 1 }\nrelay: { driver: sim }\n');
    const off = ridergate(['relay', 'off', '--config', config]);
    expect(off.stderr).toBe('');
    expect(off.code).toBe(0);
    expect(off.stdout).toContain('relay driver is sim');
    const run = ridergate(['run', '--config', config]);
    expect(run.code).toBe(78);
    expect(run.stderr).toContain('mqtt.bogus: unknown setting');
  });

  it('refuses a token lifetime under a second or over a day, naming the limit (exit 2)', () => {
    const out = join(dir, 'ttl');
    expect(ridergate(['keys', 'gen', '--name', 'ttl', '--out', out]).code).toBe(0);
    const issue = (ttl: string) =>
      ridergate(
        ['token', 'issue', '--key', join(out, 'ttl.key.json'), '--iss', 'eats'].concat([
          '--sub',
          'r-1',
          `--ttl=${ttl}`,
        ]),
      );
    for (const ttl of ['0', '-5']) {
      const refused = issue(ttl);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('--ttl must be at least 1');
      expect(refused.stdout).toBe('');
    }
    const long = issue('90000');
    expect(long.code).toBe(2);
    expect(long.stderr).toContain('--ttl 90000: at most 86400 seconds (1 day)');
    expect(issue('86400').code).toBe(0);
  });

  it('says the ops port is in use and exits 1, a run-time failure, not bad usage', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const address = taken.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          [cliPath(), 'ops', '--port', String(port)].concat(['--broker-ws', 'ws://127.0.0.1:9001']),
          { stdio: ['ignore', 'ignore', 'pipe'] },
        );
        let stderr = '';
        child.stderr.on('data', (c: Buffer) => {
          stderr += c.toString();
        });
        void exited(child).then((code) => resolve({ code, stderr }));
      });
      expect(run.stderr).toBe(
        `ridergate: ops page: cannot listen on 127.0.0.1:${port}: port ${port} is already in use by another program; stop it or choose another --port (0: any free port)\n`,
      );
      expect(run.code).toBe(1);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
