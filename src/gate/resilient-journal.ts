import { describeError, isRidergateError } from '../errors.js';
import type { EventDraft } from '../event.js';
import type { Logger } from '../log.js';
import { errorCode } from '../store/store-errors.js';
import type { ReplayEntry, Store } from '../store/types.js';
import { HeldReplays } from './held-replays.js';

/**
 * Events held in memory while the store cannot be written. A gate decides a few hundred scans
 * a day, so 10,000 events cover weeks of a failed SD card; at roughly 1 KB each (the draft,
 * its replay entry and the array slot) the queue stays near 10 MB at most on a Pi.
 */
export const DEFAULT_QUEUE_CAPACITY = 10_000;

/** How often a failed store is tried again, ms. */
export const DEFAULT_RETRY_MS = 2_000;

/**
 * Driver codes after which the connection itself must be opened again: a database opened
 * while its filesystem was read-only stays read-only, a vanished file stays vanished, and a
 * corrupt one is moved aside only by open().
 */
const REOPEN_CODES: ReadonlySet<string> = new Set([
  'SQLITE_READONLY',
  'SQLITE_CANTOPEN',
  'SQLITE_IOERR',
  'SQLITE_CORRUPT',
  'SQLITE_NOTADB',
]);

/** An event as the journal gives it back: `seq` is missing while it waits in memory. */
export type JournaledEvent = EventDraft & { seq?: number };

/** What the decision pipeline needs of its journal. A {@link Store} is one. */
export interface Journal {
  record(draft: EventDraft, replay?: ReplayEntry): Promise<JournaledEvent>;
  findReplay(iss: string, cti: string): Promise<ReplayEntry | undefined>;
  isRevoked(iss: string, sub: string, cti: string, nowSec: number): Promise<boolean>;
}

/** Store health for telemetry. */
export interface JournalStats {
  /** False while events wait in memory. */
  storeHealthy: boolean;
  queuedEvents: number;
  /** Events lost because the queue was full, in the current or last outage. */
  droppedEvents: number;
  queueCapacity: number;
  /** When the store became unavailable, ms since the epoch. */
  unavailableSinceTs?: number;
  /** The last store error, e.g. `store.path /x: record failed (SQLITE_FULL): the disk is full`. */
  storeError?: string;
}

export interface ResilientJournalOptions {
  store: Pick<Store, 'record' | 'findReplay' | 'isRevoked'>;
  /** Makes an `alarm` draft (id, time, site, gate) with this reason and detail. */
  makeAlarm: (reason: string, detail: string) => EventDraft;
  /** Tells the outbox that events were written. */
  notify: () => void;
  log: Logger;
  /** Closes and opens the store again; needed after read-only, I/O and corruption errors. */
  reopen?: () => Promise<void>;
  /** The error of a store that could not be opened at start: the journal begins holding. */
  openFailure?: unknown;
  /** Default {@link DEFAULT_QUEUE_CAPACITY}. */
  capacity?: number;
  /** Default {@link DEFAULT_RETRY_MS}. */
  retryMs?: number;
  /** Wall clock for {@link JournalStats.unavailableSinceTs}; default `Date.now`. */
  nowMs?: () => number;
  /** The database file, named in the log lines. */
  storePath?: string;
  /** Called once the held events are written and the store is healthy again. */
  onRecovered?: () => void;
}

interface Held {
  draft: EventDraft;
  replay?: ReplayEntry;
}

interface Outage {
  sinceMs: number;
  error: unknown;
  alarmRaised: boolean;
  written: number;
}

/**
 * The gate's journal: the store while it works, a bounded memory queue while it does not.
 *
 * When a write fails (disk full, I/O error, read-only filesystem, a store that never opened)
 * the event is held in memory and returned without a `seq`, so the gate admits the rider
 * anyway; one `alarm` (reason `store_unavailable`) is held right behind it. Admissions held
 * in memory still count for replay checks. Every `retryMs` the store is tried again (opened
 * again when the error calls for it); when it works the held events are written in order,
 * get their seqs then, and the outbox is told. Events are published only from the store's
 * outbox, never from memory. Beyond `capacity` events are dropped, logged once, and an
 * `alarm` (reason `events_dropped`) follows the recovery.
 */
export class ResilientJournal implements Journal {
  private readonly opts: ResilientJournalOptions;
  private readonly log: Logger;
  private readonly capacity: number;
  private readonly queue: Held[] = [];
  private readonly replays: HeldReplays;
  private outage: Outage | undefined;
  private dropped = 0;
  private storeOpen: boolean;
  private reopenNeeded = false;
  private tail: Promise<unknown> = Promise.resolve();
  private retrying: Promise<boolean> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: ResilientJournalOptions) {
    this.opts = opts;
    this.log = opts.log.child({ component: 'journal' });
    this.capacity = opts.capacity ?? DEFAULT_QUEUE_CAPACITY;
    this.replays = new HeldReplays(this.capacity * 2);
    this.storeOpen = opts.openFailure === undefined;
    if (opts.openFailure !== undefined) this.fail(opts.openFailure);
  }

  /** Journals the event, or holds it in memory when the store fails. Never rejects. */
  record(draft: EventDraft, replay?: ReplayEntry): Promise<JournaledEvent> {
    const run = async (): Promise<JournaledEvent> => {
      if (this.outage === undefined) {
        try {
          return await this.opts.store.record(draft, replay);
        } catch (err) {
          this.fail(err);
        }
      }
      return this.hold(draft, replay);
    };
    // One at a time, so events reach the store (or the queue) in the order they were made.
    const result = this.tail.then(run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** The stored use of iss + cti, else one held in memory. */
  async findReplay(iss: string, cti: string): Promise<ReplayEntry | undefined> {
    const held = this.replays.get(iss, cti);
    if (!this.storeOpen) return held;
    try {
      // A stored use is always older than a held one: the first use wins.
      return (await this.opts.store.findReplay(iss, cti)) ?? held;
    } catch (err) {
      if (this.outage === undefined) throw err;
      this.log.debug({ err, cti }, 'replay lookup failed during outage; held uses only');
      return held;
    }
  }

  /** Revocation from the store; while the store is unavailable, not revoked (fail open). */
  async isRevoked(iss: string, sub: string, cti: string, nowSec: number): Promise<boolean> {
    if (!this.storeOpen) return false;
    try {
      return await this.opts.store.isRevoked(iss, sub, cti, nowSec);
    } catch (err) {
      if (this.outage === undefined) throw err;
      this.log.debug({ err, cti }, 'revocation lookup failed during outage; not revoked');
      return false;
    }
  }

  stats(): JournalStats {
    const outage = this.outage;
    return {
      storeHealthy: outage === undefined,
      queuedEvents: this.queue.length,
      droppedEvents: this.dropped,
      queueCapacity: this.capacity,
      ...(outage === undefined
        ? {}
        : { unavailableSinceTs: outage.sinceMs, storeError: describeError(outage.error) }),
    };
  }

  /**
   * Tries the store once: opens it again when needed, then writes the held events in order.
   * Resolves true when the store is healthy (nothing held). Runs by itself on a timer.
   */
  retry(): Promise<boolean> {
    this.retrying ??= this.attempt().finally(() => {
      this.retrying = undefined;
    });
    return this.retrying;
  }

  /** Stops retrying after one last attempt; events still held are reported as lost. */
  async close(): Promise<void> {
    this.stopTimer();
    await this.tail;
    if (this.outage === undefined) return;
    await this.retry();
    this.stopTimer();
    if (this.queue.length > 0)
      this.log.error({ queued: this.queue.length }, 'held events lost at stop: store unavailable');
  }

  private fail(err: unknown): void {
    this.outage = {
      sinceMs: (this.opts.nowMs ?? Date.now)(),
      error: err,
      alarmRaised: false,
      written: 0,
    };
    this.dropped = 0;
    this.reopenNeeded = !this.storeOpen || needsReopen(err);
    this.log.error(
      { err, path: this.opts.storePath, capacity: this.capacity },
      this.storeOpen
        ? 'store unavailable: events held in memory until it recovers'
        : 'store could not be opened: the gate runs with events held in memory until it opens',
    );
    this.timer = setInterval(() => void this.retry(), this.opts.retryMs ?? DEFAULT_RETRY_MS);
    this.timer.unref();
  }

  private hold(draft: EventDraft, replay: ReplayEntry | undefined): JournaledEvent {
    this.enqueue(draft, replay);
    const outage = this.outage;
    if (outage !== undefined && !outage.alarmRaised) {
      outage.alarmRaised = true;
      const detail =
        `the journal cannot be written (${describeError(outage.error)}); valid riders are ` +
        `still admitted and up to ${this.capacity} events wait in memory until it recovers`;
      this.enqueue(this.opts.makeAlarm('store_unavailable', detail), undefined);
    }
    return draft;
  }

  private enqueue(draft: EventDraft, replay: ReplayEntry | undefined): void {
    // Remembered even when the event itself is dropped: a token must not pass twice.
    if (replay !== undefined) this.replays.add(replay);
    if (this.queue.length < this.capacity) {
      this.queue.push(replay === undefined ? { draft } : { draft, replay });
      return;
    }
    this.dropped += 1;
    if (this.dropped === 1)
      this.log.error(
        { capacity: this.capacity, id: draft.id, type: draft.type },
        'journal queue full: further events are dropped until the store recovers',
      );
  }

  private async attempt(): Promise<boolean> {
    const outage = this.outage;
    if (outage === undefined) return true;
    try {
      if (this.reopenNeeded && this.opts.reopen !== undefined) {
        this.storeOpen = false;
        await this.opts.reopen();
        this.storeOpen = true;
        this.reopenNeeded = false;
      }
      await this.writeHeld(outage);
      return true;
    } catch (err) {
      outage.error = err;
      this.reopenNeeded = !this.storeOpen || needsReopen(err);
      this.log.debug({ err, queued: this.queue.length }, 'store still unavailable');
      return false;
    }
  }

  /** Writes the queue head first; ends the outage the moment the queue is empty. */
  private async writeHeld(outage: Outage): Promise<void> {
    let written = 0;
    try {
      while (this.queue.length > 0) {
        const head = this.queue[0] as Held;
        await this.opts.store.record(head.draft, head.replay);
        this.queue.shift();
        if (head.replay !== undefined) this.replays.forget(head.replay);
        written += 1;
      }
    } finally {
      outage.written += written;
      if (written > 0) this.opts.notify();
    }
    // No await between the empty check above and here: a record() cannot slip in between.
    this.recovered(outage);
  }

  private recovered(outage: Outage): void {
    this.outage = undefined;
    this.replays.clear();
    this.stopTimer();
    const unavailableMs = (this.opts.nowMs ?? Date.now)() - outage.sinceMs;
    this.log.info(
      { written: outage.written, dropped: this.dropped, unavailableMs },
      'store recovered: held events written',
    );
    this.opts.onRecovered?.();
    if (this.dropped > 0) {
      const detail =
        `${this.dropped} events were lost while the store was unavailable: the memory ` +
        `queue holds ${this.capacity}`;
      void this.record(this.opts.makeAlarm('events_dropped', detail));
    }
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** True when `err` leaves the connection unusable until it is opened again. */
function needsReopen(err: unknown): boolean {
  const code = isRidergateError(err) ? err.context.errCode : errorCode(err);
  return typeof code === 'string' && REOPEN_CODES.has(code);
}
