import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventLoopLag, StoreProbe, scannerCheck } from '../../../src/health/checks.js';
import { SystemdNotifier, watchdogIntervalMs } from '../../../src/health/systemd-notify.js';
import { type HealthCheck, Watchdog } from '../../../src/health/watchdog.js';
import type { ScannerStats } from '../../../src/scanner/types.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

/** A check whose verdict the test sets. */
function switchable(name: string): HealthCheck & { problem: string | undefined } {
  const check = { name, problem: undefined as string | undefined, check: () => check.problem };
  return check;
}

describe('Watchdog', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('feeds systemd every interval only while every check passes, and logs each change once', () => {
    const { log, lines } = capture();
    const store = switchable('store');
    const pings: number[] = [];
    const changes: (string[] | undefined)[] = [];
    const dog = new Watchdog(
      15_000,
      [switchable('eventLoop'), store],
      { ping: () => pings.push(Date.now()), onChange: (f) => changes.push(f) },
      log,
    );

    dog.start();
    vi.advanceTimersByTime(45_000);
    expect(pings).toHaveLength(4); // at start, then at 15, 30 and 45 s

    store.problem = 'store has not answered for 61 s';
    vi.advanceTimersByTime(60_000);
    expect(pings).toHaveLength(4);
    expect(dog.verdict()).toEqual(['store: store has not answered for 61 s']);

    store.problem = undefined;
    vi.advanceTimersByTime(15_000);
    expect(pings).toHaveLength(5);
    expect(changes).toEqual([['store: store has not answered for 61 s'], undefined]);
    expect(lines.map((l) => l.msg)).toEqual([
      'gate unhealthy, watchdog not fed',
      'gate healthy again, watchdog fed',
    ]);
    expect(lines[0]).toMatchObject({ level: 50, component: 'watchdog' });
    dog.stop();
    vi.advanceTimersByTime(60_000);
    expect(pings).toHaveLength(5);
  });

  it('counts a check that throws as failed', () => {
    const { log } = capture();
    const pings: number[] = [];
    const broken = {
      name: 'scanner',
      check: (): string | undefined => {
        throw new Error('boom');
      },
    };
    const dog = new Watchdog(1_000, [broken], { ping: () => pings.push(1) }, log);
    dog.tick();
    expect(pings).toEqual([]);
    expect(dog.verdict()).toEqual(['scanner: check failed: boom']);
  });
});

describe('health checks', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('EventLoopLag: a timer that fires late beyond the limit fails one check', () => {
    let now = 0;
    const lag = new EventLoopLag(5_000, () => now);
    lag.start();
    now = 500;
    vi.advanceTimersByTime(500);
    expect(lag.check()).toBeUndefined();
    now = 7_000; // the loop was blocked 6.5 s: the sample fires late
    vi.advanceTimersByTime(500);
    expect(lag.check()).toBe('event loop 6000 ms late (limit 5000 ms)');
    now = 7_500;
    vi.advanceTimersByTime(500);
    expect(lag.check()).toBeUndefined();
    lag.stop();
  });

  it('StoreProbe: a store that answers, even with an error, is healthy; one that hangs is not', async () => {
    let now = 0;
    let answer: 'ok' | 'fail' | 'hang' = 'ok';
    const probe = new StoreProbe(
      () =>
        answer === 'hang'
          ? new Promise(() => undefined)
          : answer === 'fail'
            ? Promise.reject(new Error('SQLITE_FULL'))
            : Promise.resolve(),
      60_000,
      () => now,
    );
    expect(probe.check()).toBeUndefined();
    await Promise.resolve();
    answer = 'fail';
    expect(probe.check()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(0);
    answer = 'hang';
    expect(probe.check()).toBeUndefined(); // the probe is sent
    now = 30_000;
    expect(probe.check()).toBeUndefined();
    now = 61_000;
    expect(probe.check()).toBe('store has not answered for 61 s');
  });

  it('scannerCheck: a driver without a liveness report counts as alive', () => {
    const stats = (): ScannerStats => ({
      connected: false,
      frames: 0,
      duplicates: 0,
      overlong: 0,
      rejected: 0,
      suspicious: 0,
      reconnects: 3,
    });
    const base = { start: async () => undefined, stop: async () => undefined, stats };
    expect(scannerCheck(base).check()).toBeUndefined();
    expect(scannerCheck({ ...base, liveness: () => 'stuck' }).check()).toBe('stuck');
  });
});

describe('systemd environment', () => {
  it('keeps alive at half of WATCHDOG_USEC, only for the process WATCHDOG_PID names', () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, 42)).toBe(15_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 42)).toBe(15_000);
    expect(
      watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '7' }, 42),
    ).toBeUndefined();
    expect(watchdogIntervalMs({}, 42)).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: 'soon' }, 42)).toBeUndefined();
  });

  it('does nothing without NOTIFY_SOCKET and says so for an abstract socket it cannot reach', () => {
    const { log, lines } = capture();
    expect(SystemdNotifier.fromEnv({}, log)).toBeUndefined();
    expect(
      SystemdNotifier.fromEnv({ NOTIFY_SOCKET: '@/org/freedesktop/systemd1/notify' }, log),
    ).toBeUndefined();
    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        msg: 'abstract NOTIFY_SOCKET not supported, systemd not notified',
      }),
    ]);
  });
});
