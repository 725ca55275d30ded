import type { Logger } from '../log.js';
import { PulseTimer } from './pulse-timer.js';
import type { Pulse, Relay } from './types.js';

/** One level change of the simulated relay. `mono` is performance.now() in ms. */
export interface RelayChange {
  active: boolean;
  mono: number;
}

/** A relay that only records its movements: for the demo and for tests. */
export class SimRelay implements Relay {
  /** Every level change since init, oldest first. */
  readonly changes: RelayChange[] = [];
  private readonly timer: PulseTimer;
  private readonly log: Logger;
  private listeners: ((change: RelayChange) => void)[] = [];

  constructor(log: Logger) {
    this.log = log.child({ component: 'relay' });
    this.timer = new PulseTimer((active) => this.record(active));
  }

  async init(): Promise<void> {
    this.record(false);
    this.log.info({ driver: 'sim' }, 'relay ready');
  }

  pulse(durationMs: number): Promise<Pulse> {
    return this.timer.pulse(durationMs);
  }

  off(): void {
    this.timer.cancel();
  }

  async close(): Promise<void> {
    this.off();
  }

  isActive(): boolean {
    return this.timer.isActive();
  }

  /** Calls `listener` on every level change. */
  onChange(listener: (change: RelayChange) => void): void {
    this.listeners.push(listener);
  }

  private record(active: boolean): void {
    const change = { active, mono: performance.now() };
    const previous = this.changes.at(-1);
    if (previous?.active === active) return;
    this.changes.push(change);
    for (const listener of this.listeners) listener(change);
  }
}
