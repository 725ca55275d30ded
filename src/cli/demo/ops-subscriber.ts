import mqtt, { type MqttClient } from 'mqtt';

/** One message as operations received it. */
export interface OpsMessage {
  topic: string;
  payload: string;
  retain: boolean;
  /** performance.now() at arrival, ms. */
  mono: number;
}

/** An operations-side MQTT client that records everything under one gate's topics. */
export class OpsSubscriber {
  readonly messages: OpsMessage[] = [];
  private waiters: (() => void)[] = [];

  private constructor(private readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      this.messages.push({
        topic,
        payload: payload.toString('utf8'),
        retain: packet.retain,
        mono: performance.now(),
      });
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    });
  }

  static async connect(url: string, filter: string): Promise<OpsSubscriber> {
    const client = await mqtt.connectAsync(url, {
      clientId: `ops-demo-${process.pid}`,
      reconnectPeriod: 500,
    });
    const ops = new OpsSubscriber(client);
    await client.subscribeAsync(filter, { qos: 1 });
    return ops;
  }

  /** Resolves with the first message matching `match`, or undefined after `timeoutMs`. */
  async waitFor(
    match: (m: OpsMessage) => boolean,
    timeoutMs: number,
  ): Promise<OpsMessage | undefined> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(match);
      if (found !== undefined) return found;
      const left = deadline - performance.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
