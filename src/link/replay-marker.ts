/** An event older than this when published comes from a backlog, e.g. from before a restart. */
export const BACKLOG_AGE_MS = 5_000;

interface Outage {
  startMs: number;
  /** Infinity while the outage lasts. */
  endMs: number;
}

/**
 * Decides whether a published event carries `replay: true`: it was recorded while the link was
 * down after having been up at least once in this process (an outage), or it is older than
 * {@link BACKLOG_AGE_MS} when published. The wait for the first connection of the process is no
 * outage: the `boot` event and scans just before the first CONNACK are live events.
 * Times are wall-clock ms, the clock events are stamped with.
 */
export class ReplayMarker {
  private everConnected = false;
  private outages: Outage[] = [];

  constructor(private readonly backlogAgeMs = BACKLOG_AGE_MS) {}

  /** A connection came up at `nowMs`. */
  connected(nowMs: number): void {
    this.everConnected = true;
    for (const outage of this.outages) {
      if (outage.endMs === Number.POSITIVE_INFINITY) outage.endMs = nowMs;
    }
    // An event of an older outage is older than backlogAgeMs anyway: the age rule marks it.
    this.outages = this.outages.filter((o) => o.endMs >= nowMs - this.backlogAgeMs);
  }

  /** The connection went down at `nowMs`, not by our doing. */
  disconnected(nowMs: number): void {
    if (!this.everConnected) return;
    const open = this.outages.some((o) => o.endMs === Number.POSITIVE_INFINITY);
    if (!open) this.outages.push({ startMs: nowMs, endMs: Number.POSITIVE_INFINITY });
  }

  /** Whether an event stamped `eventTsMs`, published at `nowMs`, is a replay. */
  isReplay(eventTsMs: number, nowMs: number): boolean {
    if (nowMs - eventTsMs > this.backlogAgeMs) return true;
    return this.outages.some((o) => eventTsMs >= o.startMs && eventTsMs < o.endMs);
  }
}
