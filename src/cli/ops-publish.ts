import mqtt, { type MqttClient } from 'mqtt';
import { RidergateError } from '../errors.js';
import { redactUrl } from '../link/client-options.js';
import { opsPassword } from './ops-password.js';

/** Broker options of the operations commands. */
export interface BrokerOptions {
  url: string;
  prefix: string;
  username?: string;
  /** `--password-file`: the broker password, else from OPS_MQTT_PASSWORD. */
  passwordFile?: string;
  /** Seconds to wait for the broker and for results. */
  waitSec: number;
}

/** Connects as a short-lived operations client; no automatic reconnection. */
export async function connectBroker(opts: BrokerOptions): Promise<MqttClient> {
  const password = opsPassword(opts.passwordFile);
  try {
    return await mqtt.connectAsync(opts.url, {
      clientId: `ridergate-ops-${process.pid}-${Date.now().toString(36)}`,
      username: opts.username,
      password,
      connectTimeout: opts.waitSec * 1000,
      reconnectPeriod: 0,
    });
  } catch (err) {
    throw new RidergateError(
      'link_failed',
      `cannot connect to ${redactUrl(opts.url)}: ${String(err)}`,
      {
        cause: err,
      },
    );
  }
}

/**
 * Subscribes to `resultTopic`, publishes `payload` on `topic` (QoS 1, not retained) and
 * collects the results whose `id` is `id` until `done(results)` says so or the wait ends.
 */
export async function publishAndCollect(
  client: MqttClient,
  args: { topic: string; resultTopic: string; payload: string; id: string; waitSec: number },
  done: (results: Record<string, unknown>[]) => boolean,
): Promise<Record<string, unknown>[]> {
  const results: Record<string, unknown>[] = [];
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  client.on('message', (_topic, payload) => {
    let value: unknown;
    try {
      value = JSON.parse(payload.toString('utf8'));
    } catch {
      return;
    }
    const result = value as Record<string, unknown>;
    if (result?.id !== args.id) return;
    results.push(result);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (done(results)) finish();
  });
  await client.subscribeAsync(args.resultTopic, { qos: 1 });
  await client.publishAsync(args.topic, args.payload, { qos: 1, retain: false });
  const timer = setTimeout(finish, args.waitSec * 1000);
  await finished;
  clearTimeout(timer);
  return results;
}
