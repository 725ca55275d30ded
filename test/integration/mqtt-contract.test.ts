import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateTopics } from '../../src/link/topics.js';
import { makeTestGate, type Provisioned, provision, type TestGate } from '../helpers/gate-app.js';
import { type Mosquitto, mosquittoMissing, startMosquitto } from '../helpers/mosquitto.js';
import { MqttWatcher, type WatchedMessage, waitUntil } from '../helpers/mqtt-watcher.js';
import { describeErrors, loadValidators, schemaForGateTopic } from '../helpers/schemas.js';

const PREFIX = 'ridergate/v1';
const TOPICS = gateTopics(PREFIX, 'north', 'g1');

/** Checks one received message against the schema of its topic; returns the problem, if any. */
function problemWith(
  message: WatchedMessage,
  validators: ReturnType<typeof loadValidators>,
): string | undefined {
  const name = schemaForGateTopic(PREFIX, message.topic);
  if (name === undefined) return `${message.topic}: a topic outside the contract`;
  const validate = validators.get(name);
  if (validate === undefined) return `${message.topic}: no schema ${name}`;
  if (message.payload === undefined) return `${message.topic}: not a JSON object: ${message.raw}`;
  if (!validate(message.payload)) {
    return `${message.topic} (${name}): ${describeErrors(validate.errors)} in ${message.raw}`;
  }
  return undefined;
}

describe.skipIf(mosquittoMissing() !== undefined)('MQTT contract against a real gate', () => {
  let dir: string;
  let provisioned: Provisioned;
  let broker: Mosquitto;
  let watcher: MqttWatcher;
  let gate: TestGate;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-contract-'));
    provisioned = await provision(dir);
    broker = await startMosquitto();
    watcher = await MqttWatcher.connect(broker.url, `${PREFIX}/#`);
  });

  afterAll(async () => {
    await gate?.app.stop();
    await watcher?.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes status, info, events of every kind it makes and telemetry, each matching its schema', async () => {
    gate = makeTestGate(dir, provisioned, {
      brokerUrl: broker.url,
      over: { mqtt: { telemetrySec: 1 } },
    });
    await gate.app.start();
    await watcher.waitFor(TOPICS.status, { state: 'online' });

    const token = gate.token('rider-contract');
    expect((await gate.scan(token))?.type).toBe('admit');
    expect((await gate.scan(token))?.type).toBe('reopen');
    expect((await gate.scan('HC1:not-a-token'))?.type).toBe('deny');
    await gate.app.gate?.recordEvent('alarm', {
      reason: 'forced_open',
      detail: 'barrier opened with no pulse (contract test)',
    });
    await waitUntil(() => watcher.on(TOPICS.events).length >= 5, 'five events');
    await waitUntil(() => watcher.on(TOPICS.telemetry).length >= 2, 'two telemetry messages');
    await gate.app.stop();
    await watcher.waitFor(TOPICS.status, { state: 'offline' });

    const types = watcher.on(TOPICS.events).map((m) => m.payload?.type);
    expect(types).toEqual(['boot', 'admit', 'reopen', 'deny', 'alarm']);
    const telemetry = watcher.on(TOPICS.telemetry).at(-1);
    expect(telemetry?.payload).toMatchObject({
      counts: { byType: { boot: 1, admit: 1, reopen: 1, deny: 1, alarm: 1 } },
      trustVersion: 1,
      outbox: { depth: 0, setAside: { suspected: 0, refused: 0 } },
    });
    expect(telemetry).toMatchObject({ qos: 0, retain: false });

    const validators = loadValidators();
    const problems = watcher.messages
      .map((m) => problemWith(m, validators))
      .filter((p) => p !== undefined);
    expect(problems).toEqual([]);
    const topics = new Set(watcher.messages.map((m) => m.topic));
    expect(topics).toEqual(new Set([TOPICS.status, TOPICS.info, TOPICS.events, TOPICS.telemetry]));
  }, 60_000);

  it('would fail on a payload off its schema: an extra field, a missing one, a wrong type', () => {
    const validators = loadValidators();
    const bad = (topic: string, payload: Record<string, unknown>): WatchedMessage => ({
      topic,
      raw: JSON.stringify(payload),
      payload,
      retain: false,
      qos: 1,
    });
    expect(
      problemWith(bad(TOPICS.status, { state: 'online', ts: 1, session: 1, x: 1 }), validators),
    ).toMatch(/additional properties/);
    expect(problemWith(bad(TOPICS.status, { state: 'online', ts: 1 }), validators)).toMatch(
      /session/,
    );
    expect(problemWith(bad(TOPICS.info, { site: 'north' }), validators)).toBeDefined();
    expect(problemWith(bad(`${PREFIX}/north/g1/debug`, {}), validators)).toMatch(/outside/);
  });
});
