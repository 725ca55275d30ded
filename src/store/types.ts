import type { EventDraft, GateEvent } from '../event.js';

/**
 * Why an event is set aside, out of the outbox (field case M4): `refused` when it is over
 * `mqtt.maxEventBytes` (known before publishing), `suspected` when the connection dropped while
 * it was in flight, time after time (the broker may refuse it, or the network was flaky).
 */
export type SetAsideKind = 'refused' | 'suspected';

/** The kind of a set-aside event and when it is next retried. */
export interface AsideSchedule {
  kind: SetAsideKind;
  /** Next retry of a suspected event, ms since the epoch; undefined for a refused one. */
  retryAtMs?: number | undefined;
}

/** A set-aside event with its retry state. */
export interface SetAsideEvent extends AsideSchedule {
  event: GateEvent;
  /** Failed retries since it was set aside (or requeued). */
  retries: number;
}

/** Events set aside now (not delivered since), by kind. */
export interface SetAsideCounts {
  suspected: number;
  refused: number;
}

/**
 * What the outbox needs to keep set-aside events and their retry schedule across restarts.
 * SqliteStore has it; a store without it makes the pump skip such an event until the process
 * restarts.
 */
export interface SetAsideStore {
  /** Takes an undelivered event out of the outbox, set aside as `aside.kind`, 0 retries. */
  setAside(id: string, aside: AsideSchedule): Promise<void>;
  /** After a failed retry: the event's new kind, retry count and next retry time. */
  rescheduleAside(id: string, aside: AsideSchedule & { retries: number }): Promise<void>;
  /**
   * The suspected event to retry first at `nowMs`: its retry time has passed (or is unknown,
   * or lies more than `maxWaitMs` ahead, which only a wrong clock makes), earliest retry time
   * first, then seq.
   */
  nextAsideDue(nowMs: number, maxWaitMs: number): Promise<SetAsideEvent | undefined>;
  /** Up to `limit` refused events with a seq above `afterSeq`, in seq order. */
  refusedAside(afterSeq: number, limit: number): Promise<GateEvent[]>;
  setAsideCounts(): Promise<SetAsideCounts>;
}

/** A token use remembered for replay and re-entry checks, keyed on iss + cti. */
export interface ReplayEntry {
  iss: string;
  cti: string;
  /** First admission at this gate, ms since the epoch. */
  firstUsedMs: number;
  /** Token expiry, seconds since the epoch: the entry may be pruned after it. */
  expSec: number;
}

/**
 * The gate's durable state on SQLite: journal and outbox (one events table), replay cache,
 * revocations, settings.
 */
export interface Store {
  open(): Promise<void>;
  close(): Promise<void>;
  /**
   * Journals one event durably (WAL, synchronous FULL) and gives it the next `seq`.
   * When `replay` is given it is remembered in the same transaction.
   */
  record(draft: EventDraft, replay?: ReplayEntry): Promise<GateEvent>;
  /** The oldest undelivered events, in seq order. */
  undelivered(limit: number): Promise<GateEvent[]>;
  /** Marks events as delivered (acknowledged by the broker). */
  markDelivered(ids: string[]): Promise<void>;
  /** Number of undelivered events. */
  outboxDepth(): Promise<number>;
  /** The remembered use of iss + cti, if any. */
  findReplay(iss: string, cti: string): Promise<ReplayEntry | undefined>;
  /** True when the rider (iss + sub) or the token (iss + cti) is revoked at time nowSec. */
  isRevoked(iss: string, sub: string, cti: string, nowSec: number): Promise<boolean>;
  /** Adds a revocation by sub or cti, with an optional end time (seconds). */
  revoke(entry: {
    iss: string;
    kind: 'sub' | 'cti';
    value: string;
    untilSec?: number;
  }): Promise<void>;
  /** A value from the settings table. */
  getSetting(key: string): Promise<string | undefined>;
  setSetting(key: string, value: string): Promise<void>;
}
