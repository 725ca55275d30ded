import { randomBytes } from 'node:crypto';
import { connect, type MqttClient } from 'mqtt';
import { describeError } from '../errors.js';
import { buildClientOptions, type ClientOptionsInput, checkBrokerUrl } from './client-options.js';

/** What {@link probeBroker} found. `stage` is where it stopped; `done` when all passed. */
export interface BrokerProbeResult {
  stage: 'connect' | 'subscribe' | 'echo' | 'done';
  /** One line: what happened, never a password. */
  detail: string;
  /** The MQTT CONNACK return code when the broker refused the connection (4, 5). */
  refusedCode?: number;
}

/** What to probe. */
export interface BrokerProbeInput
  extends Omit<ClientOptionsInput, 'reconnectMs' | 'keepaliveSec' | 'connectTimeoutMs'> {
  url: string;
  /** The topic written and read back, e.g. `{p}/{site}/{gate}/selftest`. */
  topic: string;
  /** Longest wait for each stage, ms. */
  timeoutMs: number;
}

/**
 * Connects once with the gate's credentials (no retry), subscribes to `topic`, publishes a
 * random marker at QoS 1 and waits for it to come back: that proves the URL, the TLS files,
 * the credentials and that the broker's ACL lets this user write and read the topic
 * (mosquitto drops a denied publish silently, MQTT 3.1.1 §4.7, so only the echo shows it).
 * Never throws.
 */
export async function probeBroker(input: BrokerProbeInput): Promise<BrokerProbeResult> {
  let client: MqttClient | undefined;
  try {
    checkBrokerUrl(input.url);
    const options = buildClientOptions({
      ...input,
      connectTimeoutMs: input.timeoutMs,
      keepaliveSec: 30,
      reconnectMs: 0,
    });
    client = connect(input.url, options);
    const connected = await connected$(client, input.timeoutMs);
    if (connected !== undefined) return connected;
    const subscribed = await subscribe$(client, input.topic, input.timeoutMs);
    if (subscribed !== undefined) return subscribed;
    return await echo$(client, input.topic, input.timeoutMs);
  } catch (err) {
    return { stage: 'connect', detail: describeError(err) };
  } finally {
    client?.end(true);
  }
}

function connected$(client: MqttClient, timeoutMs: number): Promise<BrokerProbeResult | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(
      () => resolve({ stage: 'connect', detail: `no connection within ${timeoutMs} ms` }),
      timeoutMs,
    );
    client.once('connect', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    client.once('error', (err) => {
      clearTimeout(timer);
      const code = (err as { code?: unknown }).code;
      resolve({
        stage: 'connect',
        detail: describeError(err),
        ...(typeof code === 'number' ? { refusedCode: code } : {}),
      });
    });
  });
}

function subscribe$(
  client: MqttClient,
  topic: string,
  timeoutMs: number,
): Promise<BrokerProbeResult | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(
      () => resolve({ stage: 'subscribe', detail: `no SUBACK within ${timeoutMs} ms` }),
      timeoutMs,
    );
    client.subscribe(topic, { qos: 1 }, (err, granted) => {
      clearTimeout(timer);
      if (err) return resolve({ stage: 'subscribe', detail: describeError(err) });
      // SUBACK return code 0x80 is a refusal (MQTT 3.1.1 §3.9.3).
      if (granted?.[0]?.qos === 128)
        return resolve({
          stage: 'subscribe',
          detail: `the broker refused the subscription to ${topic}`,
        });
      resolve(undefined);
    });
  });
}

function echo$(client: MqttClient, topic: string, timeoutMs: number): Promise<BrokerProbeResult> {
  const marker = `ridergate selftest ${randomBytes(8).toString('hex')}`;
  return new Promise((resolve) => {
    const timer = setTimeout(
      () =>
        resolve({
          stage: 'echo',
          detail: `published to ${topic} but nothing came back within ${timeoutMs} ms`,
        }),
      timeoutMs,
    );
    client.on('message', (received, payload) => {
      if (received !== topic || payload.toString('utf8') !== marker) return;
      clearTimeout(timer);
      resolve({ stage: 'done', detail: `published to ${topic} and received it back` });
    });
    client.publish(topic, marker, { qos: 1 }, (err) => {
      if (!err) return;
      clearTimeout(timer);
      resolve({ stage: 'echo', detail: `publish failed: ${describeError(err)}` });
    });
  });
}
