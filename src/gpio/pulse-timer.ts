import { MAX_PULSE_MS, type Pulse } from './types.js';

/**
 * The timing shared by every relay driver: drive active, then inactive after the pulse time.
 * A pulse asked for while one runs extends it, so a burst of opens is one barrier cycle.
 */
export class PulseTimer {
  private timer: NodeJS.Timeout | undefined;
  private startedMono = 0;
  private waiters: ((pulse: Pulse) => void)[] = [];

  constructor(private readonly drive: (active: boolean) => void) {}

  pulse(durationMs: number): Promise<Pulse> {
    const ms = Math.max(1, Math.min(durationMs, MAX_PULSE_MS));
    if (this.timer === undefined) {
      this.drive(true);
      this.startedMono = performance.now();
    } else {
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => this.finish(), ms);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Ends any pulse at once (the caller drives the line inactive). */
  cancel(): void {
    if (this.timer !== undefined) this.finish();
  }

  isActive(): boolean {
    return this.timer !== undefined;
  }

  private finish(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.drive(false);
    const pulse = { startedMono: this.startedMono, endedMono: performance.now() };
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve(pulse);
  }
}
