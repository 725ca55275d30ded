import { isRidergateError } from '../errors.js';
import type { GateEvent } from '../event.js';
import type { Logger } from '../log.js';
import type { SetAsideEvent, SetAsideKind, SetAsideStore, Store } from '../store/types.js';

/** First retry of a suspected event, ms after it was set aside: 10 minutes. */
export const ASIDE_RETRY_MIN_MS = 10 * 60_000;
/** Longest wait between two retries of a suspected event, ms: 24 hours. */
export const ASIDE_RETRY_MAX_MS = 24 * 3_600_000;
/** Refused events read per page when they are checked against the size limit. */
const REFUSED_PAGE = 100;

/**
 * The wait before the next retry of a suspected event that has failed `retries` retries so
 * far: `minMs` doubled at each failed retry, at most `maxMs` (10, 20, 40 … minutes, then 24 h
 * with the defaults).
 */
export function asideRetryDelayMs(
  retries: number,
  minMs = ASIDE_RETRY_MIN_MS,
  maxMs = ASIDE_RETRY_MAX_MS,
): number {
  return Math.min(maxMs, minMs * 2 ** Math.min(Math.max(0, retries), 32));
}

/** `600000` → `10 min`, `86400000` → `24 h`, `1500` → `1.5 s`: a retry delay for people. */
export function describeDelay(ms: number): string {
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 100) / 10} s`;
}

/** True when `err` says no publish can ever deliver the event (e.g. over the size limit). */
export function isPermanent(err: unknown): boolean {
  return isRidergateError(err) && err.context.permanent === true;
}

/** What the retries need from the store and the link. */
export interface AsideRetriesDeps {
  store: SetAsideStore & Pick<Store, 'markDelivered'>;
  /** Publishes one event; resolves on the broker's acknowledgement. */
  publish: (event: GateEvent, options: { backlog: true }) => Promise<void>;
  canPublish: () => boolean;
  /** Whether the event, as it would be published now, is within the size limit. */
  fits: (event: GateEvent) => boolean;
  /** Wall-clock time, ms since the epoch. */
  nowMs: () => number;
  log: Logger;
  /** First retry after this long, ms; default {@link ASIDE_RETRY_MIN_MS}. */
  retryMinMs?: number | undefined;
  /** Longest wait between retries, ms; default {@link ASIDE_RETRY_MAX_MS}. */
  retryMaxMs?: number | undefined;
}

/** How one {@link AsideRetries.retryOne} ended. */
export type RetryOutcome = 'none_due' | 'delivered' | 'failed';

/**
 * Keeps set-aside events (field case M4) and gives them another chance. A *suspected* event
 * (the connection dropped while it was in flight, `maxAttempts` times) is retried after a
 * backoff: {@link asideRetryDelayMs}, kept in the store so that it survives restarts. A
 * *refused* event (over `mqtt.maxEventBytes`) is retried only once it fits: the limit is read
 * at start, so refused events are checked against it once per process, at the first retry
 * round; one that fits is then due at once, as a suspected event.
 *
 * The caller (the outbox pump) retries only while connected and once the outbox is empty, one
 * event at a time, so an event that makes the broker drop the connection costs at most one
 * disconnect per backoff step and never holds up the outbox. A retry is published as a
 * backlog event (`replay: true`); one that is acknowledged marks the event delivered and logs
 * one info line; a failed one moves the backoff on and logs a warning, never a new alarm.
 */
export class AsideRetries {
  private readonly deps: AsideRetriesDeps;
  private refusedChecked = false;
  /** Retries published since start (acknowledged or not). */
  retries = 0;
  /** Set-aside events acknowledged by the broker on a retry since start. */
  delivered = 0;

  constructor(deps: AsideRetriesDeps) {
    this.deps = deps;
  }

  /** Records a first set-aside in the store; a suspected event gets its first retry time. */
  async setAside(event: GateEvent, kind: SetAsideKind): Promise<void> {
    const retryAtMs = kind === 'suspected' ? this.deps.nowMs() + this.delayMs(0) : undefined;
    await this.deps.store.setAside(event.id, { kind, retryAtMs });
  }

  /**
   * Retries the set-aside event due first, if any. Call only while the outbox is empty.
   * @throws Error when the store fails (the caller logs it; the schedule is unchanged).
   */
  async retryOne(): Promise<RetryOutcome> {
    if (!this.refusedChecked) await this.checkRefused();
    const nowMs = this.deps.nowMs();
    const maxWaitMs = this.deps.retryMaxMs ?? ASIDE_RETRY_MAX_MS;
    const due = await this.deps.store.nextAsideDue(nowMs, maxWaitMs);
    if (due === undefined) return 'none_due';
    if (!this.deps.canPublish()) return 'failed';
    this.retries += 1;
    try {
      // However soon it goes, a set-aside event is history: it comes from a backlog.
      await this.deps.publish(due.event, { backlog: true });
    } catch (err) {
      await this.failed(due, err);
      return 'failed';
    }
    await this.deps.store.markDelivered([due.event.id]);
    this.delivered += 1;
    this.deps.log.info(
      { seq: due.event.seq, id: due.event.id, retries: due.retries },
      'set-aside event delivered',
    );
    return 'delivered';
  }

  /** A failed retry: the backoff moves on (or the event turns out refused); no alarm. */
  private async failed(due: SetAsideEvent, err: unknown): Promise<void> {
    const { seq, id } = due.event;
    const retries = due.retries + 1;
    if (isPermanent(err)) {
      await this.deps.store.rescheduleAside(id, { kind: 'refused', retries });
      this.deps.log.warn({ err, seq, id, kind: 'refused' }, 'set-aside event retry refused');
      return;
    }
    const retryAtMs = this.deps.nowMs() + this.delayMs(retries);
    await this.deps.store.rescheduleAside(id, { kind: 'suspected', retries, retryAtMs });
    this.deps.log.warn(
      { err, seq, id, retries, nextRetry: new Date(retryAtMs).toISOString() },
      'set-aside event retry failed',
    );
  }

  /** Refused events that fit the limit now become due at once, as suspected ones. */
  private async checkRefused(): Promise<void> {
    let afterSeq = 0;
    for (;;) {
      const page = await this.deps.store.refusedAside(afterSeq, REFUSED_PAGE);
      for (const event of page) {
        if (!this.deps.fits(event)) continue;
        await this.deps.store.rescheduleAside(event.id, {
          kind: 'suspected',
          retries: 0,
          retryAtMs: this.deps.nowMs(),
        });
        this.deps.log.info({ seq: event.seq, id: event.id }, 'refused event fits now');
      }
      const last = page.at(-1);
      if (last === undefined || page.length < REFUSED_PAGE) break;
      afterSeq = last.seq;
    }
    this.refusedChecked = true;
  }

  private delayMs(retries: number): number {
    return asideRetryDelayMs(
      retries,
      this.deps.retryMinMs ?? ASIDE_RETRY_MIN_MS,
      this.deps.retryMaxMs ?? ASIDE_RETRY_MAX_MS,
    );
  }
}
