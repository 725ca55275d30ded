import type { ReplayEntry } from '../store/types.js';

/**
 * Token uses admitted while the store could not remember them, keyed on iss + cti like the
 * store's replay cache. The first use wins. Bounded: beyond `capacity` entries new ones are
 * not kept (the journal has already dropped and reported those events by then).
 */
export class HeldReplays {
  private readonly entries = new Map<string, ReplayEntry>();

  constructor(private readonly capacity: number) {}

  get(iss: string, cti: string): ReplayEntry | undefined {
    return this.entries.get(key(iss, cti));
  }

  add(entry: ReplayEntry): void {
    const k = key(entry.iss, entry.cti);
    if (this.entries.has(k) || this.entries.size >= this.capacity) return;
    this.entries.set(k, entry);
  }

  /** Forgets `entry` once the store holds it (not a later use of the same token). */
  forget(entry: ReplayEntry): void {
    const k = key(entry.iss, entry.cti);
    if (this.entries.get(k) === entry) this.entries.delete(k);
  }

  clear(): void {
    this.entries.clear();
  }
}

function key(iss: string, cti: string): string {
  // NUL cannot appear in an issuer id or in hex, so the pair is unambiguous.
  return `${iss}\u0000${cti}`;
}
