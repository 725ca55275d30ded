import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestGate, type Provisioned, provision } from '../helpers/gate-app.js';
import { type Mosquitto, mosquittoMissing, startMosquitto } from '../helpers/mosquitto.js';
import { waitUntil } from '../helpers/pty.js';

describe.skipIf(mosquittoMissing() !== undefined)('a gate whose store fails', () => {
  let dir: string;
  let broker: Mosquitto;
  let ops: MqttClient;
  let provisioned: Provisioned;
  const events: Record<string, unknown>[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-store-faults-'));
    broker = await startMosquitto();
    provisioned = await provision(dir);
    ops = await mqtt.connectAsync(broker.url, { clientId: 'ops' });
    ops.on('message', (_topic, payload) =>
      events.push(JSON.parse(payload.toString()) as Record<string, unknown>),
    );
    await ops.subscribeAsync('ridergate/v1/north/+/events', { qos: 1 });
  });
  afterAll(async () => {
    await ops?.endAsync();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('D1: starts on a corrupt database, moves it aside, raises one alarm and keeps admitting', async () => {
    const dbPath = join(dir, 'd1.db');
    const first = makeTestGate(dir, provisioned, { brokerUrl: broker.url, dbPath });
    await first.app.start();
    let lastSeq = 0;
    for (let i = 0; i < 20; i += 1)
      lastSeq = (await first.scan(first.token(`before-${i}`)))?.seq ?? 0;
    await first.app.stop();

    // A power cut on an SD card: random bytes in the middle of the file.
    const fd = openSync(dbPath, 'r+');
    writeSync(fd, randomBytes(8192), 0, 8192, 4096);
    closeSync(fd);

    const second = makeTestGate(dir, provisioned, { brokerUrl: broker.url, dbPath });
    await second.app.start();
    try {
      const admitted = await second.scan(second.token('after'));
      expect(admitted).toMatchObject({ type: 'admit', sub: 'after' });
      expect(admitted?.seq ?? 0).toBeGreaterThan(lastSeq);
      await waitUntil(
        () => events.some((e) => e.reason === 'store_corrupt'),
        'store_corrupt alarm at operations',
      );
      const alarms = events.filter((e) => e.reason === 'store_corrupt');
      expect(alarms).toHaveLength(1);
      expect(alarms[0]?.detail).toMatch(/moved aside to .*d1\.db\.corrupt-\d{8}T\d{6}Z/);
      expect(readdirSync(dir).some((f) => /^d1\.db\.corrupt-/.test(f))).toBe(true);
      expect(existsSync(dbPath)).toBe(true);
    } finally {
      await second.app.stop();
    }
  });
});
