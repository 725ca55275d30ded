import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Clock } from '../../../src/clock.js';
import { RidergateError } from '../../../src/errors.js';
import type { EventDraft, GateEvent } from '../../../src/event.js';
import { newDraft } from '../../../src/gate/draft.js';
import { GateController } from '../../../src/gate/gate-controller.js';
import {
  type JournaledEvent,
  ResilientJournal,
  type ResilientJournalOptions,
} from '../../../src/gate/resilient-journal.js';
import { SimRelay } from '../../../src/gpio/sim-relay.js';
import { silentLogger } from '../../../src/log.js';
import type { ReplayEntry } from '../../../src/store/types.js';
import { issueToken } from '../../../src/token/issue.js';
import { NOW_SEC, testKey, trustOf } from '../token/support.js';

const IDENTITY = { site: 'site-a', gate: 'gate-1' };
const RETRY_MS = 2_000;

const diskFull = () =>
  new RidergateError(
    'store_failed',
    'store.path /data/gate.db: record failed (SQLITE_FULL): the disk is full',
    { context: { errCode: 'SQLITE_FULL' } },
  );

/** A store in memory whose writes fail while `failure` is set, like a full disk. */
class FakeStore {
  readonly events: GateEvent[] = [];
  readonly replays = new Map<string, ReplayEntry>();
  failure: Error | undefined;
  writeAttempts = 0;

  async record(draft: EventDraft, replay?: ReplayEntry): Promise<GateEvent> {
    this.writeAttempts += 1;
    if (this.failure !== undefined) throw this.failure;
    const event = { ...draft, seq: this.events.length + 1 };
    this.events.push(event);
    if (replay !== undefined && !this.replays.has(`${replay.iss}/${replay.cti}`))
      this.replays.set(`${replay.iss}/${replay.cti}`, replay);
    return event;
  }

  async findReplay(iss: string, cti: string): Promise<ReplayEntry | undefined> {
    return this.replays.get(`${iss}/${cti}`);
  }

  async isRevoked(): Promise<boolean> {
    return false;
  }
}

const clock: Clock = {
  nowMs: () => NOW_SEC * 1000,
  monoMs: () => performance.now(),
  state: () => 'synced',
};

describe('the resilient journal: events wait in memory while the store fails', () => {
  let store: FakeStore;
  let notified: number;

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    store = new FakeStore();
    notified = 0;
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function journal(over: Partial<ResilientJournalOptions> = {}): ResilientJournal {
    return new ResilientJournal({
      store,
      makeAlarm: (reason, detail) => ({ ...newDraft(IDENTITY, clock, 'alarm'), reason, detail }),
      notify: () => {
        notified += 1;
      },
      log: silentLogger(),
      retryMs: RETRY_MS,
      ...over,
    });
  }

  const admit = (sub: string): EventDraft => ({ ...newDraft(IDENTITY, clock, 'admit'), sub });

  it('holds events with no seq, raises one alarm, and writes them in order when the store recovers', async () => {
    const j = journal();
    expect((await j.record(admit('before'))).seq).toBe(1);

    store.failure = diskFull();
    const held: JournaledEvent[] = [];
    for (const sub of ['r1', 'r2', 'r3']) held.push(await j.record(admit(sub)));
    expect(held.map((e) => e.seq)).toEqual([undefined, undefined, undefined]);
    expect(j.stats()).toMatchObject({ storeHealthy: false, queuedEvents: 4, droppedEvents: 0 });
    expect(j.stats().storeError).toContain('the disk is full');

    // Still failing: the timer tries again and nothing changes.
    await vi.advanceTimersByTimeAsync(RETRY_MS);
    expect(j.stats().queuedEvents).toBe(4);
    expect(notified).toBe(0);

    store.failure = undefined;
    await vi.advanceTimersByTimeAsync(RETRY_MS);
    expect(j.stats()).toMatchObject({ storeHealthy: true, queuedEvents: 0 });
    expect(store.events.map((e) => [e.seq, e.type, e.sub ?? e.reason])).toEqual([
      [1, 'admit', 'before'],
      [2, 'admit', 'r1'],
      [3, 'alarm', 'store_unavailable'],
      [4, 'admit', 'r2'],
      [5, 'admit', 'r3'],
    ]);
    expect(store.events[2]?.detail).toMatch(/the disk is full.*up to 10000 events wait/);
    expect(store.events.slice(1).map((e) => e.id)).toEqual([
      held[0]?.id,
      expect.any(String),
      held[1]?.id,
      held[2]?.id,
    ]);
    expect(notified).toBe(1);

    // Healthy again: writes go straight to the store, and the timer stopped trying.
    const attempts = store.writeAttempts;
    await vi.advanceTimersByTimeAsync(RETRY_MS * 3);
    expect(store.writeAttempts).toBe(attempts);
    expect((await j.record(admit('after'))).seq).toBe(6);
  });

  it('raises a second alarm only for a second outage', async () => {
    const j = journal();
    store.failure = diskFull();
    for (let i = 0; i < 50; i += 1) await j.record(admit(`r${i}`));
    store.failure = undefined;
    expect(await j.retry()).toBe(true);
    store.failure = diskFull();
    await j.record(admit('later'));
    store.failure = undefined;
    expect(await j.retry()).toBe(true);
    expect(store.events.filter((e) => e.type === 'alarm')).toHaveLength(2);
    expect(store.events.map((e) => e.seq)).toEqual(store.events.map((_, i) => i + 1));
  });

  it('remembers held admissions for replay checks until the store has them', async () => {
    const j = journal();
    store.failure = diskFull();
    const entry: ReplayEntry = { iss: 'demo-eats', cti: 'aa01', firstUsedMs: 1, expSec: 99 };
    await j.record(admit('r1'), entry);
    expect(await j.findReplay('demo-eats', 'aa01')).toEqual(entry);
    expect(await j.findReplay('demo-eats', 'bb02')).toBeUndefined();

    store.failure = undefined;
    await j.retry();
    expect(await store.findReplay('demo-eats', 'aa01')).toEqual(entry);
    expect(await j.findReplay('demo-eats', 'aa01')).toEqual(entry);
  });

  it('keeps at most `capacity` events, drops the rest, and reports the loss after recovery', async () => {
    const j = journal({ capacity: 3 });
    store.failure = diskFull();
    const entries: ReplayEntry[] = [];
    for (let i = 0; i < 6; i += 1) {
      const entry = { iss: 'demo-eats', cti: `c${i}`, firstUsedMs: 1, expSec: 99 };
      entries.push(entry);
      await j.record(admit(`r${i}`), entry);
    }
    // r0, the alarm, r1; r2 to r5 dropped.
    expect(j.stats()).toMatchObject({ queuedEvents: 3, droppedEvents: 4, queueCapacity: 3 });
    // A dropped admission's token still cannot pass twice while the store is down.
    expect(await j.findReplay('demo-eats', 'c4')).toEqual(entries[4]);

    store.failure = undefined;
    await j.retry();
    await vi.waitFor(() => expect(store.events).toHaveLength(4));
    expect(store.events.map((e) => e.sub ?? e.reason)).toEqual([
      'r0',
      'store_unavailable',
      'r1',
      'events_dropped',
    ]);
    expect(store.events[3]?.detail).toMatch(/^4 events were lost/);
  });

  it('starts holding when the store could not be opened, and opens it again to write', async () => {
    let opens = 0;
    const j = journal({
      openFailure: diskFull(),
      reopen: async () => {
        opens += 1;
        if (opens < 2) throw diskFull();
      },
    });
    // Nothing is asked of a store that is not open: lookups answer from memory.
    store.failure = new Error('not open');
    expect(await j.isRevoked('demo-eats', 'r1', 'aa', NOW_SEC)).toBe(false);
    const boot = await j.record(newDraft(IDENTITY, clock, 'boot'));
    expect(boot.seq).toBeUndefined();
    expect(store.writeAttempts).toBe(0);

    store.failure = undefined;
    await vi.advanceTimersByTimeAsync(RETRY_MS);
    expect(opens).toBe(1);
    expect(j.stats().storeHealthy).toBe(false);
    await vi.advanceTimersByTimeAsync(RETRY_MS);
    expect(opens).toBe(2);
    expect(store.events.map((e) => [e.seq, e.type])).toEqual([
      [1, 'boot'],
      [2, 'alarm'],
    ]);
  });

  it('opens the store again after a read-only error, but not after a full disk', async () => {
    let opens = 0;
    const j = journal({
      reopen: async () => {
        opens += 1;
      },
    });
    store.failure = diskFull();
    await j.record(admit('r1'));
    await j.retry();
    expect(opens).toBe(0);

    store.failure = new RidergateError('store_failed', 'record failed (SQLITE_READONLY)', {
      context: { errCode: 'SQLITE_READONLY' },
    });
    await j.retry();
    store.failure = undefined;
    expect(await j.retry()).toBe(true);
    expect(opens).toBe(1);
  });
});

describe('the gate on a failing store', () => {
  it('admits valid riders, refuses a replay of a held admission, and journals both later', async () => {
    const store = new FakeStore();
    store.failure = diskFull();
    const relay = new SimRelay(silentLogger());
    await relay.init();
    const key = testKey('EdDSA');
    let nowMs = NOW_SEC * 1000;
    const movingClock: Clock = { ...clock, nowMs: () => nowMs };
    const journal = new ResilientJournal({
      store,
      makeAlarm: (reason, detail) => ({
        ...newDraft(IDENTITY, movingClock, 'alarm'),
        reason,
        detail,
      }),
      notify: () => undefined,
      log: silentLogger(),
    });
    const gate = new GateController(
      { ...IDENTITY, skewSec: 30, reopenGraceSec: 20, pulseMs: 10 },
      {
        relay,
        store: journal,
        clock: movingClock,
        trust: trustOf([{ iss: 'demo-eats', keys: [key] }]),
        notifyOutbox: () => undefined,
        log: silentLogger(),
      },
    );
    const text = issueToken({
      privateKey: key.privateKey,
      kid: key.kid,
      alg: 'EdDSA',
      claims: { iss: 'demo-eats', sub: 'rider-1', iat: NOW_SEC - 5, exp: NOW_SEC + 115 },
    }).text;
    const scan = () => gate.handleScan({ text, receivedMono: performance.now(), source: 'test' });

    const first = await scan();
    expect(first?.event).toMatchObject({ type: 'admit', sub: 'rider-1' });
    expect(first?.event.seq).toBeUndefined();
    expect(relay.changes.filter((c) => c.active)).toHaveLength(1);

    nowMs += 60_000;
    const again = await scan();
    expect(again?.event).toMatchObject({ type: 'deny', reason: 'replayed' });
    expect(relay.changes.filter((c) => c.active)).toHaveLength(1);

    store.failure = undefined;
    expect(await journal.retry()).toBe(true);
    expect(store.events.map((e) => e.reason ?? e.type)).toEqual([
      'admit',
      'store_unavailable',
      'replayed',
    ]);
    await journal.close();
  });
});
