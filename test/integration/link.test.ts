import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { connectAsync, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock.js';
import type { EventDraft, GateEvent } from '../../src/event.js';
import { type LinkAlarmReason, MqttLink, type MqttLinkOptions } from '../../src/link/mqtt-link.js';
import { OutboxPump } from '../../src/link/outbox-pump.js';
import { gateTopics } from '../../src/link/topics.js';
import { type Logger, silentLogger } from '../../src/log.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { startAedes } from '../helpers/aedes.js';
import { type Mosquitto, mosquittoMissing, startMosquitto } from '../helpers/mosquitto.js';
import { startTcpHop, type TcpHop } from '../helpers/tcp-hop.js';

const TOPICS = gateTopics('ridergate/v1', 'north', 'g1');
const clock: Clock = {
  nowMs: () => Date.now(),
  monoMs: () => performance.now(),
  state: () => 'synced',
};

interface Received {
  topic: string;
  payload: Record<string, unknown>;
  retain: boolean;
}

/** A second MQTT client, as operations would run, recording what it receives. */
class Watcher {
  readonly messages: Received[] = [];
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const parsed = JSON.parse(payload.toString()) as Record<string, unknown>;
      this.messages.push({ topic, payload: parsed, retain: packet.retain });
    });
  }

  static async connect(url: string): Promise<Watcher> {
    const client = await connectAsync(url, { reconnectPeriod: 100 });
    const watcher = new Watcher(client);
    await client.subscribeAsync('ridergate/v1/#', { qos: 1 });
    return watcher;
  }

  on(topic: string): Received[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  async waitFor(topic: string, match: Partial<Record<string, unknown>>): Promise<Received> {
    let found: Received | undefined;
    await waitUntil(
      () => {
        found = this.on(topic).find((m) =>
          Object.entries(match).every(([k, v]) => m.payload[k] === v),
        );
        return found !== undefined;
      },
      `${topic} ${JSON.stringify(match)}`,
    );
    return found as Received;
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** A TCP relay between the link and the broker, to cut or refuse the link's connection. */

let dir: string;
let store: SqliteStore;
let link: MqttLink | undefined;
let watchers: Watcher[] = [];
let cleanups: (() => Promise<void>)[] = [];
let draftCount = 0;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ridergate-link-'));
  store = new SqliteStore(join(dir, 'gate.db'), silentLogger());
  await store.open();
});

afterEach(async () => {
  await link?.stop();
  link = undefined;
  for (const watcher of watchers) await watcher.close();
  watchers = [];
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(mosquittoMissing() !== undefined)('MqttLink with mosquitto', () => {
  let broker: Mosquitto;
  let relay: TcpHop;

  beforeEach(async () => {
    broker = await startMosquitto();
    relay = await startTcpHop(broker.port);
    cleanups.push(
      () => broker.stop(),
      () => relay.close(),
    );
  });

  it('publishes retained status online with session 1, then session 2 after reconnect', async () => {
    link = await startLink(relay.url);
    await waitUntilRetained(broker.url, TOPICS.status, { state: 'online', session: 1 });
    const info = await waitUntilRetained(broker.url, TOPICS.info, { version: '1.2.3' });
    expect(info).toEqual({
      version: '1.2.3',
      bootTs: 1_700_000_000_000,
      site: 'north',
      gate: 'g1',
    });

    // No persistence: the restarted broker has lost the retained status until the gate is back.
    await broker.restart();
    await waitUntilRetained(broker.url, TOPICS.status, { state: 'online', session: 2 });
    expect(await store.getSetting('mqtt.session')).toBe('2');
  });

  it('delivers recorded events with QoS 1 in seq order and marks them delivered', async () => {
    const watcher = await watch(broker.url);
    link = await startLink(relay.url);
    await watcher.waitFor(TOPICS.status, { state: 'online' });

    const recorded = await recordAll(5);
    link.notify();
    await waitUntil(() => watcher.on(TOPICS.events).length === 5, 'five events');

    const seen = watcher.on(TOPICS.events).map((m) => m.payload);
    expect(seen).toEqual(recorded);
    expect(seen.every((e) => e.replay === undefined)).toBe(true);
    await waitUntil(async () => (await store.outboxDepth()) === 0, 'empty outbox');
    expect(link.stats().eventsPublished).toBe(5);
  });

  it('keeps events in the outbox while the broker is down and replays them in order', async () => {
    link = await startLink(relay.url);
    await waitUntil(() => link?.isConnected() === true, 'connected');
    const before = await recordAll(1);
    link.notify();
    await waitUntil(async () => (await store.outboxDepth()) === 0, 'first event delivered');

    relay.setBlocked(true);
    await broker.stop();
    await waitUntil(() => link?.isConnected() === false, 'disconnected');
    const during = await recordAll(4);
    link.notify();
    expect(await store.outboxDepth()).toBe(4);

    await broker.restart();
    const watcher = await watch(broker.url);
    relay.setBlocked(false);
    await waitUntil(() => watcher.on(TOPICS.events).length === 4, 'four replayed events');

    const seen = watcher.on(TOPICS.events).map((m) => m.payload);
    expect(seen.map((e) => e.seq)).toEqual(during.map((e) => e.seq));
    expect(seen).toEqual(during.map((e) => ({ ...e, replay: true })));
    expect(before[0]?.seq).toBe(1);
    await waitUntil(async () => (await store.outboxDepth()) === 0, 'empty outbox');
  });

  it('makes the broker publish the lost will when the connection drops uncleanly', async () => {
    const watcher = await watch(broker.url);
    const { log, lines } = capturingLogger();
    link = await startLink(relay.url, {}, { log });
    await watcher.waitFor(TOPICS.status, { state: 'online', session: 1 });

    relay.cut();
    const will = await watcher.waitFor(TOPICS.status, { state: 'lost' });
    const warned = lines.filter((l) => l.msg === 'link disconnected' && l.level === LEVEL_WARN);
    expect(warned).toHaveLength(1);
    expect(will.payload.session).toBe(1);
    // The broker cannot stamp the loss: `since` is when the connection was opened, and `ts`
    // equals it; a consumer takes its own receive time for the loss.
    expect(typeof will.payload.since).toBe('number');
    expect(will.payload.ts).toBe(will.payload.since);
    const online = await watcher.waitFor(TOPICS.status, { state: 'online', session: 1 });
    expect(will.payload.since as number).toBeLessThanOrEqual(online.payload.ts as number);

    // The link comes back by itself, with the next session.
    await watcher.waitFor(TOPICS.status, { state: 'online', session: 2 });
  });

  it('publishes retained offline at stop, with no will, and resumes the session count', async () => {
    const watcher = await watch(broker.url);
    const { log, lines } = capturingLogger();
    link = await startLink(relay.url, {}, { log });
    await watcher.waitFor(TOPICS.status, { state: 'online', session: 1 });

    await link.stop();
    link = undefined;
    // Our own disconnect is no warning.
    const disconnects = lines.filter((l) => l.msg === 'link disconnected');
    expect(disconnects.map((l) => l.level)).toEqual([LEVEL_INFO]);
    expect(await readRetained(broker.url, TOPICS.status)).toMatchObject({
      state: 'offline',
      session: 1,
    });
    expect(watcher.on(TOPICS.status).some((m) => m.payload.state === 'lost')).toBe(false);

    link = await startLink(relay.url);
    await watcher.waitFor(TOPICS.status, { state: 'online', session: 2 });
  });

  it('sends telemetry with QoS 0, not retained, with a timestamp', async () => {
    const watcher = await watch(broker.url);
    link = await startLink(relay.url, { telemetrySec: 0.1 });
    const message = await watcher.waitFor(TOPICS.telemetry, { outboxDepth: 0 });
    expect(message.retain).toBe(false);
    expect(typeof message.payload.ts).toBe('number');
  });

  it('does not block start when the broker is unreachable, and connects once it is up', async () => {
    const watcher = await watch(broker.url);
    relay.setBlocked(true);
    link = await startLink(relay.url);
    expect(link.isConnected()).toBe(false);
    const recorded = await recordAll(2);
    link.notify();
    expect(await store.outboxDepth()).toBe(2);

    relay.setBlocked(false);
    await waitUntil(async () => (await store.outboxDepth()) === 0, 'backlog delivered');
    // Never connected before in this process: no outage, so no replay (e.g. the boot event).
    await waitUntil(() => watcher.on(TOPICS.events).length === 2, 'two events');
    expect(watcher.on(TOPICS.events).map((m) => m.payload)).toEqual(recorded);
  });

  it('marks an event older than 5 s as a replay, e.g. a backlog from before a restart', async () => {
    const watcher = await watch(broker.url);
    const old = await recordAll(1, clock.nowMs() - 60_000);
    const fresh = await recordAll(1);
    link = await startLink(relay.url);
    await waitUntil(() => watcher.on(TOPICS.events).length === 2, 'two events');
    expect(watcher.on(TOPICS.events).map((m) => m.payload)).toEqual([
      { ...old[0], replay: true },
      fresh[0],
    ]);
  });

  it('detects two gates with one client id, alarms once and backs off (field case M1)', async () => {
    const fighting = await runTwins(broker.url, { count: 1_000 });
    const backingOff = await runTwins(broker.url, {
      shortMs: 1_000,
      count: 3,
      windowMs: 10_000,
      stableMs: 20_000,
      backoffMinMs: 2_000,
      backoffMaxMs: 2_500,
    });

    expect(fighting.alarms).toEqual([]);
    expect(fighting.connects).toBeGreaterThan(30);
    expect(backingOff.connects).toBeLessThanOrEqual(16);
    expect(backingOff.connects * 3).toBeLessThan(fighting.connects);

    // At least the gate that lost three times in a row raises it; each gate at most once.
    expect(backingOff.alarms.length).toBeGreaterThanOrEqual(1);
    for (const gate of ['a', 'b']) {
      expect(backingOff.alarms.filter((a) => a.gate === gate).length).toBeLessThanOrEqual(1);
    }
    for (const alarm of backingOff.alarms) {
      expect(alarm.reason).toBe('client_id_conflict');
      expect(alarm.detail).toContain('client id "north-g1"');
    }
    const errors = backingOff.lines.filter((l) => l.msg === 'mqtt client id conflict');
    expect(errors).toHaveLength(backingOff.alarms.length);
    expect(errors.every((l) => l.level === LEVEL_ERROR && l.clientId === 'north-g1')).toBe(true);
  }, 30_000);
});

describe('MqttLink with aedes', () => {
  it('delivers recorded events in seq order and publishes status', async () => {
    const broker = await startAedes();
    cleanups.push(() => broker.stop());
    const watcher = await watch(broker.url);
    link = await startLink(broker.url);
    await watcher.waitFor(TOPICS.status, { state: 'online', session: 1 });

    const recorded = await recordAll(3);
    link.notify();
    await waitUntil(() => watcher.on(TOPICS.events).length === 3, 'three events');
    expect(watcher.on(TOPICS.events).map((m) => m.payload)).toEqual(recorded);
    await waitUntil(async () => (await store.outboxDepth()) === 0, 'empty outbox');
  });
});

describe('OutboxPump', () => {
  it('publishes each event once, in seq order, however often it is notified', async () => {
    await recordAll(120);
    const published: number[] = [];
    const pump = new OutboxPump({
      store,
      publish: async (event) => {
        await delay(0);
        published.push(event.seq);
      },
      canPublish: () => true,
      log: silentLogger(),
    });
    for (let i = 0; i < 10; i++) pump.notify();
    await pump.run();
    await waitUntil(async () => (await store.outboxDepth()) === 0, 'empty outbox');
    expect(published).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
  });

  it('stops at the first failed publish and resumes from that event next time', async () => {
    await recordAll(5);
    const published: number[] = [];
    let failSeq: number | undefined = 3;
    const pump = new OutboxPump({
      store,
      publish: async (event) => {
        if (event.seq === failSeq) throw new Error('connection closed');
        published.push(event.seq);
      },
      canPublish: () => true,
      log: silentLogger(),
    });
    await pump.run();
    expect(published).toEqual([1, 2]);
    expect(await store.outboxDepth()).toBe(3);

    failSeq = undefined;
    await pump.run();
    expect(published).toEqual([1, 2, 3, 4, 5]);
    expect(pump.failures).toBe(1);
  });
});

interface LinkExtras {
  log?: Logger;
  store?: SqliteStore;
  onAlarm?: (reason: LinkAlarmReason, detail: string) => void;
}

async function startLink(
  url: string,
  overrides: Partial<MqttLinkOptions> = {},
  extras: LinkExtras = {},
) {
  const options: MqttLinkOptions = {
    url,
    prefix: 'ridergate/v1',
    site: 'north',
    gate: 'g1',
    telemetrySec: 60,
    version: '1.2.3',
    bootMs: 1_700_000_000_000,
    reconnectMinMs: 50,
    reconnectMaxMs: 150,
    ...overrides,
  };
  const linkStore = extras.store ?? store;
  const deps = {
    store: linkStore,
    clock,
    telemetry: async () => ({ outboxDepth: await linkStore.outboxDepth() }),
    onAlarm: extras.onAlarm,
  };
  const started = new MqttLink(options, deps, extras.log ?? silentLogger());
  await started.start();
  return started;
}

async function watch(url: string): Promise<Watcher> {
  const watcher = await Watcher.connect(url);
  watchers.push(watcher);
  return watcher;
}

async function recordAll(count: number, tsMs?: number): Promise<GateEvent[]> {
  const events: GateEvent[] = [];
  for (let i = 0; i < count; i++) {
    draftCount += 1;
    const draft: EventDraft = {
      id: `0190a000-0000-7000-8000-${String(draftCount).padStart(12, '0')}`,
      ts: tsMs ?? clock.nowMs(),
      clock: 'synced',
      site: 'north',
      gate: 'g1',
      type: 'admit',
      iss: 'rider.example',
      cti: `c${draftCount}`,
    };
    events.push(await store.record(draft));
  }
  return events;
}

const LEVEL_INFO = 30;
const LEVEL_WARN = 40;
const LEVEL_ERROR = 50;

/** A pino logger whose lines are parsed back into objects for assertions. */
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

/** How long two links with one client id run side by side in {@link runTwins}. */
const TWINS_MS = 6_000;

/**
 * Runs two links with the same client id (gates `a` and `b`, each with its own store) against
 * the broker for TWINS_MS; returns their connections, alarms and log lines.
 */
async function runTwins(url: string, clientIdConflict: MqttLinkOptions['clientIdConflict']) {
  const alarms: { gate: string; reason: string; detail: string }[] = [];
  const { log, lines } = capturingLogger();
  const twins: MqttLink[] = [];
  for (const gate of ['a', 'b']) {
    const twinStore = new SqliteStore(join(dir, `${gate}.db`), silentLogger());
    await twinStore.open();
    cleanups.push(() => twinStore.close());
    const onAlarm = (reason: string, detail: string) => void alarms.push({ gate, reason, detail });
    const options = { clientId: 'north-g1', clientIdConflict };
    twins.push(await startLink(url, options, { log, store: twinStore, onAlarm }));
  }
  await delay(TWINS_MS);
  const connects = twins.reduce((sum, twin) => sum + twin.stats().connects, 0);
  for (const twin of twins) await twin.stop();
  return { connects, alarms, lines };
}

/** The retained message on `topic` as a new subscriber sees it, or undefined. */
async function readRetained(
  url: string,
  topic: string,
): Promise<Record<string, unknown> | undefined> {
  const client = await connectAsync(url, { reconnectPeriod: 0 });
  try {
    const retained = new Promise<Record<string, unknown>>((resolve) => {
      client.on('message', (_t, payload, packet) => {
        if (packet.retain) resolve(JSON.parse(payload.toString()) as Record<string, unknown>);
      });
    });
    await client.subscribeAsync(topic, { qos: 1 });
    // A broker sends retained messages before or with the SUBACK's flow; allow a short margin.
    return await Promise.race([retained, delay(500).then(() => undefined)]);
  } finally {
    await client.endAsync(true);
  }
}

/** Waits until a new subscriber gets a retained message on `topic` matching `match`. */
async function waitUntilRetained(
  url: string,
  topic: string,
  match: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  let found: Record<string, unknown> | undefined;
  await waitUntil(
    async () => {
      const retained = await readRetained(url, topic).catch(() => undefined);
      if (retained === undefined) return false;
      found = retained;
      return Object.entries(match).every(([k, v]) => retained[k] === v);
    },
    `retained ${topic} ${JSON.stringify(match)}`,
  );
  return found ?? {};
}

async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
