import { chmodSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SerialScanner, type SerialScannerOptions } from '../../src/scanner/serial-scanner.js';
import type { Scan } from '../../src/scanner/types.js';
import { PtyPair, socatAvailable, waitUntil } from '../helpers/pty.js';

const T = 'RP1:6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEPWK G2EP4J0B';
const hasSocat = socatAvailable();
/** Root opens any device whatever its mode, so it cannot see a permission denial. */
const isRoot = process.getuid?.() === 0;

if (!hasSocat) {
  console.warn(
    'serial-scanner integration tests skipped: socat is not installed (apt install socat)',
  );
}

/** A pino logger whose lines are parsed back into objects. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

describe.skipIf(!hasSocat)('SerialScanner on a real pseudo-terminal', () => {
  let dir: string;
  let pty: PtyPair;
  let scanner: SerialScanner | undefined;
  let scans: Scan[];
  let lines: Record<string, unknown>[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-scanner-'));
    pty = new PtyPair(dir);
    scans = [];
  });

  afterEach(async () => {
    await scanner?.stop();
    scanner = undefined;
    await pty.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function startScanner(overrides: Partial<SerialScannerOptions> = {}): Promise<void> {
    const captured = capturingLogger();
    lines = captured.lines;
    scanner = new SerialScanner(
      {
        path: pty.a,
        baudRate: 9600,
        terminator: 'auto',
        maxLength: 1024,
        dedupeMs: 0,
        reconnectMinMs: 50,
        reconnectMaxMs: 200,
        ...overrides,
      },
      captured.log,
    );
    await scanner.start((scan) => scans.push(scan));
  }

  const texts = () => scans.map((s) => s.text);
  const connectedLogs = () => lines.filter((l) => l.msg === 'scanner connected');

  it('reads a token whose CRLF is split across writes, and two tokens in one write', async () => {
    await pty.start();
    await startScanner();
    expect(scanner?.stats().connected).toBe(true);

    pty.write(T.slice(0, 10));
    pty.write(`${T.slice(10)}\r`);
    pty.write('\n');
    await waitUntil(() => scans.length >= 1, 'first scan');
    pty.write('T1\r\nT2\r\n');
    await waitUntil(() => scans.length >= 3, 'two more scans');

    expect(texts()).toEqual([T, 'T1', 'T2']);
    expect(scans[0]?.source).toBe(pty.a);
    expect(scanner?.stats()).toMatchObject({ connected: true, frames: 3, reconnects: 0 });
  });

  it('connects to a device that appears after start, logging one warning meanwhile', async () => {
    await startScanner();
    expect(scanner?.stats().connected).toBe(false);
    await waitUntil(() => lines.length > 0, 'first log line');
    await new Promise((resolve) => setTimeout(resolve, 300)); // let several retries fail

    await pty.start();
    await waitUntil(() => scanner?.stats().connected === true, 'scanner connected');
    pty.write(`${T}\r`);
    await waitUntil(() => scans.length === 1, 'scan after late connect');

    expect(texts()).toEqual([T]);
    const warnings = lines.filter((l) => l.msg === 'scanner not available, retrying');
    expect(warnings).toEqual([expect.objectContaining({ level: 40, reason: 'ENOENT' })]);
    expect(connectedLogs()).toHaveLength(1);
  });

  it('reconnects after the device goes away and comes back, dropping the half line', async () => {
    await pty.start();
    await startScanner();
    pty.write('HALF-LINE-CUT-BY-UNPLUG');

    await pty.stop();
    await waitUntil(() => scanner?.stats().connected === false, 'scanner disconnected');
    await pty.start();
    await waitUntil(() => scanner?.stats().connected === true, 'scanner reconnected');
    pty.write(`${T}\r`);
    await waitUntil(() => scans.length === 1, 'scan after reconnect');

    expect(texts()).toEqual([T]);
    expect(scanner?.stats().reconnects).toBe(1);
    const retrying = (l: Record<string, unknown>) => l.msg === 'scanner not available, retrying';
    expect(lines.filter((l) => !retrying(l)).map((l) => l.msg)).toEqual([
      'scanner connected',
      'scanner disconnected',
      'scanner connected',
    ]);
    // One line per change of state, not one per failed attempt.
    expect(lines.filter(retrying).length).toBeLessThanOrEqual(2);
  });

  it('stops cleanly while still retrying, leaving no timer behind', async () => {
    await startScanner({ reconnectMinMs: 50, reconnectMaxMs: 100 });
    await scanner?.stop();
    const logged = lines.length;
    await pty.start();
    await new Promise((resolve) => setTimeout(resolve, 300)); // would retry twice if alive
    expect(scanner?.stats().connected).toBe(false);
    expect(lines).toHaveLength(logged);
  });

  // Root bypasses file permissions, so as root this cannot be provoked: the message and the
  // slow retry are covered by test/unit/scanner/serial-scanner-retry.test.ts instead.
  it.skipIf(isRoot)(
    'reports a device it may not open as permission denied, then connects once allowed (S8)',
    async () => {
      await pty.start();
      const device = realpathSync(pty.a);
      // 000, not 600: socat ran as this same user, which owns the pty.
      chmodSync(device, 0o000);
      await startScanner({ reconnectMinMs: 50, reconnectMaxMs: 300 });
      expect(scanner?.stats().connected).toBe(false);

      const denied = lines.filter((l) => l.msg === 'scanner permission denied');
      expect(denied).toEqual([
        expect.objectContaining({ level: 40, reason: 'EACCES', retryMs: 300 }),
      ]);
      expect(denied[0]?.detail).toContain(`cannot open ${pty.a}: permission denied`);

      chmodSync(device, 0o600);
      await waitUntil(() => scanner?.stats().connected === true, 'scanner connected');
      pty.write(`${T}\r`);
      await waitUntil(() => scans.length === 1, 'scan once allowed');
      expect(lines.map((l) => l.msg)).toEqual(['scanner permission denied', 'scanner connected']);
    },
  );
});
