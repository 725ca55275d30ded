/**
 * A digital input line (barrier-position sensor, exit button), debounced. `active` is the
 * input's meaning, not its level: the barrier is open, the button is pressed.
 */
export interface DigitalInput {
  /**
   * Sets the line up and starts sampling it. Resolves with the first reading, which is the
   * initial state and never reported as a change (field case G4).
   */
  start(onChange: (active: boolean) => void): Promise<boolean>;
  /** Stops sampling and releases the line. */
  stop(): Promise<void>;
  /** The debounced state; undefined before start. */
  isActive(): boolean | undefined;
}

/** Where a {@link PolledInput} reads its raw level: a sysfs line, or a simulated one. */
export interface LineReader {
  /** Sets the line up (export, direction `in`). */
  open(): void;
  /** The line's level now: 0 or 1. */
  read(): number;
  close(): void;
}

/** How an input is sampled and what its level means. */
export interface InputTiming {
  /** A new level must hold this long before it counts, ms. */
  debounceMs: number;
  /** How often the line is read, ms. */
  pollMs: number;
  /** The level (0 or 1) that means active: open, pressed. */
  activeLevel: 0 | 1;
}
