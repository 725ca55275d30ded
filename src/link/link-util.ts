import type { MqttClient } from 'mqtt';

/* Small helpers of the MQTT link. */

/** Messages in the client's memory: queued while offline, or awaiting their acknowledgement. */
export function clientHeld(client: MqttClient): number {
  return client.queue.length + Object.keys(client.outgoing).length;
}

/** `1500` → `1.5 s`, `60000` → `60 s`. */
export function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** Rejects when `promise` has not settled within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
