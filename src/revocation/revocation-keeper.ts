import { createHash } from 'node:crypto';
import type { RevocationEntry } from '../command/command-types.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { OperatorKey } from '../trust/operators.js';
import { type RevocationDoc, verifyRevocationDoc } from './revocation-doc.js';
import { RevocationIndex } from './revocation-index.js';
import {
  applyRevocationDelta,
  deleteRevocation,
  loadRevocations,
  REVOCATION_SETTINGS,
  type RevocationStore,
  replaceRevocations,
  saveRevocation,
} from './revocation-store.js';

/** The revocation list's state for telemetry (`revocations` field). */
export interface RevocationStatus {
  /** Sequence number of the list in force; null before the first snapshot. */
  seq: number | null;
  entries: number;
  /** A delta skipped a number: deltas are ignored until the next snapshot. */
  waitingForSnapshot: boolean;
  /** When the last snapshot or delta was taken, ms since the epoch; null: never. */
  lastUpdateTs: number | null;
  /** No snapshot or delta taken for `staleAfterSec`. */
  stale: boolean;
}

/** What became of a revocation document offered to the gate. */
export type RevocationOffer =
  | { taken: true; seq: number }
  | { taken: false; reason: 'invalid' | 'not_newer' | 'gap' | 'waiting'; detail: string };

export interface RevocationKeeperOptions {
  store: RevocationStore;
  operator: (kid: string) => OperatorKey | undefined;
  nowMs: () => number;
  skewSec: number;
  log: Logger;
  /** Largest document accepted, bytes. */
  maxBytes?: number;
  /** Stale after this long without a new snapshot or delta, seconds; 0: never. */
  staleAfterSec: number;
  /** Raised once per stale episode (`revocations_stale`). */
  onStale?: (detail: string) => void | Promise<void>;
}

/**
 * The gate's revocation list: a signed snapshot (retained) plus numbered signed deltas, kept
 * in the store across restarts and in a compact in-memory index for the scan path. A delta
 * must carry the number after the list in force; after a gap every delta is ignored until a
 * newer snapshot arrives. Documents are taken one at a time, in arrival order.
 */
export class RevocationKeeper {
  private index = new RevocationIndex();
  private seq: number | undefined;
  private waiting = false;
  private lastUpdateMs: number | undefined;
  private startedMs = 0;
  private staleRaised = false;
  private loaded = false;
  /** SHA-256 of the last snapshot taken: the retained copy comes again at every connection. */
  private lastSnapshotHash: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(private readonly opts: RevocationKeeperOptions) {
    this.log = opts.log.child({ component: 'revocations' });
  }

  /** Loads the stored list and state, then watches for staleness. Never throws. */
  async start(): Promise<void> {
    this.startedMs = this.opts.nowMs();
    await this.reload();
    const periodMs = Math.min(60, Math.max(1, this.opts.staleAfterSec)) * 1000;
    if (this.opts.staleAfterSec > 0) {
      this.timer = setInterval(() => this.checkStale(), periodMs);
      this.timer.unref();
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Reads the list and its state from the store again (also the `reload` command). */
  reload(): Promise<void> {
    return this.serial(async () => {
      try {
        const s = this.opts.store;
        const index = new RevocationIndex();
        const count = await loadRevocations(s, (iss, kind, value, until) =>
          index.set(iss, kind, value, until ?? undefined),
        );
        this.index = index;
        this.loaded = true;
        this.seq = wholeOrUndefined(await s.getSetting(REVOCATION_SETTINGS.seq));
        this.waiting = (await s.getSetting(REVOCATION_SETTINGS.waiting)) === '1';
        this.lastUpdateMs = wholeOrUndefined(await s.getSetting(REVOCATION_SETTINGS.updatedTs));
        this.log.info(
          { seq: this.seq, entries: count, waiting: this.waiting },
          'revocation list loaded',
        );
      } catch (err) {
        // The gate then asks the store at each scan, as it would without the index.
        this.log.error({ err }, 'stored revocation list unreadable; looked up in the store');
      }
    });
  }

  /**
   * True when the rider (iss + sub) or the token (iss + cti) is revoked at `nowSec`; undefined
   * until the stored list is loaded (a million entries take seconds): the caller then asks the
   * store.
   */
  isRevoked(iss: string, sub: string, cti: string, nowSec: number): boolean | undefined {
    if (!this.loaded) return undefined;
    return this.index.has(iss, 'sub', sub, nowSec) || this.index.has(iss, 'cti', cti, nowSec);
  }

  /** Bytes held by the in-memory index (the benchmark reports it). */
  indexBytes(): number {
    return this.index.bytes;
  }

  status(): RevocationStatus {
    return {
      seq: this.seq ?? null,
      entries: this.index.size,
      waitingForSnapshot: this.waiting,
      lastUpdateTs: this.lastUpdateMs ?? null,
      stale: this.isStale(),
    };
  }

  /** Offers a signed snapshot or delta as received (from MQTT). Never rejects. */
  offer(payload: Buffer | string, source: string): Promise<RevocationOffer> {
    return this.serial(async () => {
      const hash = createHash('sha256').update(payload).digest('hex');
      if (hash === this.lastSnapshotHash) {
        return { taken: false, reason: 'not_newer', detail: 'the snapshot in force, again' };
      }
      let doc: RevocationDoc;
      try {
        doc = await verifyRevocationDoc(payload, {
          operator: this.opts.operator,
          nowSec: Math.floor(this.opts.nowMs() / 1000),
          skewSec: this.opts.skewSec,
          maxBytes: this.opts.maxBytes,
        });
      } catch (err) {
        // Untrusted input refused: a warning with the reason, not an error with a stack.
        const detail = describeError(err);
        this.log.warn({ source, reason: detail }, 'revocation list refused');
        return { taken: false, reason: 'invalid', detail };
      }
      return doc.kind === 'snapshot' ? this.takeSnapshot(doc, hash) : this.takeDelta(doc);
    });
  }

  /** The `revoke` command: takes effect at once; the next snapshot replaces it. */
  revoke(entry: RevocationEntry): Promise<void> {
    return this.serial(async () => {
      this.index.set(entry.iss, entry.kind, entry.value, entry.untilSec);
      await saveRevocation(this.opts.store, entry);
    });
  }

  /** The `unrevoke` command. */
  unrevoke(entry: RevocationEntry): Promise<void> {
    return this.serial(async () => {
      this.index.delete(entry.iss, entry.kind, entry.value);
      await deleteRevocation(this.opts.store, entry);
    });
  }

  private async takeSnapshot(
    doc: Extract<RevocationDoc, { kind: 'snapshot' }>,
    hash: string,
  ): Promise<RevocationOffer> {
    if (this.seq !== undefined && doc.seq <= this.seq) {
      return {
        taken: false,
        reason: 'not_newer',
        detail: `snapshot ${doc.seq} is not newer than ${this.seq}`,
      };
    }
    const index = new RevocationIndex(doc.entries.length);
    for (const e of doc.entries) index.set(e.iss, e.kind, e.value, e.untilSec);
    this.index = index;
    this.loaded = true;
    this.lastSnapshotHash = hash;
    this.markTaken(doc.seq, false);
    try {
      await replaceRevocations(this.opts.store, doc.entries, this.settings());
    } catch (err) {
      this.log.error(
        { err, seq: doc.seq },
        'revocation snapshot not stored; in force until restart',
      );
    }
    this.log.info({ seq: doc.seq, entries: index.size }, 'revocation snapshot in force');
    return { taken: true, seq: doc.seq };
  }

  private async takeDelta(
    doc: Extract<RevocationDoc, { kind: 'delta' }>,
  ): Promise<RevocationOffer> {
    if (this.waiting) {
      return {
        taken: false,
        reason: 'waiting',
        detail: `delta ${doc.seq} ignored: waiting for a snapshot`,
      };
    }
    if (this.seq !== undefined && doc.seq <= this.seq) {
      return {
        taken: false,
        reason: 'not_newer',
        detail: `delta ${doc.seq} already applied (list at ${this.seq})`,
      };
    }
    if (this.seq === undefined || doc.seq !== this.seq + 1) {
      const detail = `delta ${doc.seq} does not follow list ${this.seq ?? 'none'}: waiting for the next snapshot`;
      this.waiting = true;
      this.log.warn(
        { seq: doc.seq, inForce: this.seq },
        'revocation delta gap; waiting for a snapshot',
      );
      await this.opts.store.setSetting(REVOCATION_SETTINGS.waiting, '1').catch(() => undefined);
      return { taken: false, reason: 'gap', detail };
    }
    for (const e of doc.remove) this.index.delete(e.iss, e.kind, e.value);
    for (const e of doc.add) this.index.set(e.iss, e.kind, e.value, e.untilSec);
    this.markTaken(doc.seq, false);
    try {
      await applyRevocationDelta(this.opts.store, doc.add, doc.remove, this.settings());
    } catch (err) {
      this.log.error({ err, seq: doc.seq }, 'revocation delta not stored; in force until restart');
    }
    this.log.info(
      { seq: doc.seq, added: doc.add.length, removed: doc.remove.length },
      'revocation delta applied',
    );
    return { taken: true, seq: doc.seq };
  }

  private markTaken(seq: number, waiting: boolean): void {
    this.seq = seq;
    this.waiting = waiting;
    this.lastUpdateMs = this.opts.nowMs();
    if (this.staleRaised) this.log.info({ seq }, 'revocation list fresh again');
    this.staleRaised = false;
  }

  private settings(): Record<string, string> {
    return {
      [REVOCATION_SETTINGS.seq]: String(this.seq ?? 0),
      [REVOCATION_SETTINGS.waiting]: this.waiting ? '1' : '0',
      [REVOCATION_SETTINGS.updatedTs]: String(this.lastUpdateMs ?? 0),
    };
  }

  private isStale(): boolean {
    const limitSec = this.opts.staleAfterSec;
    if (limitSec <= 0) return false;
    const since = this.lastUpdateMs ?? this.startedMs;
    return this.opts.nowMs() - since > limitSec * 1000;
  }

  /** Raises `revocations_stale` once per episode. */
  checkStale(): void {
    if (!this.isStale() || this.staleRaised) return;
    this.staleRaised = true;
    const last =
      this.lastUpdateMs === undefined ? 'never' : new Date(this.lastUpdateMs).toISOString();
    const detail = `no revocation snapshot or delta for over ${this.opts.staleAfterSec} s (last: ${last}); revoked riders may still be admitted`;
    this.log.warn({ seq: this.seq, lastUpdateTs: this.lastUpdateMs }, 'revocation list stale');
    Promise.resolve(this.opts.onStale?.(detail)).catch((err: unknown) =>
      this.log.error({ err }, 'alarm not raised'),
    );
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function wholeOrUndefined(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}
