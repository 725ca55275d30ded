/** One step of the wall clock that monotonic time does not explain. */
export interface ClockJump {
  /** Where the wall clock should have been, ms since the epoch. */
  fromTs: number;
  /** Where it is, ms since the epoch. */
  toTs: number;
  /** toTs − fromTs: positive forward, negative backward. */
  jumpMs: number;
}

/**
 * Compares how far the wall clock moved with how far monotonic time moved since the previous
 * sample. A difference above the threshold is a jump (NTP stepping the clock, someone running
 * `date -s`). The event loop being late moves both alike, so it is never taken for a jump;
 * NTP slewing (at most 0.5 ms/s) stays far below any sensible threshold.
 */
export class JumpDetector {
  private lastWall: number;
  private lastMono: number;

  constructor(
    wallMs: number,
    monoMs: number,
    private readonly thresholdMs: number,
  ) {
    this.lastWall = wallMs;
    this.lastMono = monoMs;
  }

  /** Takes one sample; returns the jump since the previous sample, if there was one. */
  sample(wallMs: number, monoMs: number): ClockJump | undefined {
    const expected = this.lastWall + (monoMs - this.lastMono);
    this.lastWall = wallMs;
    this.lastMono = monoMs;
    const jumpMs = Math.round(wallMs - expected);
    if (Math.abs(jumpMs) < this.thresholdMs) return undefined;
    return { fromTs: Math.round(expected), toTs: wallMs, jumpMs };
  }
}
