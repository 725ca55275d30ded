/**
 * Delay before reconnect attempt number `attempt` (0 for the first retry): doubling from
 * `minMs`, capped at `maxMs`, with "equal jitter" (a random point in the upper half of the
 * step), so scanners that failed together do not retry in lockstep.
 * @param random a source of numbers in [0, 1); Math.random unless a test injects one.
 * @returns ms, always within [minMs, maxMs]; a `minMs` above `maxMs` is taken as `maxMs`.
 */
export function backoffDelayMs(
  attempt: number,
  minMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const floorMs = Math.min(minMs, maxMs);
  const exponent = Math.min(Math.max(0, attempt), 30);
  const ceilingMs = Math.min(maxMs, floorMs * 2 ** exponent);
  const jitteredMs = ceilingMs / 2 + (random() * ceilingMs) / 2;
  return Math.round(Math.min(maxMs, Math.max(floorMs, jitteredMs)));
}
