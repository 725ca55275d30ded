/**
 * Thresholds of the client id conflict heuristic (field case M1). All durations in ms of
 * monotonic time.
 */
export interface ConflictSettings {
  /** A connection that ends this soon after its CONNACK, not by our doing, is short. */
  shortMs: number;
  /** Short connections in a row that make a conflict. */
  count: number;
  /** ...all ending within this window. */
  windowMs: number;
  /**
   * A connection that lasts this long ends the episode. Keep it above `backoffMaxMs`: a peer
   * with the same id that is itself backing off would otherwise end our episode at each of
   * its returns, and we would go back to fighting it.
   */
  stableMs: number;
  /** Bounds of the random wait between reconnections while the conflict lasts. */
  backoffMinMs: number;
  backoffMaxMs: number;
}

/** Defaults: 3 connections cut within 10 s of CONNACK inside 2 minutes; wait 60–120 s. */
export const CONFLICT_DEFAULTS: Readonly<ConflictSettings> = {
  shortMs: 10_000,
  count: 3,
  windowMs: 120_000,
  stableMs: 180_000,
  backoffMinMs: 60_000,
  backoffMaxMs: 120_000,
};

/**
 * Tells a kick-off loop apart from an ordinary outage. MQTT 3.1.1 gives no reason when the
 * broker closes a connection, and a broker closes the older connection when a second client
 * connects with the same id (§3.1.4): two gates with one id (a cloned SD card) then take the
 * connection from each other every few seconds. So this is a heuristic: several connections in
 * a row, each cut by the other side soon after CONNACK. A broker that accepts and then drops
 * connections for another reason (an ACL, a flapping proxy) looks the same, which is why the
 * alarm text says "probably".
 */
export class ConflictDetector {
  readonly settings: ConflictSettings;
  private shortEndsMs: number[] = [];
  private active = false;

  constructor(settings: Partial<ConflictSettings> = {}) {
    this.settings = { ...CONFLICT_DEFAULTS, ...settings };
  }

  /** True from the detection until a connection lasts `stableMs`. */
  get inConflict(): boolean {
    return this.active;
  }

  /**
   * Records the end of a connection that was up (CONNACK received) and that we did not end.
   * @returns true when this end starts a conflict episode: raise the alarm once.
   */
  connectionEnded(connectedAtMs: number, endedAtMs: number): boolean {
    const lastedMs = endedAtMs - connectedAtMs;
    if (lastedMs >= this.settings.stableMs) {
      this.active = false;
      this.shortEndsMs = [];
      return false;
    }
    if (lastedMs >= this.settings.shortMs) {
      // Not short: the row is broken, but an episode in progress goes on.
      this.shortEndsMs = [];
      return false;
    }
    const since = endedAtMs - this.settings.windowMs;
    this.shortEndsMs = [...this.shortEndsMs.filter((ms) => ms > since), endedAtMs];
    if (this.active || this.shortEndsMs.length < this.settings.count) return false;
    this.active = true;
    return true;
  }

  /**
   * Records a connection attempt that failed (refused, reset or no CONNACK). A broker with a
   * peer of the same id accepts every attempt; a failed one means the broker was away (a
   * restart), so the connections cut before it are no sign of a conflict: the row is broken.
   * An episode in progress goes on.
   */
  attemptFailed(): void {
    this.shortEndsMs = [];
  }

  /** Ends the episode when the current connection, up since `connectedAtMs`, is stable. */
  checkStable(connectedAtMs: number, nowMs: number): boolean {
    if (!this.active || nowMs - connectedAtMs < this.settings.stableMs) return false;
    this.active = false;
    this.shortEndsMs = [];
    return true;
  }

  /** Bounds of the wait before the next connection attempt. */
  reconnectBounds(normalMinMs: number, normalMaxMs: number): [number, number] {
    if (!this.active) return [normalMinMs, normalMaxMs];
    return [this.settings.backoffMinMs, this.settings.backoffMaxMs];
  }
}
