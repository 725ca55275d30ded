import type { EventDraft, GateEvent } from '../event.js';

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
