import { isRidergateError, RidergateError } from '../errors.js';
import type { GateEvent } from '../event.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/types.js';

/** Events read from the store per round. */
const DEFAULT_BATCH = 50;
/** Default bound of the drain rate, events per second (`mqtt.drainPerSec`). */
export const DEFAULT_DRAIN_PER_SEC = 200;
/** Failed publishes of one event before it is set aside. */
export const DEFAULT_MAX_ATTEMPTS = 3;
/** Wait before trying again after a failed publish while still connected, ms. */
const DEFAULT_RETRY_MS = 5_000;

/** What the pump needs from the link and the store. */
export interface OutboxPumpDeps {
  store: Pick<Store, 'undelivered' | 'markDelivered'>;
  /**
   * Publishes one event; resolves on the broker's acknowledgement (PUBACK), rejects on failure.
   * A rejection made by {@link undeliverableError} sets the event aside at once.
   */
  publish: (event: GateEvent) => Promise<void>;
  /** False while the link cannot publish: disconnected or stopping. */
  canPublish: () => boolean;
  /**
   * Takes an event the broker will not take out of the outbox for good (mark it in the store,
   * raise the alarm). Called once per event; a rejection is logged, and the event is skipped
   * for the rest of the process's life anyway.
   */
  setAside?: (event: GateEvent, detail: string) => Promise<void>;
  log: Logger;
  /** Events read from the store per round; default 50. */
  batchSize?: number;
  /** Most events published per second; default {@link DEFAULT_DRAIN_PER_SEC}. */
  drainPerSec?: number;
  /** Failed publishes of the same event before it is set aside; default 3. */
  maxAttempts?: number;
  /** Wait before trying again after a failure while still connected, ms; default 5000. */
  retryMs?: number;
}

/** The rejection a publish gives for an event no broker attempt can deliver (e.g. too large). */
export function undeliverableError(message: string, context: Record<string, unknown>): Error {
  return new RidergateError('link_failed', message, { context: { ...context, permanent: true } });
}

/**
 * Delivers the outbox (undelivered journal events) in seq order, one event at a time, and marks
 * events delivered only after the broker acknowledged them, one store transaction per batch.
 * A backlog drains at most `drainPerSec` events a second, with a turn of the event loop between
 * batches, so scans keep their latency while it drains.
 *
 * One drain runs at a time: a {@link notify} during a drain makes that drain look again rather
 * than start a second one, so no event is published twice by the pump.
 *
 * An event whose publish fails `maxAttempts` times in a row, or that is undeliverable outright,
 * is set aside (field case M4) and the pump goes on with the next one: it never blocks the
 * outbox behind it.
 */
export class OutboxPump {
  private readonly deps: OutboxPumpDeps;
  /** The drain in progress, if any. */
  private current: Promise<void> | undefined;
  private again = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly attempts = new Map<string, number>();
  private readonly setAsideIds = new Set<string>();
  /** Events acknowledged by the broker since start. */
  published = 0;
  /** Publishes that failed (the link dropped); the event stays in the outbox. */
  failures = 0;
  /** Events set aside since start. */
  setAsideCount = 0;

  constructor(deps: OutboxPumpDeps) {
    this.deps = deps;
  }

  /** Asks for a drain: after each record and on every connection. Never throws. */
  notify(): void {
    void this.run();
  }

  /** Cancels a scheduled retry; a drain in progress ends when `canPublish` turns false. */
  stop(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /**
   * Drains until the outbox is empty or publishing stops. A call during a drain asks that drain
   * to look again and resolves with it, so awaiting it waits for what is queued now (used at a
   * clean stop). Never rejects.
   */
  run(): Promise<void> {
    if (this.current !== undefined) {
      this.again = true;
      return this.current;
    }
    this.current = this.loop().finally(() => {
      this.current = undefined;
    });
    return this.current;
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.drain();
      } while (this.again && this.deps.canPublish());
    } catch (err) {
      this.deps.log.warn({ err }, 'outbox drain failed');
    }
  }

  private async drain(): Promise<void> {
    const perSec = Math.max(1, this.deps.drainPerSec ?? DEFAULT_DRAIN_PER_SEC);
    const batchSize = Math.min(this.deps.batchSize ?? DEFAULT_BATCH, Math.ceil(perSec));
    while (this.deps.canPublish()) {
      const startedMs = performance.now();
      const read = await this.deps.store.undelivered(batchSize);
      const batch = read.filter((event) => !this.setAsideIds.has(event.id));
      if (batch.length === 0) return;
      const { acked, stopped } = await this.publishInOrder(batch);
      // One transaction per batch: each mark is an fsync, too slow per event on an SD card.
      if (acked.length > 0) await this.deps.store.markDelivered(acked);
      if (stopped || read.length < batchSize) return;
      await pace(startedMs, (batch.length * 1000) / perSec);
    }
  }

  /** Publishes until a failure that stops the drain; returns the ids the broker acknowledged. */
  private async publishInOrder(batch: GateEvent[]): Promise<{ acked: string[]; stopped: boolean }> {
    const acked: string[] = [];
    for (const event of batch) {
      if (!this.deps.canPublish()) return { acked, stopped: true };
      try {
        await this.deps.publish(event);
      } catch (err) {
        if (await this.failed(event, err)) continue;
        return { acked, stopped: true };
      }
      this.attempts.delete(event.id);
      this.published += 1;
      acked.push(event.id);
    }
    return { acked, stopped: false };
  }

  /** Counts a failed publish; true when the event was set aside and the drain may go on. */
  private async failed(event: GateEvent, err: unknown): Promise<boolean> {
    this.failures += 1;
    const attempts = (this.attempts.get(event.id) ?? 0) + 1;
    const permanent = isRidergateError(err) && err.context.permanent === true;
    const maxAttempts = this.deps.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!permanent && attempts < maxAttempts) {
      this.attempts.set(event.id, attempts);
      this.deps.log.warn({ err, seq: event.seq, attempts }, 'event publish failed');
      this.scheduleRetry();
      return false;
    }
    this.attempts.delete(event.id);
    const why = err instanceof Error ? err.message : String(err);
    const detail = permanent
      ? `event seq ${event.seq} (id ${event.id}) set aside: ${why}; it stays in the journal`
      : `event seq ${event.seq} (id ${event.id}) set aside after ${attempts} failed publishes ` +
        `(last: ${why}); the broker probably refuses it (size limit?); it stays in the journal`;
    await this.setAside(event, detail);
    return true;
  }

  private async setAside(event: GateEvent, detail: string): Promise<void> {
    this.setAsideIds.add(event.id);
    this.setAsideCount += 1;
    this.deps.log.error({ seq: event.seq, id: event.id, detail }, 'event set aside');
    try {
      await this.deps.setAside?.(event, detail);
    } catch (err) {
      this.deps.log.error({ err, seq: event.seq }, 'set-aside not recorded');
    }
  }

  /** While still connected nothing else would wake the pump: try again after `retryMs`. */
  private scheduleRetry(): void {
    if (!this.deps.canPublish() || this.retryTimer !== undefined) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.notify();
    }, this.deps.retryMs ?? DEFAULT_RETRY_MS);
    this.retryTimer.unref();
  }
}

/** Waits until `minMs` have passed since `startedMs`, and at least one event-loop turn. */
function pace(startedMs: number, minMs: number): Promise<void> {
  const waitMs = Math.max(0, minMs - (performance.now() - startedMs));
  return new Promise((resolve) => setTimeout(resolve, waitMs));
}
