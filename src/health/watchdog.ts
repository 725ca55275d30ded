import type { Logger } from '../log.js';

/** One health condition of the running gate. */
export interface HealthCheck {
  /** Short name used in logs and STATUS=, e.g. `eventLoop`, `store`, `scanner`. */
  readonly name: string;
  /** Undefined while healthy; otherwise what is wrong, in words a technician understands. */
  check(): string | undefined;
}

/** What the watchdog does with its verdict. */
export interface WatchdogActions {
  /** Sends WATCHDOG=1: called once per interval, only while every check passes. */
  ping(): void;
  /** Called when the verdict changes: `undefined` when healthy again, else the failures. */
  onChange?(failures: string[] | undefined): void;
}

/**
 * Feeds the systemd watchdog every `intervalMs` (half of WatchdogSec) only while all checks
 * pass. A failing check withholds the keep-alive; after WatchdogSec without one systemd kills
 * the gate and starts it again (Restart=always). A blocked event loop feeds nothing at all,
 * since the timer itself cannot run. It logs once per change of verdict, never per interval.
 */
export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  private failures: string[] | undefined;
  private readonly log: Logger;

  constructor(
    private readonly intervalMs: number,
    private readonly checks: readonly HealthCheck[],
    private readonly actions: WatchdogActions,
    log: Logger,
  ) {
    this.log = log.child({ component: 'watchdog' });
  }

  /** Checks at once (the first keep-alive right after READY=1), then every intervalMs. */
  start(): void {
    if (this.timer !== undefined) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The failures of the last check, undefined while healthy. */
  verdict(): string[] | undefined {
    return this.failures;
  }

  /** Runs every check; pings only when all pass. A check that throws counts as failed. */
  tick(): void {
    const failures: string[] = [];
    for (const check of this.checks) {
      const problem = runCheck(check);
      if (problem !== undefined) failures.push(`${check.name}: ${problem}`);
    }
    const now = failures.length === 0 ? undefined : failures;
    if (now === undefined) this.actions.ping();
    if (String(now) !== String(this.failures)) this.report(now);
    this.failures = now;
  }

  private report(failures: string[] | undefined): void {
    if (failures === undefined) this.log.info('gate healthy again, watchdog fed');
    else this.log.error({ failures }, 'gate unhealthy, watchdog not fed');
    this.actions.onChange?.(failures);
  }
}

function runCheck(check: HealthCheck): string | undefined {
  try {
    return check.check();
  } catch (err) {
    return `check failed: ${err instanceof Error ? err.message : String(err)}`;
  }
}
