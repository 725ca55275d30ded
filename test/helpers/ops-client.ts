import mqtt, { type MqttClient } from 'mqtt';
import type { CommandResult } from '../../src/command/command-types.js';
import { waitUntil } from './pty.js';
import { describeErrors, loadValidators } from './schemas.js';

/** An operations client on the broker that records results, events and status messages. */
export interface OpsClient {
  client: MqttClient;
  results: CommandResult[];
  events: Record<string, unknown>[];
  /** Results and events that do not match their schema under schemas/, as readable lines. */
  invalid: string[];
  /** Publishes `payload` on `topic` (QoS 1), retained when asked. */
  publish(topic: string, payload: string, retain?: boolean): Promise<void>;
  /** Resolves with the first result whose id is `id`. */
  resultFor(id: string | null, timeoutMs?: number): Promise<CommandResult>;
  end(): Promise<void>;
}

/** Connects to `url` and follows results and events of every gate of site `north`. */
export async function connectOps(url: string, clientId = 'ops'): Promise<OpsClient> {
  const client = await mqtt.connectAsync(url, { clientId, reconnectPeriod: 200 });
  const results: CommandResult[] = [];
  const events: Record<string, unknown>[] = [];
  const invalid: string[] = [];
  const validators = loadValidators();
  client.on('message', (topic, payload) => {
    const value = JSON.parse(payload.toString()) as Record<string, unknown>;
    const validate = validators.get(topic.endsWith('/cmd/result') ? 'cmd-result' : 'event');
    if (validate !== undefined && !validate(value)) {
      invalid.push(`${topic} ${payload.toString()}: ${describeErrors(validate.errors)}`);
    }
    if (topic.endsWith('/cmd/result')) results.push(value as unknown as CommandResult);
    else if (topic.endsWith('/events')) events.push(value);
  });
  await client.subscribeAsync(['ridergate/v1/north/+/cmd/result', 'ridergate/v1/north/+/events'], {
    qos: 1,
  });
  return {
    client,
    results,
    events,
    invalid,
    publish: async (topic, payload, retain = false) => {
      await client.publishAsync(topic, payload, { qos: 1, retain });
    },
    resultFor: async (id, timeoutMs = 10_000) => {
      await waitUntil(() => results.some((r) => r.id === id), `result of ${id}`, { timeoutMs });
      return results.find((r) => r.id === id) as CommandResult;
    },
    end: async () => {
      await client.endAsync();
    },
  };
}
