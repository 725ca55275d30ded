/** Admits and denials (by reason) of one gate over a sliding hour. */
export interface HourTotals {
  admits: number;
  /** Denials by reason; `unknown` when an event named none, `other` past the reason limit. */
  denials: Record<string, number>;
}

const MINUTE_MS = 60_000;
const BUCKETS = 60;

/** Most distinct deny reasons kept per gate; further reasons count as `other`. */
export const MAX_REASONS = 24;

interface Bucket {
  minute: number;
  admits: number;
  denials: Map<string, number>;
}

/**
 * Per-minute buckets for the last 60 minutes: memory stays bounded whatever the event rate.
 * Events are placed by their own `ts` (a backlog delivered after an outage counts in the
 * minute it happened); events older than an hour are not counted.
 */
export class HourCounts {
  private readonly buckets: (Bucket | undefined)[] = new Array(BUCKETS).fill(undefined);
  private readonly reasons = new Set<string>();

  /**
   * Counts one event. `admit` and `reopen` count as admits (the barrier opened for a rider),
   * `deny` by reason; other types are ignored.
   * @param tsMs the event time; a time in the future counts as now.
   */
  add(type: string, reason: string | undefined, tsMs: number, nowMs: number): void {
    if (type !== 'admit' && type !== 'reopen' && type !== 'deny') return;
    const minute = Math.floor(Math.min(tsMs, nowMs) / MINUTE_MS);
    if (minute <= Math.floor(nowMs / MINUTE_MS) - BUCKETS) return;
    const bucket = this.bucketFor(minute);
    if (type === 'deny') {
      const key = this.reasonKey(reason ?? 'unknown');
      bucket.denials.set(key, (bucket.denials.get(key) ?? 0) + 1);
    } else {
      bucket.admits += 1;
    }
  }

  /** The totals over the hour ending at `nowMs`. */
  totals(nowMs: number): HourTotals {
    const oldest = Math.floor(nowMs / MINUTE_MS) - BUCKETS + 1;
    const result: HourTotals = { admits: 0, denials: {} };
    for (const bucket of this.buckets) {
      if (bucket === undefined || bucket.minute < oldest) continue;
      result.admits += bucket.admits;
      for (const [reason, n] of bucket.denials)
        result.denials[reason] = (result.denials[reason] ?? 0) + n;
    }
    return result;
  }

  private bucketFor(minute: number): Bucket {
    const index = ((minute % BUCKETS) + BUCKETS) % BUCKETS;
    const current = this.buckets[index];
    if (current !== undefined && current.minute === minute) return current;
    const fresh: Bucket = { minute, admits: 0, denials: new Map() };
    this.buckets[index] = fresh;
    return fresh;
  }

  private reasonKey(reason: string): string {
    if (this.reasons.has(reason)) return reason;
    if (this.reasons.size >= MAX_REASONS) return 'other';
    this.reasons.add(reason);
    return reason;
  }
}
