import type { LineReader } from './input.js';

/**
 * A simulated input line for tests and the demo: set its level by hand. Used through
 * {@link PolledInput}, so it is sampled and debounced exactly as a sysfs line is.
 */
export class SimLineReader implements LineReader {
  constructor(private level: 0 | 1 = 0) {}

  /** Sets the line's level, as a sensor or a button would. */
  set(level: 0 | 1): void {
    this.level = level;
  }

  open(): void {}

  read(): number {
    return this.level;
  }

  close(): void {}
}
