/**
 * The revocation list in memory, for lookups in well under a microsecond with a million
 * entries: an open-addressing hash table (linear probing, backward-shift deletion) over
 * typed arrays. Each entry is a 64-bit hash of `iss`, kind and value plus its end time:
 * 12 bytes a slot, about 25 MB for a million entries, against some 150 MB for a Map of
 * strings. Two different entries share a hash with a chance of about n²/2⁶⁵ (3·10⁻⁸ at a
 * million): the cost would be one wrongly revoked rider, which the store's list can confirm.
 */
export class RevocationIndex {
  private hi: Uint32Array;
  private lo: Uint32Array;
  /** End time, seconds since the epoch; 0 = never ends. */
  private until: Uint32Array;
  private mask: number;
  private count = 0;

  /** @param expected entries to size the table for; it grows as needed. */
  constructor(expected = 1024) {
    const capacity = capacityFor(expected);
    this.hi = new Uint32Array(capacity);
    this.lo = new Uint32Array(capacity);
    this.until = new Uint32Array(capacity);
    this.mask = capacity - 1;
  }

  /** Entries held. */
  get size(): number {
    return this.count;
  }

  /** Bytes held by the table's arrays. */
  get bytes(): number {
    return this.hi.byteLength * 3;
  }

  /** Adds or updates an entry; `untilSec` undefined: never ends. */
  set(iss: string, kind: 'sub' | 'cti', value: string, untilSec?: number): void {
    if ((this.count + 1) * 4 > (this.mask + 1) * 3) this.grow();
    const [h, l] = hashKey(iss, kind, value);
    let i = l & this.mask;
    while (this.hi[i] !== 0 || this.lo[i] !== 0) {
      if (this.hi[i] === h && this.lo[i] === l) {
        this.until[i] = encodeUntil(untilSec);
        return;
      }
      i = (i + 1) & this.mask;
    }
    this.hi[i] = h;
    this.lo[i] = l;
    this.until[i] = encodeUntil(untilSec);
    this.count += 1;
  }

  /** Removes an entry; false when there was none. */
  delete(iss: string, kind: 'sub' | 'cti', value: string): boolean {
    const [h, l] = hashKey(iss, kind, value);
    const i = this.find(h, l);
    if (i < 0) return false;
    this.removeAt(i);
    return true;
  }

  /** True when the entry is held and has not ended at `nowSec`. */
  has(iss: string, kind: 'sub' | 'cti', value: string, nowSec: number): boolean {
    const [h, l] = hashKey(iss, kind, value);
    const i = this.find(h, l);
    if (i < 0) return false;
    const until = this.until[i] ?? 0;
    return until === 0 || until > nowSec;
  }

  private find(h: number, l: number): number {
    let i = l & this.mask;
    while (this.hi[i] !== 0 || this.lo[i] !== 0) {
      if (this.hi[i] === h && this.lo[i] === l) return i;
      i = (i + 1) & this.mask;
    }
    return -1;
  }

  /** Backward-shift deletion: later entries of the probe run move up, so no tombstones. */
  private removeAt(slot: number): void {
    let hole = slot;
    let i = (slot + 1) & this.mask;
    while (this.hi[i] !== 0 || this.lo[i] !== 0) {
      const home = (this.lo[i] ?? 0) & this.mask;
      // The entry at i may fill the hole when its home is not cyclically within (hole, i].
      const fits = hole <= i ? home <= hole || home > i : home <= hole && home > i;
      if (fits) {
        this.hi[hole] = this.hi[i] ?? 0;
        this.lo[hole] = this.lo[i] ?? 0;
        this.until[hole] = this.until[i] ?? 0;
        hole = i;
      }
      i = (i + 1) & this.mask;
    }
    this.hi[hole] = 0;
    this.lo[hole] = 0;
    this.until[hole] = 0;
    this.count -= 1;
  }

  private grow(): void {
    const { hi, lo, until } = this;
    const capacity = hi.length * 2;
    this.hi = new Uint32Array(capacity);
    this.lo = new Uint32Array(capacity);
    this.until = new Uint32Array(capacity);
    this.mask = capacity - 1;
    for (let j = 0; j < hi.length; j++) {
      const h = hi[j] ?? 0;
      const l = lo[j] ?? 0;
      if (h === 0 && l === 0) continue;
      let i = l & this.mask;
      while (this.hi[i] !== 0 || this.lo[i] !== 0) i = (i + 1) & this.mask;
      this.hi[i] = h;
      this.lo[i] = l;
      this.until[i] = until[j] ?? 0;
    }
  }
}

/** A power of two with room for `n` entries at a load of at most 3/4. */
function capacityFor(n: number): number {
  let capacity = 16;
  while (capacity * 3 < n * 4) capacity *= 2;
  return capacity;
}

function encodeUntil(untilSec: number | undefined): number {
  if (untilSec === undefined) return 0;
  // 0 means "never ends": an end at the epoch is simply past. Seconds fit 32 bits until 2106.
  return Math.min(Math.max(Math.floor(untilSec), 1), 0xffff_ffff);
}

/**
 * Two 32-bit hashes of `iss NUL kind NUL value` (UTF-16 code units): FNV-1a and a
 * multiply-rotate hash, each finished with murmur3's fmix32. (0, 0) marks an empty slot, so
 * it is moved to (0, 1).
 */
export function hashKey(iss: string, kind: string, value: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  const feed = (s: string): void => {
    for (let k = 0; k < s.length; k++) {
      const c = s.charCodeAt(k);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul((b << 5) | (b >>> 27), 0x5bd1e995) ^ c;
    }
    a = Math.imul(a ^ 0, 0x01000193);
    b = Math.imul((b << 5) | (b >>> 27), 0x5bd1e995);
  };
  feed(iss);
  feed(kind);
  feed(value);
  const h = fmix32(a);
  const l = fmix32(b ^ h);
  return h === 0 && l === 0 ? [0, 1] : [h, l];
}

function fmix32(x: number): number {
  let h = x;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
