import type { Scanner } from '../scanner/types.js';
import type { HealthCheck } from './watchdog.js';

/** How often the event loop's timer drift is sampled, ms. */
const LAG_SAMPLE_MS = 500;

/**
 * The event loop answers: a timer due every {@link LAG_SAMPLE_MS} never fires more than
 * `limitMs` late. The worst drift since the previous check is judged, then forgotten, so one
 * slow moment (a GC pause, a burst of scans) fails at most one check.
 */
export class EventLoopLag implements HealthCheck {
  readonly name = 'eventLoop';
  private timer: NodeJS.Timeout | undefined;
  private expectedMono = 0;
  private worstMs = 0;

  /**
   * @param limitMs worst allowed drift, ms.
   * @param now monotonic clock, ms (performance.now by default; tests inject fake time).
   */
  constructor(
    private readonly limitMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.expectedMono = this.now() + LAG_SAMPLE_MS;
    this.timer = setInterval(() => this.sample(), LAG_SAMPLE_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  check(): string | undefined {
    // A timer that has not fired at all since it was due counts too (the loop is stuck now).
    const worst = Math.max(this.worstMs, this.now() - this.expectedMono);
    this.worstMs = 0;
    if (worst <= this.limitMs) return undefined;
    return `event loop ${Math.round(worst)} ms late (limit ${this.limitMs} ms)`;
  }

  private sample(): void {
    const now = this.now();
    this.worstMs = Math.max(this.worstMs, now - this.expectedMono);
    this.expectedMono = now + LAG_SAMPLE_MS;
  }
}

/**
 * The store answers: a cheap read sent through the store's own queue (behind any pending
 * write) completes within `stallMs`. It may fail, quickly: a full disk or a read-only card is
 * the journal's business (it keeps events in memory and reopens the store), and a restart
 * would lose those queued events. Only a store that no longer answers at all is unhealthy.
 */
export class StoreProbe implements HealthCheck {
  readonly name = 'store';
  private pendingSinceMono: number | undefined;

  /**
   * @param probe a cheap query through the store (e.g. reading one setting).
   * @param stallMs how long a probe may stay unanswered, ms.
   */
  constructor(
    private readonly probe: () => Promise<unknown>,
    private readonly stallMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  check(): string | undefined {
    const since = this.pendingSinceMono;
    if (since !== undefined) {
      const waitedMs = this.now() - since;
      if (waitedMs <= this.stallMs) return undefined;
      return `store has not answered for ${Math.round(waitedMs / 1000)} s`;
    }
    this.pendingSinceMono = this.now();
    const settle = () => {
      this.pendingSinceMono = undefined;
    };
    this.probe().then(settle, settle);
    return undefined;
  }
}

/**
 * The scanner's read loop runs: connected, or waiting to retry (an unplugged scanner is
 * alive), per the driver's own liveness report. A driver without one counts as alive.
 */
export function scannerCheck(scanner: Scanner): HealthCheck {
  return {
    name: 'scanner',
    check: () => scanner.liveness?.(),
  };
}
