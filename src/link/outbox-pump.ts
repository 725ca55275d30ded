import type { GateEvent } from '../event.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/types.js';

/** Events read from the store per round. */
const DEFAULT_BATCH = 50;

/** What the pump needs from the link and the store. */
export interface OutboxPumpDeps {
  store: Pick<Store, 'undelivered' | 'markDelivered'>;
  /** Publishes one event; resolves on the broker's acknowledgement (PUBACK), rejects on failure. */
  publish: (event: GateEvent) => Promise<void>;
  /** False while the link cannot publish: disconnected or stopping. */
  canPublish: () => boolean;
  log: Logger;
  /** Events read from the store per round; default 50. */
  batchSize?: number;
}

/**
 * Delivers the outbox (undelivered journal events) in seq order, one event at a time, and marks
 * events delivered only after the broker acknowledged them. One drain runs at a time: a
 * {@link notify} during a drain makes that drain look again rather than start a second one,
 * so no event is published twice by the pump.
 */
export class OutboxPump {
  private readonly deps: OutboxPumpDeps;
  private running = false;
  private again = false;
  /** Events acknowledged by the broker since start. */
  published = 0;
  /** Publishes that failed (the link dropped); the event stays in the outbox. */
  failures = 0;

  constructor(deps: OutboxPumpDeps) {
    this.deps = deps;
  }

  /** Asks for a drain: after each record and on every connection. Never throws. */
  notify(): void {
    void this.run();
  }

  /** Drains until the outbox is empty or publishing stops; resolves when this call is done. */
  async run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        await this.drain();
      } while (this.again && this.deps.canPublish());
    } catch (err) {
      this.deps.log.warn({ err }, 'outbox drain failed');
    } finally {
      this.running = false;
    }
  }

  private async drain(): Promise<void> {
    const batchSize = this.deps.batchSize ?? DEFAULT_BATCH;
    while (this.deps.canPublish()) {
      const batch = await this.deps.store.undelivered(batchSize);
      if (batch.length === 0) return;
      const acked = await this.publishInOrder(batch);
      // One transaction per batch: each mark is an fsync, too slow per event on an SD card.
      if (acked.length > 0) await this.deps.store.markDelivered(acked);
      if (acked.length < batch.length) return;
    }
  }

  /** Publishes until the first failure; returns the ids the broker acknowledged. */
  private async publishInOrder(batch: GateEvent[]): Promise<string[]> {
    const acked: string[] = [];
    for (const event of batch) {
      if (!this.deps.canPublish()) break;
      try {
        await this.deps.publish(event);
      } catch (err) {
        this.failures += 1;
        this.deps.log.warn({ err, seq: event.seq }, 'event publish failed');
        break;
      }
      this.published += 1;
      acked.push(event.id);
    }
    return acked;
  }
}
