import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock.js';
import type { GateEvent } from '../../src/event.js';
import { MqttLink, type MqttLinkOptions } from '../../src/link/mqtt-link.js';
import { gateTopics } from '../../src/link/topics.js';
import { type Logger, silentLogger } from '../../src/log.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { type Mosquitto, mosquittoMissing, startMosquitto } from '../helpers/mosquitto.js';
import {
  capturingLogger,
  MqttWatcher,
  startProxy,
  type TestProxy,
  waitUntil,
} from '../helpers/mqtt-watcher.js';
import { describeErrors, loadValidators, schemaForGateTopic } from '../helpers/schemas.js';

const TOPICS = gateTopics('ridergate/v1', 'north', 'g1');
const clock: Clock = {
  nowMs: () => Date.now(),
  monoMs: () => performance.now(),
  state: () => 'synced',
};

let dir: string;
let store: SqliteStore;
let cleanups: (() => Promise<void>)[] = [];
let recorded = 0;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ridergate-supervision-'));
  store = new SqliteStore(join(dir, 'gate.db'), silentLogger());
  await store.open();
});

afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function startLink(
  url: string,
  over: Partial<MqttLinkOptions> = {},
  extras: { log?: Logger; onTrustList?: (jws: string) => Promise<void> } = {},
): Promise<MqttLink> {
  const link = new MqttLink(
    {
      url,
      prefix: 'ridergate/v1',
      site: 'north',
      gate: 'g1',
      telemetrySec: 60,
      version: '1.2.3',
      bootMs: Date.now(),
      reconnectMinMs: 100,
      reconnectMaxMs: 400,
      ...over,
    },
    { store, clock, telemetry: () => ({}), onTrustList: extras.onTrustList },
    extras.log ?? silentLogger(),
  );
  await link.start();
  cleanups.push(() => link.stop());
  return link;
}

async function watch(url: string): Promise<MqttWatcher> {
  const watcher = await MqttWatcher.connect(url);
  cleanups.push(() => watcher.close());
  return watcher;
}

async function record(link: MqttLink, count: number): Promise<GateEvent[]> {
  const events: GateEvent[] = [];
  for (let i = 0; i < count; i++) {
    recorded += 1;
    events.push(
      await store.record({
        id: `0190a000-0000-7000-8000-${String(recorded).padStart(12, '0')}`,
        ts: clock.nowMs(),
        clock: 'synced',
        site: 'north',
        gate: 'g1',
        type: 'admit',
        iss: 'eats',
        sub: 'rider-1',
        cti: recorded.toString(16),
      }),
    );
  }
  link.notify();
  return events;
}

/** Event ids received on the events topic, first delivery of each, in arrival order. */
function deliveredIds(watcher: MqttWatcher): string[] {
  const ids = watcher.on(TOPICS.events).map((m) => String(m.payload?.id));
  return [...new Set(ids)];
}

describe.skipIf(mosquittoMissing() !== undefined)('connection supervision with mosquitto', () => {
  let broker: Mosquitto;
  let proxy: TestProxy;

  beforeEach(async () => {
    broker = await startMosquitto();
    // The gate reaches the broker through a proxy that refuses it until the watcher is back
    // after each restart: events the broker passes on before then would miss the watcher.
    proxy = await startProxy({ kind: 'forward', port: broker.port });
    cleanups.push(
      () => broker.stop(),
      () => proxy.close(),
    );
  });

  it('comes back after 5 broker restarts with a higher session each time, status and info republished, events of the outages in order', async () => {
    let trustCalls = 0;
    const cap = capturingLogger();
    const link = await startLink(
      proxy.url,
      {},
      {
        log: cap.log,
        onTrustList: async () => {
          trustCalls += 1;
        },
      },
    );
    const watcher = await watch(broker.url);
    await watcher.waitFor(TOPICS.status, { state: 'online', session: 1 });
    const expected = (await record(link, 3)).map((e) => e.id);

    for (let round = 2; round <= 6; round++) {
      await broker.stop();
      proxy.setMode({ kind: 'refuse' });
      await waitUntil(() => !link.isConnected(), 'the link to see the broker gone');
      expected.push(...(await record(link, 4)).map((e) => e.id));
      // A real outage outlasts the reconnect wait: let the gate meet a refused attempt, which
      // also tells these restarts apart from a client id conflict (field case M1).
      const attempts = proxy.accepted;
      await waitUntil(() => proxy.accepted > attempts, 'a refused connection attempt');
      await broker.restart();
      await watcher.ready();
      proxy.setMode({ kind: 'forward', port: broker.port });
      // mosquitto runs without persistence: retained status and info are gone with it, so
      // seeing them again proves the gate published them on the new connection.
      await watcher.waitFor(TOPICS.status, { state: 'online', session: round });
      await waitUntil(
        () => watcher.on(TOPICS.info).length >= round,
        `info published on connection ${round}`,
      );
    }

    await waitUntil(() => deliveredIds(watcher).length >= expected.length, 'every event');
    expect(deliveredIds(watcher)).toEqual(expected);
    const sessions = watcher
      .on(TOPICS.status)
      .filter((m) => m.payload?.state === 'online')
      .map((m) => m.payload?.session);
    expect([...new Set(sessions)]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(link.stats()).toMatchObject({ session: 6, clientIdConflict: false });
    expect(cap.lines.filter((l) => l.msg === 'mqtt client id conflict')).toEqual([]);
    expect(await store.outboxDepth()).toBe(0);

    // Events of the outages came as replays, and every message kept to its schema.
    expect(watcher.on(TOPICS.events).some((m) => m.payload?.replay === true)).toBe(true);
    const validators = loadValidators();
    for (const m of watcher.messages.filter((m) => m.topic.startsWith('ridergate/v1/north/'))) {
      const validate = validators.get(schemaForGateTopic('ridergate/v1', m.topic) ?? '');
      expect(validate?.(m.payload), `${m.topic}: ${describeErrors(validate?.errors)}`).toBe(true);
    }

    // Field case M3: after six connections a fleet message is handled exactly once.
    await watcher.client.publishAsync('ridergate/v1/_fleet/trust', 'x.y.z', { qos: 1 });
    await waitUntil(() => trustCalls > 0, 'the trust list handler');
    await watcher.waitFor(TOPICS.status, { state: 'online', session: 6 });
    expect(trustCalls).toBe(1);
  }, 180_000);
});

describe('reconnect backoff', () => {
  it('waits a random time within the configured bounds between attempts on a refusing broker', async () => {
    const proxy = await startProxy({ kind: 'refuse' });
    cleanups.push(() => proxy.close());
    await startLink(proxy.url, { reconnectMinMs: 200, reconnectMaxMs: 800 });
    await waitUntil(() => proxy.accepted >= 9, 'nine connection attempts', 60_000);

    const at = proxy.acceptedAtMs.slice(0, 9);
    const gaps = at.slice(1).map((t, i) => t - (at[i] as number));
    // A loaded machine only makes waits longer: the lower bound holds, the upper one may not.
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(190);
    // Eight waits drawn from 200–800 ms: never all within 50 ms of each other.
    expect(Math.max(...gaps) - Math.min(...gaps)).toBeGreaterThan(50);
  }, 90_000);
});

describe.skipIf(mosquittoMissing() !== undefined)('connection supervision, silent broker', () => {
  let silent: TestProxy;
  let broker: Mosquitto;

  beforeEach(async () => {
    silent = await startProxy({ kind: 'swallow' });
    broker = await startMosquitto();
    cleanups.push(
      () => broker.stop(),
      () => silent.close(),
    );
  });

  it('rebuilds a client stuck on a broker that accepts TCP but never answers, and connects once a real broker is behind it', async () => {
    const { log, lines } = capturingLogger();
    // A CONNACK wait far longer than the test: only the supervisor can get the gate out.
    const link = await startLink(
      silent.url,
      { connectTimeoutMs: 600_000, rebuildAfterSec: 1 },
      { log },
    );
    const watcher = await watch(broker.url);
    const waiting = await record(link, 2);

    await waitUntil(() => link.stats().rebuilds >= 2, 'two rebuilds', 30_000);
    expect(link.isConnected()).toBe(false);
    expect(silent.accepted).toBeGreaterThanOrEqual(3);
    const rebuilt = lines.filter((l) => l.msg === 'mqtt client rebuilt');
    expect(rebuilt.length).toBeGreaterThanOrEqual(2);
    expect(rebuilt[0]).toMatchObject({ level: 40, component: 'link', clientId: 'north-g1' });

    silent.setMode({ kind: 'forward', port: broker.port });
    await watcher.waitFor(TOPICS.status, { state: 'online', session: 1 }, 30_000);
    await watcher.waitFor(TOPICS.info, { version: '1.2.3' });
    await waitUntil(() => deliveredIds(watcher).length >= 2, 'the events recorded meanwhile');
    expect(deliveredIds(watcher)).toEqual(waiting.map((e) => e.id));
    expect(watcher.on(TOPICS.status).filter((m) => m.payload?.state === 'online')).toHaveLength(1);
  }, 90_000);
});

describe.skipIf(mosquittoMissing() !== undefined)('a broker away for long', () => {
  it('logs its connection error once, counts the repeats, and says how many at reconnection', async () => {
    const broker = await startMosquitto();
    cleanups.push(() => broker.stop());
    await broker.stop();
    const { log, lines } = capturingLogger();
    const link = await startLink(broker.url, { reconnectMinMs: 100, reconnectMaxMs: 200 }, { log });
    const errors = () => lines.filter((l) => l.msg === 'mqtt error');
    await waitUntil(() => errors().length > 0, 'the refusal logged');
    // Ten attempts or more at 100-200 ms apart: still one line.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(errors()).toEqual([
      expect.objectContaining({
        code: 'ECONNREFUSED',
        error: expect.stringContaining('ECONNREFUSED'),
      }),
    ]);
    expect(errors()[0]).not.toHaveProperty('err');

    await broker.restart();
    await waitUntil(() => link.isConnected(), 'the link back', 30_000);
    const summary = lines.find((l) => l.msg === 'mqtt errors repeated while away');
    expect((summary?.repeats as Record<string, number> | undefined)?.ECONNREFUSED).toBeGreaterThan(
      5,
    );
  }, 60_000);
});
