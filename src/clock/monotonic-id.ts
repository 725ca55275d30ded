import { randomInt } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

/**
 * UUIDv7 ids that only ever increase, whatever the clock does. The `uuid` package keeps ids
 * monotonic only when it reads Date.now itself; given an explicit time (`{ msecs }`) it draws
 * a random counter, so two ids of the same ms sort at random and an id made after the clock
 * stepped back sorts before older ones. Here the time part never goes back: a time at or
 * before the last one reuses the last one and raises the 32-bit counter (carrying into the
 * time part when it wraps), as RFC 9562 §6.2 method 1 describes.
 */
export class MonotonicUuid7 {
  private msecs = Number.NEGATIVE_INFINITY;
  private seq = 0;

  /** A new id for an event made at `nowMs`; greater than every id this generator gave. */
  next(nowMs: number): string {
    const ms = Math.floor(nowMs);
    if (ms > this.msecs) {
      this.msecs = ms;
      // 31 random bits leave room for 2^31 increments within one ms.
      this.seq = randomInt(0, 2 ** 31);
    } else {
      this.seq = (this.seq + 1) >>> 0;
      if (this.seq === 0) this.msecs += 1;
    }
    return uuidv7({ msecs: this.msecs, seq: this.seq });
  }

  /** The time part of the last id, ms; `-Infinity` before the first. */
  lastMs(): number {
    return this.msecs;
  }
}

/** The process's event id generator: every event id is made by it. */
export const eventIds = new MonotonicUuid7();
