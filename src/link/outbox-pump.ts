import { RidergateError } from '../errors.js';
import type { GateEvent } from '../event.js';
import type { Logger } from '../log.js';
import type { SetAsideKind, SetAsideStore, Store } from '../store/types.js';
import {
  ASIDE_RETRY_MAX_MS,
  ASIDE_RETRY_MIN_MS,
  AsideRetries,
  describeDelay,
  isPermanent,
} from './aside-retries.js';

/** Events read from the store per round. */
const DEFAULT_BATCH = 50;
/** Default bound of the drain rate, events per second (`mqtt.drainPerSec`). */
export const DEFAULT_DRAIN_PER_SEC = 200;
/** Failed publishes of one event before it is set aside. */
export const DEFAULT_MAX_ATTEMPTS = 3;
/** Wait before trying again after a failed publish while still connected, ms. */
const DEFAULT_RETRY_MS = 5_000;
/** Time between two rounds of retries of set-aside events while connected, ms. */
export const DEFAULT_SWEEP_MS = 60_000;

/** What the pump needs from the link and the store. */
export interface OutboxPumpDeps {
  /**
   * The outbox. With the set-aside methods (SqliteStore has them) a set-aside event is kept
   * out of the outbox in the store and retried later; without them it is skipped until the
   * process restarts.
   */
  store: Pick<Store, 'undelivered' | 'markDelivered'> & Partial<SetAsideStore>;
  /**
   * Publishes one event; resolves on the broker's acknowledgement (PUBACK), rejects on failure.
   * A rejection made by {@link undeliverableError} sets the event aside at once, as refused.
   * `backlog` (retries of set-aside events) asks for `replay: true` whatever the event's age.
   */
  publish: (event: GateEvent, options?: { backlog: true }) => Promise<void>;
  /** False while the link cannot publish: disconnected or stopping. */
  canPublish: () => boolean;
  /**
   * Told once per event, when it is first set aside (after the store has it): raises the
   * alarm. A rejection is logged.
   */
  onSetAside?: (event: GateEvent, detail: string) => Promise<void>;
  /** Whether an event would be within the size limit if published now; default: always. */
  fits?: (event: GateEvent) => boolean;
  /** Wall-clock time for the retry schedule, ms since the epoch; default `Date.now`. */
  nowMs?: () => number;
  log: Logger;
  /** Events read from the store per round; default 50. */
  batchSize?: number | undefined;
  /** Most events published per second; default {@link DEFAULT_DRAIN_PER_SEC}. */
  drainPerSec?: number | undefined;
  /** Failed publishes of the same event before it is set aside; default 3. */
  maxAttempts?: number | undefined;
  /** Wait before trying again after a failure while still connected, ms; default 5000. */
  retryMs?: number | undefined;
  /** Time between rounds of set-aside retries, ms; default {@link DEFAULT_SWEEP_MS}. */
  sweepMs?: number | undefined;
  /** First retry of a suspected event after this long, ms; default 10 minutes. */
  asideRetryMinMs?: number | undefined;
  /** Longest wait between two retries of a suspected event, ms; default 24 hours. */
  asideRetryMaxMs?: number | undefined;
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
 * An event whose publish fails `maxAttempts` times in a row is set aside as *suspected*; one
 * that is undeliverable outright (over the size limit) as *refused* (field case M4). Either
 * way the pump goes on with the next one: it never blocks the outbox behind it, and the alarm
 * is raised then, once per event. Set-aside events get another chance ({@link AsideRetries}):
 * at each sweep (every `sweepMs` and at every {@link sweep}, e.g. on connecting), once the
 * outbox is empty, the ones due are retried one at a time while each is acknowledged.
 */
export class OutboxPump {
  private readonly deps: OutboxPumpDeps;
  private readonly aside: AsideRetries | undefined;
  /** The drain in progress, if any. */
  private current: Promise<void> | undefined;
  private again = false;
  /** A sweep was asked for: retry due set-aside events once the outbox is empty. */
  private sweepWanted = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
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
    const store = deps.store;
    if (hasSetAside(store)) {
      this.aside = new AsideRetries({
        store,
        publish: deps.publish,
        canPublish: deps.canPublish,
        fits: deps.fits ?? (() => true),
        nowMs: deps.nowMs ?? Date.now,
        log: deps.log,
        retryMinMs: deps.asideRetryMinMs,
        retryMaxMs: deps.asideRetryMaxMs,
      });
    }
  }

  /** Retries of set-aside events since start: published, and acknowledged. */
  get asideStats(): { retries: number; delivered: number } {
    return { retries: this.aside?.retries ?? 0, delivered: this.aside?.delivered ?? 0 };
  }

  /** Starts the periodic sweep of set-aside events (it does nothing while disconnected). */
  start(): void {
    this.stopped = false;
    if (this.sweepTimer !== undefined) return;
    this.sweepTimer = setInterval(() => {
      if (this.deps.canPublish()) this.sweep();
    }, this.deps.sweepMs ?? DEFAULT_SWEEP_MS);
    this.sweepTimer.unref();
  }

  /** Asks for a drain: after each record. Never throws. */
  notify(): void {
    void this.run();
  }

  /** Asks for a drain followed by retries of the set-aside events due: e.g. on connecting. */
  sweep(): void {
    if (this.stopped) return;
    this.sweepWanted = true;
    this.notify();
  }

  /**
   * Cancels scheduled work: the retry after a failure, the sweeps, set-aside retries not yet
   * started. A later {@link run} still drains the outbox (the flush at a clean stop); a drain
   * in progress ends when `canPublish` turns false.
   */
  stop(): void {
    this.stopped = true;
    this.sweepWanted = false;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  /**
   * Drains until the outbox is empty or publishing stops, then retries the set-aside events
   * due when a sweep was asked for. A call during a drain asks that drain to look again and
   * resolves with it, so awaiting it waits for what is queued now (used at a clean stop).
   * Never rejects.
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

  /** The outbox first; then, while it stays empty, one due set-aside event at a time. */
  private async drain(): Promise<void> {
    while (await this.drainOutbox()) {
      if (!this.sweepWanted || this.stopped || this.aside === undefined) return;
      const outcome = await this.aside.retryOne();
      if (outcome !== 'delivered') {
        this.sweepWanted = false;
        return;
      }
    }
  }

  /** Publishes the outbox in order; true once it was found empty, false when stopped. */
  private async drainOutbox(): Promise<boolean> {
    const perSec = Math.max(1, this.deps.drainPerSec ?? DEFAULT_DRAIN_PER_SEC);
    const batchSize = Math.min(this.deps.batchSize ?? DEFAULT_BATCH, Math.ceil(perSec));
    while (this.deps.canPublish()) {
      const startedMs = performance.now();
      const read = await this.deps.store.undelivered(batchSize);
      const batch = read.filter((event) => !this.setAsideIds.has(event.id));
      if (batch.length === 0) return true;
      const { acked, stopped } = await this.publishInOrder(batch);
      // One transaction per batch: each mark is an fsync, too slow per event on an SD card.
      if (acked.length > 0) await this.deps.store.markDelivered(acked);
      if (stopped) return false;
      // A short batch emptied the outbox; before a set-aside retry, look once more for events
      // recorded meanwhile: they go first.
      if (read.length < batchSize && !this.sweepWanted) return true;
      await pace(startedMs, (batch.length * 1000) / perSec);
    }
    return false;
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
    const permanent = isPermanent(err);
    const maxAttempts = this.deps.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!permanent && attempts < maxAttempts) {
      this.attempts.set(event.id, attempts);
      this.deps.log.warn({ err, seq: event.seq, attempts }, 'event publish failed');
      this.scheduleRetry();
      return false;
    }
    this.attempts.delete(event.id);
    const why = err instanceof Error ? err.message : String(err);
    const kind: SetAsideKind = permanent ? 'refused' : 'suspected';
    await this.setAside(event, kind, this.setAsideDetail(event, kind, attempts, why));
    return true;
  }

  /** The alarm's detail: what happened, and when the event gets another chance. */
  private setAsideDetail(
    event: GateEvent,
    kind: SetAsideKind,
    attempts: number,
    why: string,
  ): string {
    const which = `event seq ${event.seq} (id ${event.id})`;
    if (kind === 'refused') {
      return (
        `${which} set aside: ${why}; it stays in the journal and is delivered once ` +
        'mqtt.maxEventBytes is raised above its size (checked at start)'
      );
    }
    const minMs = this.deps.asideRetryMinMs ?? ASIDE_RETRY_MIN_MS;
    const maxMs = this.deps.asideRetryMaxMs ?? ASIDE_RETRY_MAX_MS;
    return (
      `${which} set aside after ${attempts} failed publishes (last: ${why}): a flaky ` +
      'network, or a broker that refuses it; it stays in the journal and is retried when ' +
      'the outbox is empty, first after ' +
      `${describeDelay(minMs)}, then at doubling intervals up to ${describeDelay(maxMs)}`
    );
  }

  private async setAside(event: GateEvent, kind: SetAsideKind, detail: string): Promise<void> {
    this.setAsideIds.add(event.id);
    this.setAsideCount += 1;
    this.deps.log.error({ seq: event.seq, id: event.id, kind, detail }, 'event set aside');
    try {
      await this.aside?.setAside(event, kind);
    } catch (err) {
      this.deps.log.error({ err, seq: event.seq }, 'set-aside not recorded');
    }
    try {
      await this.deps.onSetAside?.(event, detail);
    } catch (err) {
      this.deps.log.error({ err, seq: event.seq }, 'set-aside not reported');
    }
  }

  /** While still connected nothing else would wake the pump: try again after `retryMs`. */
  private scheduleRetry(): void {
    if (!this.deps.canPublish() || this.stopped || this.retryTimer !== undefined) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.notify();
    }, this.deps.retryMs ?? DEFAULT_RETRY_MS);
    this.retryTimer.unref();
  }
}

/** True when the store keeps set-aside events and their retry schedule. */
function hasSetAside(
  store: OutboxPumpDeps['store'],
): store is OutboxPumpDeps['store'] & SetAsideStore {
  return (
    typeof store.setAside === 'function' &&
    typeof store.rescheduleAside === 'function' &&
    typeof store.nextAsideDue === 'function' &&
    typeof store.refusedAside === 'function'
  );
}

/** Waits until `minMs` have passed since `startedMs`, and at least one event-loop turn. */
function pace(startedMs: number, minMs: number): Promise<void> {
  const waitMs = Math.max(0, minMs - (performance.now() - startedMs));
  return new Promise((resolve) => setTimeout(resolve, waitMs));
}
