import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SimRelay } from '../../../src/gpio/sim-relay.js';
import { silentLogger } from '../../../src/log.js';
import { checkRelayClick, SELFTEST_PULSE_MS } from '../../../src/provision/checks/relay-check.js';
import { checkScanRead } from '../../../src/provision/checks/scan-check.js';
import { allPassed, formatTable } from '../../../src/provision/report.js';
import { SimScanner } from '../../../src/scanner/sim-scanner.js';
import { issueToken } from '../../../src/token/issue.js';
import { readPrivateKey } from '../../../src/token/keys.js';
import { writeIssuerAndTrust } from '../../helpers/daemon.js';
import { checkInput, fakeSystem } from './check-fixture.js';

const log = silentLogger();
const system = fakeSystem(mkdtempSync(join(tmpdir(), 'ridergate-selftest-')));
const input = () => checkInput(system);

describe('selftest relay click', () => {
  it('pulses once, then records what the technician answered', async () => {
    const relay = new SimRelay(log);
    const asked: string[] = [];
    const yes = await checkRelayClick(
      input(),
      async (q) => {
        asked.push(q);
        return true;
      },
      log,
      relay,
    );
    expect(yes).toMatchObject({ status: 'ok', detail: 'pulsed BCM pin 17 (sim); click confirmed' });
    expect(asked).toEqual([
      `The relay on BCM pin 17 (sim) was just pulsed for ${SELFTEST_PULSE_MS} ms. Did you hear or see it click?`,
    ]);
    expect(relay.isActive()).toBe(false);

    const no = await checkRelayClick(input(), async () => false, log, new SimRelay(log));
    expect(no).toMatchObject({ status: 'fail', fix: expect.stringContaining('relay.activeLow') });
  });

  it('reports the confirmation as skipped when nobody can be asked', async () => {
    const result = await checkRelayClick(input(), async () => undefined, log, new SimRelay(log));
    expect(result).toEqual({
      check: 'relay',
      status: 'skip',
      detail: `pulsed BCM pin 17 (sim) for ${SELFTEST_PULSE_MS} ms; not confirmed (no terminal to ask, no --yes)`,
    });
  });
});

describe('selftest scan read', () => {
  it('shows what was read and the verdict a gate would give', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ridergate-scan-check-'));
    const keys = await writeIssuerAndTrust(dir, 'eats');
    const withTrust = checkInput(system, {
      trust: { rootKeyFile: keys.rootKeyFile, file: keys.trustFile },
    });
    const key = readPrivateKey(keys.privateFile);
    const now = Math.floor(system.nowMs() / 1000);
    const token = issueToken({
      privateKey: key.key,
      kid: key.kid,
      alg: key.alg,
      claims: {
        iss: 'eats',
        sub: 'rider-1',
        iat: now,
        exp: now + 120,
        cti: new Uint8Array([0xc1]),
      },
    }).text;

    const read = async (text: string) => {
      const scanner = new SimScanner({ ...withTrust.config.scanner }, log);
      const lines: string[] = [];
      const pending = checkScanRead(withTrust, 10_000, log, (l) => lines.push(l), scanner);
      await Promise.resolve();
      scanner.feed(`${text}\r`);
      return { result: await pending, lines };
    };
    const good = await read(token);
    expect(good.lines).toEqual(['Scan any QR code within 10 s ...']);
    expect(good.result.status).toBe('ok');
    expect(good.result.detail).toMatch(
      /^read \d+ chars "RP1:.*": token valid for site north \(iss eats, cti c1\)$/,
    );
    expect(good.result.detail).not.toContain(token);
    const other = await read('HELLO-QR');
    expect(other.result).toMatchObject({ status: 'ok' });
    expect(other.result.detail).toMatch(/^read 8 chars "HELLO-QR": not admitted: malformed/);
  });

  it('fails with the scanner settings to check when nothing is read in time', async () => {
    const scanner = new SimScanner({ ...input().config.scanner }, log);
    const result = await checkScanRead(input(), 50, log, () => undefined, scanner);
    expect(result).toMatchObject({
      status: 'fail',
      detail: 'nothing read within 0 s on sim',
      fix: expect.stringContaining('baud rate'),
    });
  });
});

describe('the result table', () => {
  it('shows each fix under its row and passes with warnings but not with a failure', () => {
    const rows = [
      {
        check: 'clock',
        status: 'warn' as const,
        detail: 'not synchronised',
        fix: 'timedatectl set-ntp true',
      },
      { check: 'broker', status: 'ok' as const, detail: 'round trip' },
    ];
    expect(formatTable(rows)).toBe(
      [
        'CHECK   STATUS  DETAIL',
        'clock   WARN    not synchronised',
        '                fix: timedatectl set-ntp true',
        'broker  OK      round trip',
        'all checks passed (1 warning(s))',
        '',
      ].join('\n'),
    );
    expect(allPassed(rows)).toBe(true);
    expect(allPassed([...rows, { check: 'x', status: 'fail', detail: 'd', fix: 'f' }])).toBe(false);
  });
});
