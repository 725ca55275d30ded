import type { Logger } from '../log.js';
import type { Store } from '../store/types.js';

type Settings = Pick<Store, 'getSetting' | 'setSetting'>;

/**
 * The store's settings as seen by the trust list and other keepers of small state, when the
 * store may be unavailable: a value that cannot be written is held in memory (and read back
 * from there) until {@link flush} writes it, once the store has recovered. A read that fails
 * gives the held value or undefined, so a gate whose store never opened starts from the files.
 */
export class DeferredSettings implements Settings {
  private readonly pending = new Map<string, string>();
  private readonly log: Logger;

  constructor(
    private readonly store: Settings,
    log: Logger,
  ) {
    this.log = log.child({ component: 'settings' });
  }

  async getSetting(key: string): Promise<string | undefined> {
    const held = this.pending.get(key);
    if (held !== undefined) return held;
    try {
      return await this.store.getSetting(key);
    } catch (err) {
      this.log.warn({ err, key }, 'setting unreadable: store unavailable');
      return undefined;
    }
  }

  async setSetting(key: string, value: string): Promise<void> {
    try {
      await this.store.setSetting(key, value);
      this.pending.delete(key);
    } catch (err) {
      this.pending.set(key, value);
      this.log.warn({ err, key }, 'setting held in memory until the store recovers');
    }
  }

  /** Writes the held values; those that still fail stay held. Never rejects. */
  async flush(): Promise<void> {
    for (const [key, value] of [...this.pending]) {
      try {
        await this.store.setSetting(key, value);
        if (this.pending.get(key) === value) this.pending.delete(key);
      } catch (err) {
        this.log.warn({ err, key }, 'held setting not written yet');
        return;
      }
    }
  }
}
