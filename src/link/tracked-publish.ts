import type { MqttClient } from 'mqtt';

/** One QoS 1 publish that can be taken back out of mqtt.js's outgoing store. */
interface InFlight {
  client: MqttClient;
  messageId: number | undefined;
  reject: (err: Error) => void;
}

/**
 * Publishes outbox events at QoS 1 one at a time, with a deadline, and takes an unacknowledged
 * event back when the connection closes.
 *
 * mqtt.js keeps an unacknowledged QoS 1 PUBLISH in its outgoing store and sends it again first
 * at every reconnection, and emits `connect` only once the broker acknowledged it. A broker
 * that closes the connection because of that packet (mosquitto's `max_packet_size` does, with
 * an MQTT 3.1.1 client) therefore closes every new connection too: the gate would never get
 * its status or any later event through (field case M4). Taken back instead, the event stays
 * in the outbox (SQLite), and the pump publishes it again or sets it aside.
 */
export class TrackedPublisher {
  private current: InFlight | undefined;

  /** True while an event waits for its PUBACK. */
  get inFlight(): boolean {
    return this.current !== undefined;
  }

  /**
   * Publishes `payload` at QoS 1; resolves on PUBACK.
   * @throws Error when no PUBACK came within `timeoutMs` or the connection closed first
   * (the message is then removed from mqtt.js's store), or when mqtt.js refused it.
   */
  async publish(
    client: MqttClient,
    topic: string,
    payload: string,
    timeoutMs: number,
  ): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const entry: InFlight = { client, messageId: undefined, reject: () => undefined };
    const acked = new Promise<void>((resolve, reject) => {
      entry.reject = reject;
      const done = (err?: Error): void => (err ? reject(err) : resolve());
      client.publish(topic, payload, { qos: 1 }, done);
      // mqtt.js allocates the message id synchronously when nothing is queued before it.
      entry.messageId = findMessageId(client, done);
      timer = setTimeout(() => this.takeBack(entry, `no PUBACK within ${timeoutMs} ms`), timeoutMs);
    });
    this.current = entry;
    try {
      await acked;
    } finally {
      clearTimeout(timer);
      if (this.current === entry) this.current = undefined;
    }
  }

  /** Call when the connection closed: the event in flight is taken back (its publish rejects). */
  connectionClosed(): void {
    if (this.current !== undefined) this.takeBack(this.current, 'connection closed before PUBACK');
  }

  /** Rejects the publish with `reason` (first settlement wins), then removes the message. */
  private takeBack(entry: InFlight, reason: string): void {
    entry.reject(new Error(reason));
    if (entry.messageId !== undefined) entry.client.removeOutgoingMessage(entry.messageId);
  }
}

function findMessageId(client: MqttClient, callback: unknown): number | undefined {
  for (const [id, outgoing] of Object.entries(client.outgoing)) {
    if (outgoing.cb === callback) return Number(id);
  }
  return undefined;
}
