import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { connectAsync, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import type { Logger } from '../../src/log.js';

/** One message a watcher received; `payload` is the parsed JSON, or undefined when it is not. */
export interface WatchedMessage {
  topic: string;
  raw: string;
  payload: Record<string, unknown> | undefined;
  retain: boolean;
  qos: number;
}

/** An MQTT client as operations would run one, recording every message under a filter. */
export class MqttWatcher {
  readonly messages: WatchedMessage[] = [];
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const raw = payload.toString('utf8');
      this.messages.push({
        topic,
        raw,
        payload: parseJson(raw),
        retain: packet.retain,
        qos: packet.qos,
      });
    });
  }

  /** Connects (reconnecting every 100 ms, subscriptions renewed) and subscribes to `filter`. */
  static async connect(url: string, filter = 'ridergate/v1/#'): Promise<MqttWatcher> {
    const client = await connectAsync(url, { reconnectPeriod: 100 });
    const watcher = new MqttWatcher(client);
    await client.subscribeAsync(filter, { qos: 1 });
    return watcher;
  }

  on(topic: string): WatchedMessage[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  /** Waits for a message on `topic` whose payload holds every field of `match`. */
  async waitFor(topic: string, match: Record<string, unknown>, timeoutMs = 20_000) {
    let found: WatchedMessage | undefined;
    await waitUntil(
      () => {
        found = this.on(topic).find((m) =>
          Object.entries(match).every(([k, v]) => m.payload?.[k] === v),
        );
        return found !== undefined;
      },
      `${topic} ${JSON.stringify(match)}`,
      timeoutMs,
    );
    return found as WatchedMessage;
  }

  /**
   * Resolves once the watcher is connected and subscribed: a probe it publishes under
   * `{prefix}/_probe` comes back to it. Probes land in `messages` like any message.
   */
  async ready(prefix = 'ridergate/v1'): Promise<void> {
    await waitUntil(() => this.client.connected, 'the watcher to connect');
    const topic = `${prefix}/_probe/${this.messages.length}-${Date.now()}`;
    await this.client.publishAsync(topic, '{}', { qos: 1 });
    await waitUntil(() => this.on(topic).length > 0, 'the watcher to be subscribed');
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

function parseJson(raw: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Polls `condition` every 20 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** What {@link TestProxy} does with a new connection. */
export type ProxyMode =
  | { kind: 'swallow' }
  | { kind: 'refuse' }
  | { kind: 'forward'; port: number };

/**
 * A TCP server in front of a broker. `swallow`: accepts and never answers (a broker hung
 * after accept, a captive middlebox); `refuse`: closes each new connection at once; `forward`:
 * relays new connections to a port on 127.0.0.1. A mode applies to connections made after it
 * is set; connections already swallowed stay swallowed.
 */
export interface TestProxy {
  url: string;
  /** Connections accepted so far. */
  readonly accepted: number;
  setMode(mode: ProxyMode): void;
  close(): Promise<void>;
}

export async function startProxy(initial: ProxyMode = { kind: 'swallow' }): Promise<TestProxy> {
  const sockets = new Set<Socket>();
  let mode = initial;
  let accepted = 0;
  const server: Server = createServer((inbound) => {
    accepted += 1;
    sockets.add(inbound);
    inbound.on('close', () => sockets.delete(inbound));
    inbound.on('error', () => inbound.destroy());
    if (mode.kind === 'refuse') {
      inbound.destroy();
      return;
    }
    if (mode.kind === 'swallow') {
      inbound.on('data', () => undefined);
      return;
    }
    const outbound = createConnection({ port: mode.port, host: '127.0.0.1' });
    sockets.add(outbound);
    outbound.on('close', () => {
      sockets.delete(outbound);
      inbound.destroy();
    });
    outbound.on('error', () => outbound.destroy());
    inbound.on('close', () => outbound.destroy());
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
    setMode: (next) => {
      mode = next;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A pino logger at debug level whose lines are parsed back into objects for assertions. */
export function capturingLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink) as unknown as Logger, lines };
}
