/** One relay movement as it happened. Times are monotonic ms (performance.now()). */
export interface Pulse {
  startedMono: number;
  endedMono: number;
}

/**
 * The barrier relay. Implementations: onoff (sysfs GPIO) and simulated.
 * The contract every driver keeps:
 * - init() drives the line inactive before it does anything else, and never active.
 * - pulse(ms) drives active, then inactive after ms; a pulse in progress is extended, not doubled.
 * - off() is synchronous so it can run on every exit path, including process 'exit'.
 */
export interface Relay {
  init(): Promise<void>;
  pulse(durationMs: number): Promise<Pulse>;
  off(): void;
  close(): Promise<void>;
  isActive(): boolean;
}

/** Hard upper bound of any pulse, whatever the configuration says. */
export const MAX_PULSE_MS = 5_000;
