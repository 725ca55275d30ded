import type { Pulse, Relay } from './types.js';

/**
 * A relay that remembers when it last moved, so the barrier sensor can tell an opening the
 * gate caused from a forced one. Every pulse of the gate (admit, reopen, manual open) goes
 * through it.
 */
export class TrackedRelay implements Relay {
  private lastActiveMono: number | undefined;

  constructor(
    private readonly inner: Relay,
    private readonly monoMs: () => number = () => performance.now(),
  ) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  pulse(durationMs: number): Promise<Pulse> {
    this.lastActiveMono = this.monoMs();
    return this.inner.pulse(durationMs).then((pulse) => {
      this.lastActiveMono = this.monoMs();
      return pulse;
    });
  }

  off(): void {
    this.inner.off();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  isActive(): boolean {
    return this.inner.isActive();
  }

  /**
   * Monotonic ms since the relay was last active (0 while it is), or undefined when it has
   * not moved since start.
   */
  msSinceActive(): number | undefined {
    if (this.inner.isActive()) return 0;
    return this.lastActiveMono === undefined ? undefined : this.monoMs() - this.lastActiveMono;
  }
}
