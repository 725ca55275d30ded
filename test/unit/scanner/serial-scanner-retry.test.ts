import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SerialScanner, type SerialScannerOptions } from '../../../src/scanner/serial-scanner.js';

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
  return { log: pino({ level: 'debug' }, sink), lines };
}

/** An access probe failing as fs.accessSync does, with `code`. */
function failingProbe(code: string) {
  const calls: string[] = [];
  const probeAccess = (path: string) => {
    calls.push(path);
    throw Object.assign(new Error(`${code}: ${path}`), { code });
  };
  return { probeAccess, calls };
}

const permission = {
  stat: () => ({ gid: 20, mode: 0o20660 }),
  readGroupFile: () => 'dialout:x:20:\n',
  userName: () => 'ridergate',
};

describe('SerialScanner when the device cannot be opened', () => {
  let dir: string;
  let scanner: SerialScanner | undefined;
  let options: SerialScannerOptions;

  beforeEach(() => {
    // Only the retry timer is faked: serialport's open still runs for real (and fails).
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    dir = mkdtempSync(join(tmpdir(), 'ridergate-scanner-retry-'));
    options = {
      path: join(dir, 'ttyACM0'), // never created: every real open fails
      baudRate: 9600,
      terminator: 'auto',
      maxLength: 1024,
      dedupeMs: 0,
      reconnectMinMs: 50,
      reconnectMaxMs: 5_000,
    };
  });

  afterEach(async () => {
    await scanner?.stop();
    scanner = undefined;
    vi.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs "scanner permission denied" once with the fix, and retries only every reconnectMaxMs (S8)', async () => {
    const { log, lines } = capturingLogger();
    const probe = failingProbe('EACCES');
    scanner = new SerialScanner(options, log, { probeAccess: probe.probeAccess, permission });
    await scanner.start(() => {});

    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        component: 'scanner',
        msg: 'scanner permission denied',
        reason: 'EACCES',
        group: 'dialout',
        retryMs: 5_000,
        detail: `cannot open ${options.path}: permission denied; add the service user to the group that owns it (dialout): usermod -aG dialout ridergate, then restart the service`,
      }),
    ]);
    expect(scanner.stats().connected).toBe(false);

    // No fast first retry: the one pending timer fires at reconnectMaxMs, not before.
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(4_999);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1);
    expect(vi.getTimerCount()).toBe(0); // the second attempt is under way
  });

  it('stays quiet while the same permission problem persists', async () => {
    const { log, lines } = capturingLogger();
    const probe = failingProbe('EACCES');
    scanner = new SerialScanner(options, log, { probeAccess: probe.probeAccess, permission });
    await scanner.start(() => {});
    for (let attempt = 2; attempt <= 4; attempt += 1) {
      vi.advanceTimersByTime(5_000);
      await vi.waitUntil(() => probe.calls.length === attempt && vi.getTimerCount() === 1);
    }
    expect(lines.map((l) => l.msg)).toEqual(['scanner permission denied']);
  });

  it('retries a missing device quickly, with backoff from reconnectMinMs', async () => {
    const { log, lines } = capturingLogger();
    const probe = failingProbe('ENOENT');
    scanner = new SerialScanner(options, log, { probeAccess: probe.probeAccess, permission });
    await scanner.start(() => {});
    expect(lines).toEqual([
      expect.objectContaining({ msg: 'scanner not available, retrying', reason: 'ENOENT' }),
    ]);
    vi.advanceTimersByTime(50);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('clamps reconnectMinMs above reconnectMaxMs and says so', async () => {
    const { log, lines } = capturingLogger();
    const probe = failingProbe('ENOENT');
    scanner = new SerialScanner({ ...options, reconnectMinMs: 9_000, reconnectMaxMs: 1_000 }, log, {
      probeAccess: probe.probeAccess,
      permission,
    });
    await scanner.start(() => {});
    expect(lines[0]).toMatchObject({
      level: 40,
      msg: 'scanner reconnectMinMs above reconnectMaxMs, clamped',
      reconnectMinMs: 9_000,
      reconnectMaxMs: 1_000,
      usedMinMs: 1_000,
    });
    vi.advanceTimersByTime(999);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});
