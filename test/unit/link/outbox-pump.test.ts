import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { GateEvent } from '../../../src/event.js';
import { OutboxPump, undeliverableError } from '../../../src/link/outbox-pump.js';
import { silentLogger } from '../../../src/log.js';
import type {
  AsideSchedule,
  SetAsideCounts,
  SetAsideEvent,
  SetAsideStore,
  Store,
} from '../../../src/store/types.js';

const MIN_MS = 60_000;
const T0 = Date.parse('2026-12-01T08:00:00Z');

/**
 * The outbox and set-aside part of the Store contract, in memory (SqliteStore is tested on disk
 * in test/unit/store/set-aside.test.ts). Every answer resolves at once, so fake timers drive
 * the pump alone.
 */
class MemoryOutbox implements Pick<Store, 'undelivered' | 'markDelivered'>, SetAsideStore {
  private readonly rows: {
    event: GateEvent;
    delivered: boolean;
    aside?: AsideSchedule & { retries: number };
  }[] = [];

  record(overrides: Partial<GateEvent> = {}): GateEvent {
    const seq = this.rows.length + 1;
    const event: GateEvent = {
      id: `0190c000-0000-7000-8000-${String(seq).padStart(12, '0')}`,
      seq,
      ts: Date.now(),
      clock: 'synced',
      site: 'north',
      gate: 'g1',
      type: 'admit',
      ...overrides,
    };
    this.rows.push({ event, delivered: false });
    return event;
  }

  async undelivered(limit: number): Promise<GateEvent[]> {
    return this.rows
      .filter((r) => !r.delivered && r.aside === undefined)
      .slice(0, limit)
      .map((r) => r.event);
  }

  async markDelivered(ids: string[]): Promise<void> {
    for (const row of this.rows) if (ids.includes(row.event.id)) row.delivered = true;
  }

  async setAside(id: string, aside: AsideSchedule): Promise<void> {
    const row = this.rows.find((r) => r.event.id === id && !r.delivered);
    if (row !== undefined) row.aside = { ...aside, retries: 0 };
  }

  async rescheduleAside(id: string, aside: AsideSchedule & { retries: number }): Promise<void> {
    const row = this.rows.find((r) => r.event.id === id && !r.delivered && r.aside);
    if (row !== undefined) row.aside = { ...aside };
  }

  async nextAsideDue(nowMs: number, maxWaitMs: number): Promise<SetAsideEvent | undefined> {
    const due = this.asideNow()
      .filter((r) => r.aside?.kind === 'suspected')
      .filter((r) => {
        const at = r.aside?.retryAtMs;
        return at === undefined || at <= nowMs || at > nowMs + maxWaitMs;
      })
      .sort((a, b) => (a.aside?.retryAtMs ?? 0) - (b.aside?.retryAtMs ?? 0))[0];
    if (due?.aside === undefined) return undefined;
    return { event: due.event, ...due.aside };
  }

  async refusedAside(afterSeq: number, limit: number): Promise<GateEvent[]> {
    return this.asideNow()
      .filter((r) => r.aside?.kind === 'refused' && r.event.seq > afterSeq)
      .slice(0, limit)
      .map((r) => r.event);
  }

  async setAsideCounts(): Promise<SetAsideCounts> {
    const aside = this.asideNow();
    const refused = aside.filter((r) => r.aside?.kind === 'refused').length;
    return { suspected: aside.length - refused, refused };
  }

  /** The set-aside state of an event, as `ridergate events` would show it. */
  asideOf(event: GateEvent): (AsideSchedule & { retries: number }) | undefined {
    const row = this.rows.find((r) => r.event.id === event.id);
    return row?.delivered ? undefined : row?.aside;
  }

  isDelivered(event: GateEvent): boolean {
    return this.rows.find((r) => r.event.id === event.id)?.delivered === true;
  }

  private asideNow() {
    return this.rows.filter((r) => !r.delivered && r.aside !== undefined);
  }
}

/** What the broker side sees: events acknowledged, in order, and every publish attempted. */
interface Wire {
  acked: number[];
  attempts: { seq: number; atMs: number; backlog: boolean }[];
  alarms: string[];
  /** seqs whose publish fails as if the connection dropped while in flight. */
  dropping: Set<number>;
  maxBytes: number;
}

let store: MemoryOutbox;
let wire: Wire;
let pumps: OutboxPump[];

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
  store = new MemoryOutbox();
  wire = { acked: [], attempts: [], alarms: [], dropping: new Set(), maxBytes: 4096 };
  pumps = [];
});

afterEach(() => {
  for (const pump of pumps) pump.stop();
  vi.useRealTimers();
});

/** A pump as the link builds it: connected, sweeping every minute, backoff from 10 min. */
function startPump(): OutboxPump {
  const bytes = (event: GateEvent) => Buffer.byteLength(JSON.stringify({ ...event, replay: true }));
  const pump = new OutboxPump({
    store,
    publish: async (event, options) => {
      wire.attempts.push({ seq: event.seq, atMs: Date.now(), backlog: options?.backlog === true });
      if (bytes(event) > wire.maxBytes) {
        throw undeliverableError(`${bytes(event)} bytes, over mqtt.maxEventBytes`, {});
      }
      if (wire.dropping.has(event.seq)) throw new Error('connection closed before PUBACK');
      wire.acked.push(event.seq);
    },
    canPublish: () => true,
    onSetAside: async (_event, detail) => {
      wire.alarms.push(detail);
    },
    fits: (event) => bytes(event) <= wire.maxBytes,
    log: silentLogger(),
    maxAttempts: 3,
    retryMs: 5_000,
    sweepMs: MIN_MS,
  });
  pump.start();
  pump.sweep();
  pumps.push(pump);
  return pump;
}

/** Lets the pump run for `ms` of fake time. */
async function pass(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

/** Lets the pump run until `ms` after the test's start. */
async function until(ms: number): Promise<void> {
  await pass(T0 + ms - Date.now());
}

function attemptsOf(seq: number): number[] {
  return wire.attempts.filter((a) => a.seq === seq).map((a) => a.atMs - T0);
}

/** Records three events and lets the second fail three times: set aside as suspected. */
async function suspectTheSecond(pump: OutboxPump): Promise<GateEvent[]> {
  const events = [store.record(), store.record(), store.record()];
  wire.dropping.add(2);
  pump.notify();
  // Three attempts, 5 s apart (the pump's retry while still connected).
  await pass(10_000);
  expect(attemptsOf(2)).toEqual([0, 5_000, 10_000]);
  expect(store.asideOf(events[1] as GateEvent)).toMatchObject({ kind: 'suspected' });
  return events;
}

describe('OutboxPump: set-aside events get another chance (field case M4)', () => {
  it('retries a suspected event after 10 minutes and delivers it, with one alarm in all', async () => {
    const pump = startPump();
    const [first, second, third] = await suspectTheSecond(pump);
    expect(wire.acked).toEqual([1, 3]);
    expect(wire.alarms).toHaveLength(1);
    expect(wire.alarms[0]).toContain(
      `event seq 2 (id ${second?.id}) set aside after 3 failed publishes`,
    );
    expect(wire.alarms[0]).toContain('first after 10 min, then at doubling intervals up to 24 h');

    // The network is fine again, but the event waits for its backoff: due 10 min after it was
    // set aside, it goes at the first sweep (once a minute) after that.
    wire.dropping.clear();
    await until(10 * MIN_MS + 5_000);
    expect(attemptsOf(2)).toHaveLength(3);
    await until(11 * MIN_MS);
    expect(wire.acked).toEqual([1, 3, 2]);
    expect(attemptsOf(2).at(-1)).toBe(11 * MIN_MS);
    // The retry goes as a backlog event (`replay: true`); the first three did not ask for it.
    expect(wire.attempts.filter((a) => a.seq === 2).map((a) => a.backlog)).toEqual([
      false,
      false,
      false,
      true,
    ]);
    expect(store.isDelivered(second as GateEvent)).toBe(true);
    expect(await store.setAsideCounts()).toEqual({ suspected: 0, refused: 0 });
    expect(wire.alarms).toHaveLength(1);
    expect(pump.asideStats).toEqual({ retries: 1, delivered: 1 });
    expect([first, third].every((e) => store.isDelivered(e as GateEvent))).toBe(true);
  });

  it('moves the backoff on at each failed retry (10, 20, 40 min …) and raises no new alarm', async () => {
    const pump = startPump();
    const [, second] = await suspectTheSecond(pump);
    await until(24 * 60 * MIN_MS);
    // The first retry at the first sweep 10 min after the set-aside (at 0:10), then 20, 40,
    // 80 … minutes after the retry before.
    const retriesMin = attemptsOf(2)
      .slice(3)
      .map((ms) => ms / MIN_MS);
    expect(retriesMin).toEqual([11, 31, 71, 151, 311, 631, 1271]);
    expect(wire.alarms).toHaveLength(1);
    expect(store.asideOf(second as GateEvent)).toMatchObject({ kind: 'suspected', retries: 7 });
    expect(pump.failures).toBe(3);

    // The wait never grows past 24 hours.
    await until(4 * 24 * 60 * MIN_MS);
    const gapsMin = attemptsOf(2)
      .slice(-3)
      .map((ms, i, all) => (i === 0 ? 0 : (ms - (all[i - 1] ?? 0)) / MIN_MS));
    expect(gapsMin.slice(1)).toEqual([24 * 60, 24 * 60]);
  });

  it('never lets a set-aside event hold up the outbox: new events go first, at once', async () => {
    const pump = startPump();
    await suspectTheSecond(pump);

    // Events recorded while it waits are delivered at once, by the regular outbox.
    store.record();
    pump.notify();
    await pass(1_000);
    expect(wire.acked).toEqual([1, 3, 4]);

    // At the retry sweep the outbox goes first, and a failing retry ends the sweep at once:
    // an event recorded just before is delivered, the set-aside one is tried once.
    await until(11 * MIN_MS - 1_000);
    store.record();
    await until(11 * MIN_MS + 1_000);
    expect(wire.acked).toEqual([1, 3, 4, 5]);
    expect(attemptsOf(2)).toHaveLength(4);
    const lastTwo = wire.attempts.slice(-2).map((a) => a.seq);
    expect(lastTwo).toEqual([5, 2]);
  });

  it('retries one set-aside event at a time: after a failed retry the next waits for the next sweep', async () => {
    const pump = startPump();
    const events = [store.record(), store.record(), store.record()];
    wire.dropping = new Set([1, 2]);
    pump.notify();
    await pass(20_000);
    expect(await store.setAsideCounts()).toEqual({ suspected: 2, refused: 0 });
    expect(wire.acked).toEqual([3]);

    // Both are due in the same sweep; the first still fails, so the second is not tried then.
    wire.dropping = new Set([1]);
    await until(11 * MIN_MS + 1_000);
    const atRetry = wire.attempts.filter((a) => a.atMs - T0 > 20_000).map((a) => a.seq);
    expect(atRetry).toEqual([1]);
    await until(12 * MIN_MS + 1_000);
    expect(wire.acked).toEqual([3, 2]);
    expect(store.isDelivered(events[1] as GateEvent)).toBe(true);
    expect(store.asideOf(events[0] as GateEvent)).toMatchObject({ retries: 1 });
  });

  it('keeps the schedule in the store: a restarted pump retries when it was due, not at once', async () => {
    const first = startPump();
    const [, second] = await suspectTheSecond(first);
    wire.dropping.clear();
    first.stop();

    await pass(4 * MIN_MS);
    startPump();
    await pass(MIN_MS);
    expect(attemptsOf(2)).toHaveLength(3);
    await pass(5 * MIN_MS);
    expect(store.isDelivered(second as GateEvent)).toBe(true);
    expect(attemptsOf(2).at(-1)).toBe(10_000 + 10 * MIN_MS);
  });

  it('keeps a too-large event aside, untried, until a start with a limit it fits', async () => {
    const pump = startPump();
    store.record();
    const big = store.record({ sub: `rider-${'x'.repeat(5_000)}` });
    store.record();
    pump.notify();
    await pass(1_000);
    expect(wire.acked).toEqual([1, 3]);
    expect(store.asideOf(big)).toMatchObject({ kind: 'refused' });
    expect(wire.alarms).toHaveLength(1);
    expect(wire.alarms[0]).toContain(`event seq 2 (id ${big.id}) set aside: `);
    expect(wire.alarms[0]).toContain('mqtt.maxEventBytes is raised above its size');

    // Days of sweeps, and a restart with the same limit: never sent again.
    await pass(2 * 24 * 60 * MIN_MS);
    pump.stop();
    startPump();
    await pass(MIN_MS);
    expect(attemptsOf(2)).toHaveLength(1);

    // Restarted with the limit raised: delivered at the first sweep, with no new alarm.
    pumps.at(-1)?.stop();
    wire.maxBytes = 16_384;
    startPump();
    await pass(1_000);
    expect(wire.acked).toEqual([1, 3, 2]);
    expect(store.isDelivered(big)).toBe(true);
    expect(wire.alarms).toHaveLength(1);
  });

  it('does not retry set-aside events while stopping: the flush at stop delivers the outbox only', async () => {
    const pump = startPump();
    await suspectTheSecond(pump);
    wire.dropping.clear();
    await until(10 * MIN_MS);
    pump.stop();
    store.record();
    const flushed = pump.run();
    await pass(60_000);
    await flushed;
    expect(wire.acked).toEqual([1, 3, 4]);
    expect(attemptsOf(2)).toHaveLength(3);
  });
});
