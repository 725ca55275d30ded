import { stat } from 'node:fs/promises';
import type { Logger } from '../log.js';
import type { CheckpointResult, PruneCounts, SqliteStore } from './sqlite-store.js';

/** Rows deleted per pruning transaction. */
export const PRUNE_BATCH_ROWS = 500;

/**
 * WAL size above which a checkpoint truncates the file. 16 MB is four times the size SQLite's
 * auto-checkpoint (1000 pages of 4 KiB) lets the WAL reach on its own: it is only passed when
 * a reader kept checkpoints from finishing for a while. Truncating at every round instead
 * would make the file shrink and grow again all day, each time with an fsync and filesystem
 * metadata writes (SD card wear) for no gain.
 */
export const WAL_MAX_BYTES = 16 * 1024 * 1024;

/**
 * A replay entry is kept this long after its token expired. A token that expired cannot be
 * admitted again anyway (`expired` comes before `replayed`), but a clock stepped back by NTP
 * could make it look valid again for a moment.
 */
export const REPLAY_KEEP_AFTER_EXP_SEC = 3_600;

/** Settings of {@link StoreMaintenance}; all but `retentionDays` have defaults. */
export interface MaintenanceOptions {
  /** Delivered events older than this are pruned (`store.retentionDays`). */
  retentionDays: number;
  /** Time between pruning rounds, ms; default one hour. The first round runs at start. */
  pruneIntervalMs?: number;
  /** Rows per pruning transaction; default {@link PRUNE_BATCH_ROWS}. */
  pruneBatchRows?: number;
  /** Pause between two pruning transactions, ms; default 200. */
  prunePauseMs?: number;
  /** Time between WAL checkpoints, ms; default 60 000. */
  checkpointIntervalMs?: number;
  /** WAL size that makes a checkpoint truncate the file, bytes; default {@link WAL_MAX_BYTES}. */
  walMaxBytes?: number;
  /** Wall-clock time, ms since the epoch; default `Date.now`. */
  nowMs?: () => number;
}

/** What one {@link StoreMaintenance.prune} round deleted. */
export type PruneTotals = PruneCounts & { batches: number };

/**
 * The store's periodic upkeep: prunes delivered events past retention (never undelivered or
 * set-aside ones), expired replay entries and ended revocations, in small transactions with a
 * pause between them; and checkpoints the WAL so it stays bounded even while another process
 * (e.g. `ridergate events`) has the database open (field case D3). Timers are unref'd: they
 * never keep the process alive. Every failure is logged, never thrown.
 */
export class StoreMaintenance {
  private readonly store: SqliteStore;
  private readonly log: Logger;
  private readonly options: Required<MaintenanceOptions>;
  private pruneTimer: NodeJS.Timeout | undefined;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private pruning: Promise<unknown> | undefined;
  private checkpointing: Promise<unknown> | undefined;
  private started = false;
  /** Set by stop(): a pruning round ends after its current batch. */
  private halted = false;

  constructor(store: SqliteStore, log: Logger, options: MaintenanceOptions) {
    this.store = store;
    this.log = log.child({ component: 'maintenance' });
    this.options = {
      pruneIntervalMs: 3_600_000,
      pruneBatchRows: PRUNE_BATCH_ROWS,
      prunePauseMs: 200,
      checkpointIntervalMs: 60_000,
      walMaxBytes: WAL_MAX_BYTES,
      nowMs: Date.now,
      ...options,
    };
  }

  /** Starts the timers and a first pruning round in the background; returns at once. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.halted = false;
    this.pruneTimer = setInterval(() => void this.prune(), this.options.pruneIntervalMs);
    this.pruneTimer.unref();
    this.checkpointTimer = setInterval(
      () => void this.checkpoint(),
      this.options.checkpointIntervalMs,
    );
    this.checkpointTimer.unref();
    void this.prune();
  }

  /** Stops the timers and waits for a round in progress (it stops after its current batch). */
  async stop(): Promise<void> {
    this.started = false;
    this.halted = true;
    clearInterval(this.pruneTimer);
    clearInterval(this.checkpointTimer);
    await Promise.allSettled([this.pruning, this.checkpointing]);
  }

  /**
   * One pruning round: batches until a batch deletes fewer rows than its limit in every table.
   * Skipped (resolves with zeros) when a round is already running.
   */
  async prune(): Promise<PruneTotals> {
    const totals: PruneTotals = { events: 0, replay: 0, revocations: 0, batches: 0 };
    if (this.pruning !== undefined) return totals;
    const round = this.pruneRounds(totals);
    this.pruning = round;
    try {
      await round;
    } catch (err) {
      this.log.warn({ err, ...totals }, 'pruning failed');
    } finally {
      this.pruning = undefined;
    }
    if (totals.events + totals.replay + totals.revocations > 0) {
      this.log.info({ ...totals, retentionDays: this.options.retentionDays }, 'store pruned');
    }
    return totals;
  }

  /**
   * One checkpoint: PASSIVE (never waits, never blocks a writer), then TRUNCATE when the WAL
   * file is still larger than `walMaxBytes`. Resolves with the WAL size after it, bytes.
   */
  async checkpoint(): Promise<number | undefined> {
    if (this.checkpointing !== undefined) return undefined;
    const round = this.checkpointRound();
    this.checkpointing = round;
    try {
      return await round;
    } catch (err) {
      this.log.warn({ err }, 'wal checkpoint failed');
      return undefined;
    } finally {
      this.checkpointing = undefined;
    }
  }

  private async pruneRounds(totals: PruneTotals): Promise<void> {
    const { retentionDays, pruneBatchRows, prunePauseMs, nowMs } = this.options;
    const now = nowMs();
    const cutoff = {
      eventsBeforeMs: now - retentionDays * 86_400_000,
      replayBeforeSec: Math.floor(now / 1000) - REPLAY_KEEP_AFTER_EXP_SEC,
      nowSec: Math.floor(now / 1000),
    };
    for (;;) {
      const counts = await this.store.pruneBatch(cutoff, pruneBatchRows);
      totals.events += counts.events;
      totals.replay += counts.replay;
      totals.revocations += counts.revocations;
      totals.batches += 1;
      const full = Math.max(counts.events, counts.replay, counts.revocations) >= pruneBatchRows;
      if (!full || this.halted) return;
      // The pause lets scans and the outbox use the store between two batches.
      await new Promise((resolve) => setTimeout(resolve, prunePauseMs).unref());
    }
  }

  private async checkpointRound(): Promise<number> {
    const passive = await this.store.checkpoint('passive');
    let bytes = await walBytes(this.store.walPath);
    if (bytes <= this.options.walMaxBytes) return bytes;
    const truncated: CheckpointResult = await this.store.checkpoint('truncate');
    const before = bytes;
    bytes = await walBytes(this.store.walPath);
    const fields = { walBytesBefore: before, walBytes: bytes, walFrames: passive.walFrames };
    // busy: a reader still holds an old snapshot; the next round tries again.
    if (truncated.busy) this.log.warn(fields, 'wal not truncated, a reader holds it');
    else this.log.info(fields, 'wal truncated');
    return bytes;
  }
}

/** Size of the WAL file, bytes; 0 when there is none. */
async function walBytes(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}
