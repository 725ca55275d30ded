import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/clock.js';
import { isRidergateError } from '../../../src/errors.js';
import { checkBrokerUrl, redactUrl } from '../../../src/link/client-options.js';
import { MqttLink } from '../../../src/link/mqtt-link.js';
import { silentLogger } from '../../../src/log.js';
import type { Store } from '../../../src/store/types.js';

const clock: Clock = { nowMs: () => 0, monoMs: () => 0, state: () => 'synced' };

function linkFor(url: string): MqttLink {
  const options = {
    url,
    prefix: 'ridergate/v1',
    site: 'north',
    gate: 'g1',
    telemetrySec: 60,
    version: '1.2.3',
    bootMs: 0,
  };
  // start() refuses the URL before it touches the store.
  const deps = { store: {} as Store, clock, telemetry: () => ({}) };
  return new MqttLink(options, deps, silentLogger());
}

async function startError(url: string): Promise<unknown> {
  return linkFor(url)
    .start()
    .then(
      () => undefined,
      (err: unknown) => err,
    );
}

describe('broker URL check', () => {
  it('refuses mqtt:// without a host instead of connecting to 127.0.0.1', async () => {
    const err = await startError('mqtt://');
    expect(isRidergateError(err) && err.code).toBe('link_failed');
    expect((err as Error).message).toBe(
      'mqtt.url "mqtt://": no broker host; expected e.g. mqtt://broker.example:1883',
    );
  });

  it('refuses text that is no URL and a scheme mqtt.js cannot use', async () => {
    expect(((await startError('mqtt://:1883')) as Error).message).toBe(
      'mqtt.url "mqtt://:1883": not a URL; expected e.g. mqtt://broker.example:1883',
    );
    expect(((await startError('broker.example:1883')) as Error).message).toMatch(
      /^mqtt.url "broker.example:1883": scheme "broker.example:" is not one of mqtt: mqtts:/,
    );
  });

  it('accepts the usual broker URLs', () => {
    for (const url of [
      'mqtt://broker.example:1883',
      'mqtts://broker.example',
      'tcp://10.0.0.2:1883',
      'ws://broker.example/mqtt',
      'wss://broker.example:8884/mqtt',
      'mqtt://[::1]:1883',
    ]) {
      expect(() => checkBrokerUrl(url)).not.toThrow();
    }
  });

  it('never shows a password held in the URL', () => {
    expect(redactUrl('mqtt://gate:s3cret@broker.example:1883')).toBe(
      'mqtt://gate:***@broker.example:1883',
    );
    expect(() => checkBrokerUrl('http://gate:s3cret@broker.example')).toThrow(
      /^mqtt.url "http:\/\/gate:\*\*\*@broker.example\/"/,
    );
  });
});
