import type { Logger } from '../log.js';

/** What the link knows about a received message. */
export interface MessageMeta {
  topic: string;
  /**
   * The RETAIN flag as delivered. MQTT 3.1.1 §3.3.1.3: the broker sets it only on a message
   * sent because of a new subscription (a retained message), never on a live one.
   */
  retain: boolean;
}

/** A topic the link subscribes to at every connection and hands each message of to `handle`. */
export interface MqttSubscription {
  /** An exact topic name (no wildcards). */
  topic: string;
  /** Largest payload handed on, bytes; a larger one goes to `tooLarge` (or is dropped). */
  maxBytes: number;
  /** Subscription QoS; default 1. */
  qos?: 0 | 1;
  handle(payload: Buffer, meta: MessageMeta): void | Promise<void>;
  /** A payload over maxBytes; default: logged and dropped. */
  tooLarge?(bytes: number, meta: MessageMeta): void | Promise<void>;
}

/**
 * Hands one message to its subscription: bounded by maxBytes, and a handler that throws or
 * rejects is logged, never passed on.
 */
export async function dispatchMessage(
  sub: MqttSubscription,
  payload: Buffer,
  meta: MessageMeta,
  log: Logger,
): Promise<void> {
  try {
    if (payload.length > sub.maxBytes) {
      log.warn(
        { topic: meta.topic, bytes: payload.length, limit: sub.maxBytes },
        'message too large',
      );
      await sub.tooLarge?.(payload.length, meta);
      return;
    }
    await sub.handle(payload, meta);
  } catch (err) {
    log.error({ err, topic: meta.topic }, 'message not handled');
  }
}
