/** Options of {@link ScanDeduper}. */
export interface ScanDeduperOptions {
  /** The same text again within this many ms of its last read is a duplicate; 0 turns it off. */
  windowMs: number;
  /** Monotonic clock in ms; defaults to performance.now(). Injected by tests. */
  now?: () => number;
  /** How many recent texts are remembered; the oldest is forgotten first. Default 8. */
  capacity?: number;
}

/**
 * Suppresses a code read again while it is still in front of the scanner (field case S6).
 *
 * The window slides: it runs from the text's last read, suppressed or not, so a phone held in
 * view for seconds gives one scan, not one every `windowMs`. Only the last `capacity` texts
 * are remembered, so memory stays bounded whatever is scanned.
 */
export class ScanDeduper {
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly capacity: number;
  /** Text → monotonic ms of its last read, oldest first (Map keeps insertion order). */
  private readonly lastSeen = new Map<string, number>();

  constructor(options: ScanDeduperOptions) {
    this.windowMs = options.windowMs;
    this.now = options.now ?? (() => performance.now());
    this.capacity = Math.max(1, options.capacity ?? 8);
  }

  /**
   * Records a read of `text` at `atMs` (default: the injected clock) and says whether it is a
   * duplicate of a read less than `windowMs` before.
   */
  isDuplicate(text: string, atMs: number = this.now()): boolean {
    if (this.windowMs <= 0) return false;
    const previousMs = this.lastSeen.get(text);
    const duplicate = previousMs !== undefined && atMs - previousMs < this.windowMs;

    // Re-insert to move the text to the newest end, then trim the oldest.
    this.lastSeen.delete(text);
    this.lastSeen.set(text, atMs);
    this.evict(atMs);
    return duplicate;
  }

  /** Forgets every text. */
  clear(): void {
    this.lastSeen.clear();
  }

  /** How many texts are remembered right now; never more than `capacity`. */
  get size(): number {
    return this.lastSeen.size;
  }

  private evict(nowMs: number): void {
    for (const [text, seenMs] of this.lastSeen) {
      if (this.lastSeen.size <= this.capacity && nowMs - seenMs < this.windowMs) break;
      this.lastSeen.delete(text);
    }
  }
}
