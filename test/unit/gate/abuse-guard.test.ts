import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/clock.js';
import { AbuseGuard } from '../../../src/gate/abuse-guard.js';
import { GateController, type ScanOutcome } from '../../../src/gate/gate-controller.js';
import { SimRelay } from '../../../src/gpio/sim-relay.js';
import { silentLogger } from '../../../src/log.js';
import { SqliteStore } from '../../../src/store/sqlite-store.js';
import { issueToken } from '../../../src/token/issue.js';
import { NOW_SEC, type TestKey, testKey, trustOf } from '../token/support.js';

const SITE = 'site-a';

/** A sleep the test ends by hand, to see what waits and what does not. */
class HeldSleeps {
  private readonly waiting: (() => void)[] = [];
  readonly asked: number[] = [];
  sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      this.asked.push(ms);
      this.waiting.push(resolve);
    });
  /** Ends the oldest sleep; false when none is waiting. */
  release(): boolean {
    const next = this.waiting.shift();
    next?.();
    return next !== undefined;
  }
  get count(): number {
    return this.waiting.length;
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('scan abuse limits', () => {
  let dir: string;
  let store: SqliteStore;
  let relay: SimRelay;
  let key: TestKey;
  let mono: number;
  let sleeps: HeldSleeps;
  let alarms: string[];
  let guard: AbuseGuard;
  let gate: GateController;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-abuse-'));
    store = new SqliteStore(join(dir, 'gate.db'), silentLogger());
    await store.open();
    relay = new SimRelay(silentLogger());
    await relay.init();
    key = testKey('EdDSA');
    mono = 0;
    sleeps = new HeldSleeps();
    alarms = [];
    const clock: Clock = { nowMs: () => NOW_SEC * 1000, monoMs: () => mono, state: () => 'synced' };
    guard = new AbuseGuard(
      { maxDenials: 3, windowSec: 60, lockoutSec: 300, delayMs: 2_000, maxWaiting: 2 },
      {
        monoMs: () => mono,
        sleep: sleeps.sleep,
        onLockout: (detail) => {
          alarms.push(detail);
          void gate.recordEvent('alarm', { reason: 'scan_abuse', detail });
        },
        log: silentLogger(),
      },
    );
    gate = new GateController(
      { site: SITE, gate: 'gate-1', skewSec: 30, reopenGraceSec: 20, pulseMs: 50 },
      {
        relay,
        store,
        clock,
        trust: trustOf([{ iss: 'demo-eats', keys: [key] }]),
        notifyOutbox: () => undefined,
        log: silentLogger(),
        abuse: guard,
      },
    );
  });
  afterEach(async () => {
    while (sleeps.release());
    await gate.drain();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const valid = (sub: string) =>
    issueToken({
      privateKey: key.privateKey,
      kid: key.kid,
      alg: 'EdDSA',
      claims: { iss: 'demo-eats', sub, iat: NOW_SEC - 5, exp: NOW_SEC + 115, sites: [SITE] },
    }).text;
  const forged = (n: number) => `RP1:NOT-A-TOKEN-${n}`;
  const scan = (text: string) =>
    gate.handleScan({ text, receivedMono: performance.now(), source: 'test' });
  const pulses = () => relay.changes.filter((c) => c.active).length;

  it('answers denials at once up to the limit', async () => {
    for (let i = 0; i < 3; i += 1) {
      expect((await scan(forged(i)))?.event).toMatchObject({ type: 'deny', reason: 'malformed' });
    }
    expect(alarms).toEqual([]);
    expect(guard.stats()).toMatchObject({ lockedOut: false, lockouts: 0 });
  });

  it('locks out after too many denials: one alarm, later denials wait, a valid rider is admitted at once', async () => {
    for (let i = 0; i < 3; i += 1) await scan(forged(i));
    const fourth = scan(forged(3));
    let fourthDone: ScanOutcome | undefined;
    void fourth.then((o) => {
      fourthDone = o;
    });
    await settle();
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toContain('4 denials in 60 s');
    expect(guard.stats()).toMatchObject({ lockedOut: true, lockouts: 1 });
    expect(sleeps.count).toBe(1);
    expect(fourthDone).toBeUndefined();

    // A rider with a valid token during the lockout: admitted without waiting for the denial.
    const rider = await scan(valid('rider-1'));
    expect(rider?.event.type).toBe('admit');
    expect(pulses()).toBe(1);
    expect(fourthDone).toBeUndefined();

    sleeps.release();
    expect((await fourth)?.event).toMatchObject({ type: 'deny', reason: 'malformed' });
    expect(sleeps.asked).toEqual([2_000]);

    // More denials in the same lockout: no second alarm.
    const fifth = scan(forged(4));
    await settle();
    sleeps.release();
    await fifth;
    const journal = await store.undelivered(100);
    expect(journal.filter((e) => e.type === 'alarm').map((e) => e.reason)).toEqual(['scan_abuse']);
    expect(journal.filter((e) => e.type === 'deny')).toHaveLength(5);
  });

  it('journals the denials waiting their turn at a stop, without waiting out their delay', async () => {
    for (let i = 0; i < 3; i += 1) await scan(forged(i));
    const held = [scan(forged(3)), scan(forged(4))];
    await settle();
    expect(sleeps.count).toBe(1);
    expect((await store.undelivered(100)).filter((e) => e.type === 'deny')).toHaveLength(3);
    // The stop: no sleep is ended by hand, yet both waiting denials are journaled.
    await gate.drain();
    expect((await Promise.all(held)).map((o) => o?.event.type)).toEqual(['deny', 'deny']);
    const denials = (await store.undelivered(100)).filter((e) => e.type === 'deny');
    expect(denials.map((e) => e.seq)).toEqual(
      [...denials.map((e) => e.seq)].sort((a, b) => (a ?? 0) - (b ?? 0)),
    );
    expect(denials).toHaveLength(5);
  });

  it('drops denials past the waiting limit instead of filling the journal', async () => {
    for (let i = 0; i < 3; i += 1) await scan(forged(i));
    const held = [scan(forged(3)), scan(forged(4)), scan(forged(5)), scan(forged(6))];
    await settle();
    expect(guard.counts()).toMatchObject({ slowed: 2, dropped: 2 });
    while (sleeps.release()) await settle();
    await Promise.all(held);
    const denials = (await store.undelivered(100)).filter((e) => e.type === 'deny');
    expect(denials).toHaveLength(5);
  });

  it('ends the lockout after lockoutSec and raises a new alarm only for a new burst', async () => {
    for (let i = 0; i < 4; i += 1) {
      const pending = scan(forged(i));
      await settle();
      sleeps.release();
      await pending;
    }
    expect(alarms).toHaveLength(1);
    mono += 301_000;
    expect(guard.stats().lockedOut).toBe(false);
    expect((await scan(forged(10)))?.event.type).toBe('deny');
    expect(sleeps.count).toBe(0);
    for (let i = 11; i < 14; i += 1) {
      const pending = scan(forged(i));
      await settle();
      sleeps.release();
      await pending;
    }
    expect(alarms).toHaveLength(2);
  });

  it('does not count denials of maintenance mode', () => {
    for (let i = 0; i < 10; i += 1) expect(guard.denied('maintenance')).toEqual({ kind: 'now' });
    expect(alarms).toEqual([]);
  });

  it('forgets denials older than the window', async () => {
    for (let i = 0; i < 3; i += 1) await scan(forged(i));
    mono += 61_000;
    for (let i = 3; i < 6; i += 1) await scan(forged(i));
    expect(alarms).toEqual([]);
  });
});
