import type { Logger } from '../log.js';
import type { Scanner } from '../scanner/types.js';
import { EventLoopLag, StoreProbe, scannerCheck } from './checks.js';
import { type NotifyEnv, SystemdNotifier, watchdogIntervalMs } from './systemd-notify.js';
import { Watchdog } from './watchdog.js';

/** Worst event-loop drift a healthy gate shows, ms (a Pi's GC pauses stay far below it). */
export const EVENT_LOOP_LIMIT_MS = 5_000;
/** How long the store may leave a probe unanswered before the gate counts as hung, ms. */
export const STORE_STALL_MS = 60_000;

/** What the health checks look at in the running gate. */
export interface HealthTargets {
  scanner: Scanner;
  /** A cheap query through the store's queue, e.g. reading one setting. */
  probeStore: () => Promise<unknown>;
}

/**
 * The daemon's side of Type=notify: READY=1 once the gate is up, STATUS= lines, STOPPING=1 at
 * a clean stop, and WATCHDOG=1 every WatchdogSec/2 while the event loop, store and scanner
 * loop are healthy. Without NOTIFY_SOCKET (a terminal, a test, a plain service) it does
 * nothing at all: no socket, no timers.
 */
export class SystemdHealth {
  private readonly watchdog: Watchdog | undefined;
  private readonly lag: EventLoopLag | undefined;
  private lastStatus = '';

  private constructor(
    private readonly notifier: SystemdNotifier | undefined,
    intervalMs: number | undefined,
    targets: HealthTargets,
    log: Logger,
  ) {
    if (notifier === undefined || intervalMs === undefined) return;
    this.lag = new EventLoopLag(EVENT_LOOP_LIMIT_MS);
    const checks = [
      this.lag,
      new StoreProbe(targets.probeStore, STORE_STALL_MS),
      scannerCheck(targets.scanner),
    ];
    this.watchdog = new Watchdog(
      intervalMs,
      checks,
      {
        ping: () => notifier.watchdog(),
        onChange: (failures) =>
          this.status(
            failures === undefined ? this.lastStatus : `unhealthy: ${failures.join('; ')}`,
          ),
      },
      log,
    );
  }

  /** Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from `env`. */
  static fromEnv(env: NotifyEnv, targets: HealthTargets, log: Logger): SystemdHealth {
    const notifier = SystemdNotifier.fromEnv(env, log);
    return new SystemdHealth(notifier, watchdogIntervalMs(env), targets, log);
  }

  /** The gate is up: READY=1 with a status line, then the watchdog starts. */
  ready(status: string): void {
    this.lastStatus = status;
    this.notifier?.ready(status);
    this.lag?.start();
    this.watchdog?.start();
  }

  /** A status line for `systemctl status` (e.g. why the gate could not start). */
  status(text: string): void {
    this.notifier?.status(text);
  }

  /** A clean stop begins: no more keep-alives, STOPPING=1. */
  stopping(): void {
    this.watchdog?.stop();
    this.lag?.stop();
    this.notifier?.stopping();
  }

  /** Releases the socket and timers; nothing is sent afterwards. */
  close(): void {
    this.watchdog?.stop();
    this.lag?.stop();
    this.notifier?.close();
  }
}
