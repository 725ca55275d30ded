import type { ReplayEntry } from '../store/types.js';

/**
 * Entries kept at most, the oldest going first: a bound on memory. The daemon's heap snapshots
 * show it as the one structure that grows per scan: 10,000 entries took 1.3 MB (README,
 * "Resident memory").
 */
export const MAX_REPLAY_CLOCK_ENTRIES = 10_000;

/** How long an admission's monotonic time is kept, ms: longer than any clock freeze. */
const KEEP_MS = 24 * 3_600_000;

/**
 * Makes the reopen grace immune to clock jumps (field case C2). The replay cache stores the
 * first use in wall-clock ms, and it must (it outlives restarts); but after NTP stepped the
 * clock back, "now − first use" is negative (or stands still while the time holds at the floor),
 * and after a step forward it is too large. This remembers the monotonic time of the
 * admissions of this run (a day, 10 000 at most), and {@link adjust} presents a cache entry to
 * `decide()` so that:
 * - a reopen needs the wall clock not to say "longer than the grace", and, when the admission
 *   was in this run, monotonic time to say "within the grace" (a step back is resolved by it;
 *   a step forward within the grace errs on the safe side: `replayed`);
 * - an entry that seems to lie in the future, with no monotonic record, is a replay: never a
 *   reopen because the clock went back.
 */
export class ReplayClock {
  /** `iss \0 cti` → monotonic ms of the admission, oldest first. */
  private readonly admitted = new Map<string, number>();

  constructor(private readonly graceMs: number) {}

  /** Notes an admission made at monotonic `monoMs`. */
  remember(iss: string, cti: string, monoMs: number): void {
    this.prune(monoMs);
    const key = `${iss}\0${cti}`;
    if (this.admitted.has(key)) return;
    this.admitted.set(key, monoMs);
    if (this.admitted.size > MAX_REPLAY_CLOCK_ENTRIES) {
      const oldest = this.admitted.keys().next().value;
      if (oldest !== undefined) this.admitted.delete(oldest);
    }
  }

  /** How many admissions are remembered now; never more than {@link MAX_REPLAY_CLOCK_ENTRIES}. */
  get size(): number {
    return this.admitted.size;
  }

  /**
   * The entry as `decide()` should see it: its first use moved so that "now − first use" falls
   * inside the grace exactly when a reopen is right, and past it otherwise.
   */
  adjust(
    iss: string,
    cti: string,
    entry: ReplayEntry | undefined,
    nowMs: number,
    monoMs: number,
  ): ReplayEntry | undefined {
    if (entry === undefined) return undefined;
    this.prune(monoMs);
    const wallElapsed = nowMs - entry.firstUsedMs;
    const at = this.admitted.get(`${iss}\0${cti}`);
    const reopen =
      at === undefined
        ? wallElapsed >= 0 && wallElapsed <= this.graceMs
        : wallElapsed <= this.graceMs && monoMs - at <= this.graceMs;
    // 0 (the epoch) is past any grace; min() keeps "now − first use" within it for a reopen.
    return { ...entry, firstUsedMs: reopen ? Math.min(entry.firstUsedMs, nowMs) : 0 };
  }

  private prune(monoMs: number): void {
    for (const [key, at] of this.admitted) {
      if (monoMs - at <= Math.max(KEEP_MS, this.graceMs)) break;
      this.admitted.delete(key);
    }
  }
}
