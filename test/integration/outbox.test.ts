import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock.js';
import type { EventDraft, GateEvent } from '../../src/event.js';
import { type LinkAlarmReason, MqttLink, type MqttLinkOptions } from '../../src/link/mqtt-link.js';
import { gateTopics } from '../../src/link/topics.js';
import { silentLogger } from '../../src/log.js';
import { readJournal } from '../../src/store/journal-reader.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { makeTestGate, provision } from '../helpers/gate-app.js';
import { type Mosquitto, mosquittoMissing, startMosquitto } from '../helpers/mosquitto.js';
import { waitUntil } from '../helpers/pty.js';
import { startTcpHop, type TcpHop } from '../helpers/tcp-hop.js';

const TOPICS = gateTopics('ridergate/v1', 'north', 'g1');
const clock: Clock = {
  nowMs: () => Date.now(),
  monoMs: () => performance.now(),
  state: () => 'synced',
};

interface Arrival {
  event: GateEvent;
  atMs: number;
}

/**
 * Operations' subscriber with a persistent session (clean: false, QoS 1): the broker keeps its
 * subscription and queues its messages across a broker restart (persistence on), so nothing
 * the gate publishes right after the restart is missed by the test.
 */
class EventWatcher {
  readonly arrivals: Arrival[] = [];
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload) => {
      if (topic !== TOPICS.events) return;
      this.arrivals.push({
        event: JSON.parse(payload.toString()) as GateEvent,
        atMs: performance.now(),
      });
    });
  }

  static async connect(url: string): Promise<EventWatcher> {
    const client = await connectAsync(url, {
      clientId: `ops-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
      clean: false,
      reconnectPeriod: 100,
    });
    const watcher = new EventWatcher(client);
    await client.subscribeAsync(TOPICS.events, { qos: 1 });
    return watcher;
  }

  /** Events by id, first arrival kept (consumers de-duplicate on id). */
  unique(): GateEvent[] {
    const seen = new Map<string, GateEvent>();
    for (const { event } of this.arrivals) if (!seen.has(event.id)) seen.set(event.id, event);
    return [...seen.values()];
  }
}

let dir: string;
let store: SqliteStore;
let link: MqttLink | undefined;
let broker: Mosquitto | undefined;
let watcher: EventWatcher | undefined;
let alarms: { reason: LinkAlarmReason; detail: string }[];
let network: TcpHop | undefined;
let draftCount = 0;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ridergate-outbox-'));
  store = new SqliteStore(join(dir, 'gate.db'), silentLogger());
  await store.open();
  alarms = [];
});

afterEach(async () => {
  await link?.stop();
  link = undefined;
  await network?.close();
  network = undefined;
  await watcher?.client.endAsync(true);
  watcher = undefined;
  await broker?.stop();
  broker = undefined;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(mosquittoMissing() !== undefined)('outbox with mosquitto', () => {
  it('M5: 1,000 events recorded while the broker is stopped all arrive after it returns, in seq order, held by the store and not the client', async () => {
    broker = await startMosquitto(persistentBroker(dir));
    watcher = await EventWatcher.connect(broker.url);
    // The watcher (100 ms) must be back on the restarted broker before the link (1-1.5 s)
    // starts delivering, or the test would measure the watcher's reconnect, not the gate.
    link = await startLink(broker.url, {
      drainPerSec: 2_000,
      reconnectMinMs: 1_000,
      reconnectMaxMs: 1_500,
    });
    await waitUntil(() => link?.isConnected() === true, 'link connected');

    await broker.stop();
    await waitUntil(() => link?.isConnected() === false, 'link sees the outage');
    const recorded: GateEvent[] = [];
    let mostHeld = 0;
    for (let i = 0; i < 1_000; i++) {
      recorded.push(await store.record(draft()));
      link.notify();
      mostHeld = Math.max(mostHeld, link.stats().clientHeld);
    }
    expect(await store.outboxDepth()).toBe(1_000);
    expect(mostHeld).toBe(0);

    await broker.restart();
    await waitUntil(() => (watcher?.unique().length ?? 0) >= 1_000, '1,000 events arrive', {
      timeoutMs: 20_000,
    });
    const arrived = watcher.unique();
    expect(arrived.map((e) => e.id)).toEqual(recorded.map((e) => e.id));
    expect(arrived.map((e) => e.seq)).toEqual(recorded.map((e) => e.seq));
    expect(arrived.every((e) => e.replay === true)).toBe(true);
    await waitForDepth(0);
    expect(link.stats().clientHeld).toBe(0);
  });

  it('M5 with the whole gate: the broker stopped during 1,000 scans, all 1,000 admits arrive in order', async () => {
    broker = await startMosquitto(persistentBroker(dir));
    watcher = await EventWatcher.connect(broker.url);
    const provisioned = await provision(dir);
    const gate = makeTestGate(dir, provisioned, {
      brokerUrl: broker.url,
      dbPath: join(dir, 'whole-gate.db'),
    });
    await gate.app.start();
    try {
      await waitUntil(() => gate.app.link?.isConnected() === true, 'gate link connected');
      await broker.stop();
      await waitUntil(() => gate.app.link?.isConnected() === false, 'gate sees the outage');

      const admitted: string[] = [];
      let mostHeld = 0;
      gate.app.gate?.onOutcome((o) => {
        if (o.event.type === 'admit') admitted.push(o.event.id);
        mostHeld = Math.max(mostHeld, gate.app.link?.stats().clientHeld ?? 0);
      });
      // Scans come faster than the barrier cycles: decisions queue up, pulses extend.
      for (let i = 0; i < 1_000; i++) gate.scanner.feed(`${gate.token(`rider-${i}`)}\r`);
      await waitUntil(() => admitted.length === 1_000, '1,000 admissions', { timeoutMs: 150_000 });
      expect(admitted).toHaveLength(1_000);
      // The store holds the backlog, not the MQTT client's memory.
      expect(mostHeld).toBe(0);

      await broker.restart();
      await waitUntil(
        () => (watcher?.unique().filter((e) => e.type === 'admit').length ?? 0) >= 1_000,
        '1,000 admits arrive',
        {
          timeoutMs: 60_000,
        },
      );
      const arrived = watcher.unique().filter((e) => e.type === 'admit');
      expect(arrived.map((e) => e.id)).toEqual(admitted);
      const seqs = arrived.map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(arrived.every((e) => e.replay === true)).toBe(true);
    } finally {
      await gate.app.stop();
    }
  }, 300_000);

  it('drains a backlog no faster than mqtt.drainPerSec', async () => {
    const perSec = 150;
    const count = 450;
    broker = await startMosquitto();
    watcher = await EventWatcher.connect(broker.url);
    for (let i = 0; i < count; i++) await store.record(draft());

    const startedMs = performance.now();
    link = await startLink(broker.url, { drainPerSec: perSec });
    await waitUntil(() => (watcher?.unique().length ?? 0) >= count, 'backlog delivered', {
      timeoutMs: 20_000,
    });
    const elapsedSec = (performance.now() - startedMs) / 1000;
    // The first batch goes at once; the rest are paced: at least (count - batch) / perSec.
    expect(elapsedSec).toBeGreaterThan(((count - 50) / perSec) * 0.8);
    // No one-second window holds much more than perSec arrivals (a batch of slack).
    const times = watcher.arrivals.map((a) => a.atMs);
    let busiest = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while ((times[i] ?? 0) - (times[j] ?? 0) >= 1_000) j++;
      busiest = Math.max(busiest, i - j + 1);
    }
    expect(busiest).toBeLessThanOrEqual(perSec + 50);
  });

  it('M4: an event over the broker size limit is set aside with an alarm and the next event is delivered', async () => {
    // mosquitto acknowledges and drops an over-limit PUBLISH (message_size_limit): the gate
    // must refuse it itself, by mqtt.maxEventBytes.
    broker = await startMosquitto(['message_size_limit 2048']);
    watcher = await EventWatcher.connect(broker.url);
    link = await startLink(broker.url, { maxEventBytes: 2048 });
    await waitUntil(() => link?.isConnected() === true, 'link connected');

    const [before, big, after] = await recordThree();
    link.notify();
    await waitUntil(() => alarms.length === 1, 'alarm raised');
    await waitUntil(() => (watcher?.unique().length ?? 0) === 2, 'the small events arrive');
    expect(watcher.unique().map((e) => e.id)).toEqual([before.id, after.id]);
    expect(alarms[0]?.reason).toBe('event_undeliverable');
    expect(alarms[0]?.detail).toContain(`event seq ${big.seq} (id ${big.id}) set aside`);
    expect(alarms[0]?.detail).toContain('over mqtt.maxEventBytes (2048)');
    await expectSetAsideInJournal(big);
  });

  it('M4: a broker that drops the connection on an oversize packet does not block the outbox', async () => {
    // max_packet_size makes mosquitto close the connection of an MQTT 3.1.1 client that sends
    // a larger packet; mqtt.js would resend it at every reconnection.
    broker = await startMosquitto(['max_packet_size 2048']);
    watcher = await EventWatcher.connect(broker.url);
    link = await startLink(broker.url, { maxPublishAttempts: 3, publishTimeoutMs: 2_000 });
    await waitUntil(() => link?.isConnected() === true, 'link connected');

    const [before, big, after] = await recordThree();
    link.notify();
    await waitUntil(() => (watcher?.unique().length ?? 0) === 2, 'the small events arrive', {
      timeoutMs: 20_000,
    });
    expect(watcher.unique().map((e) => e.id)).toEqual([before.id, after.id]);
    expect(alarms.map((a) => a.reason)).toEqual(['event_undeliverable']);
    expect(alarms[0]?.detail).toContain(`set aside after 3 failed publishes`);
    expect(link.stats()).toMatchObject({ eventsSetAside: 1, clientIdConflict: false });
    await expectSetAsideInJournal(big);
    await waitUntil(() => link?.isConnected() === true, 'link connected again');
  });
});

describe.skipIf(mosquittoMissing() !== undefined)('set-aside retries with mosquitto', () => {
  it('M4: an event set aside after three drops in flight (a flaky network) is delivered later, once, with replay: true and no second alarm', async () => {
    broker = await startMosquitto();
    watcher = await EventWatcher.connect(broker.url);
    network = await startTcpHop(broker.port);
    // Backoff shortened from 10 min–24 h to 0.5–2 s, sweeps from 60 s to 0.1 s.
    link = await startLink(network.url, {
      maxPublishAttempts: 3,
      publishTimeoutMs: 2_000,
      asideSweepMs: 100,
      asideRetryMinMs: 500,
      asideRetryMaxMs: 2_000,
    });
    await waitUntil(() => link?.isConnected() === true, 'link connected');

    const before = await store.record(draft());
    const victim = await store.record(draft());
    const after = await store.record(draft());
    network.dropConnectionsCarrying(victim.id);
    link.notify();
    await waitUntil(() => (watcher?.unique().length ?? 0) === 2, 'the other events arrive', {
      timeoutMs: 20_000,
    });
    expect(watcher.unique().map((e) => e.id)).toEqual([before.id, after.id]);
    expect(alarms.map((a) => a.reason)).toEqual(['event_undeliverable']);
    expect(alarms[0]?.detail).toContain(
      `event seq ${victim.seq} (id ${victim.id}) set aside after 3 failed publishes`,
    );
    expect(await store.setAsideCounts()).toEqual({ suspected: 1, refused: 0 });

    // The network is fine again: a retry delivers it, however many failed meanwhile.
    network.dropConnectionsCarrying(undefined);
    await waitUntil(() => (watcher?.unique().length ?? 0) === 3, 'the set-aside event arrives', {
      timeoutMs: 20_000,
    });
    expect(watcher.unique()[2]).toMatchObject({ id: victim.id, seq: victim.seq, replay: true });
    expect(watcher.arrivals.filter((a) => a.event.id === victim.id)).toHaveLength(1);
    await waitFor(async () => (await store.setAsideCounts()).suspected === 0, 'marked delivered');
    expect(await store.outboxDepth()).toBe(0);
    expect(alarms).toHaveLength(1);
    expect(link.stats()).toMatchObject({
      eventsSetAside: 1,
      setAsideDelivered: 1,
      clientIdConflict: false,
    });
    const rows = [];
    for await (const row of readJournal(join(dir, 'gate.db'))) rows.push(row);
    const kept = rows.find((r) => r.event.id === victim.id);
    expect(kept?.deliveredAt).toBeTypeOf('number');
    expect(kept?.setAside).toBeUndefined();
  });
});

/** Polls an asynchronous condition (the store answers asynchronously) for up to 5 s. */
async function waitFor(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + 5_000;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Broker settings that keep the watcher's session and queued messages across a restart. */
function persistentBroker(base: string): string[] {
  const location = mkdtempSync(join(base, 'mosquitto-'));
  return [
    'persistence true',
    `persistence_location ${location}/`,
    'max_queued_messages 0',
    'max_inflight_messages 0',
  ];
}

/** A small event, one of about 5 KB (a very long `sub`), another small one. */
async function recordThree(): Promise<[GateEvent, GateEvent, GateEvent]> {
  return [
    await store.record(draft()),
    await store.record(draft({ sub: `rider-${'x'.repeat(5_000)}` })),
    await store.record(draft()),
  ];
}

/** Polls the outbox depth (the store answers asynchronously) until it is `depth`. */
async function waitForDepth(depth: number): Promise<void> {
  const deadline = performance.now() + 5_000;
  while ((await store.outboxDepth()) !== depth) {
    if (performance.now() > deadline) throw new Error(`outbox depth never reached ${depth}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function expectSetAsideInJournal(big: GateEvent): Promise<void> {
  expect(await store.outboxDepth()).toBe(0);
  expect(await store.setAsideCount()).toBe(1);
  const rows = [];
  for await (const row of readJournal(join(dir, 'gate.db'))) rows.push(row);
  const kept = rows.find((r) => r.event.id === big.id);
  expect(kept?.deliveredAt).toBeUndefined();
}

async function startLink(url: string, overrides: Partial<MqttLinkOptions>): Promise<MqttLink> {
  const options: MqttLinkOptions = {
    url,
    prefix: 'ridergate/v1',
    site: 'north',
    gate: 'g1',
    telemetrySec: 60,
    version: '1.2.3',
    bootMs: Date.now(),
    reconnectMinMs: 50,
    reconnectMaxMs: 150,
    ...overrides,
  };
  const deps = {
    store,
    clock,
    telemetry: () => ({}),
    onAlarm: (reason: LinkAlarmReason, detail: string) => {
      alarms.push({ reason, detail });
    },
  };
  const started = new MqttLink(options, deps, silentLogger());
  await started.start();
  return started;
}

function draft(overrides: Partial<EventDraft> = {}): EventDraft {
  draftCount += 1;
  return {
    id: `0190b000-0000-7000-8000-${String(draftCount).padStart(12, '0')}`,
    ts: clock.nowMs(),
    clock: 'synced',
    site: 'north',
    gate: 'g1',
    type: 'admit',
    iss: 'rider.example',
    sub: 'rider-42',
    cti: `c${draftCount}`,
    decisionUs: 850,
    ...overrides,
  };
}
