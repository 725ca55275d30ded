/** Default time without a connection after which the MQTT client is rebuilt, seconds. */
export const DEFAULT_REBUILD_AFTER_SEC = 120;

/** What the supervisor watches and what it does. */
export interface SupervisorOptions {
  /** Time without a connection after which the client is rebuilt, ms. */
  rebuildAfterMs: number;
  /** Monotonic time, ms. */
  monoMs: () => number;
  /** True while the client holds a connection to the broker. */
  isConnected: () => boolean;
  /** Tears the client down and builds a new one; `downMs` is how long no connection was up. */
  rebuild: (downMs: number) => void;
}

/**
 * Watches the MQTT client from outside: when it has not held a connection for `rebuildAfterMs`
 * (since start, since the last connection ended or since the last rebuild), it asks for the
 * client to be torn down and built again. mqtt.js can end up not retrying any more (after an
 * error it treats as final, or with a socket that connected but never answers until
 * `connectTimeout`); a fresh client with fresh options (TLS files read again) gets the gate
 * back without a restart. Checks about four times per period, at most every 5 s.
 */
export class ConnectionSupervisor {
  private readonly options: SupervisorOptions;
  private timer: NodeJS.Timeout | undefined;
  /** Monotonic ms of the last moment a connection was seen up, or of start or the last rebuild. */
  private lastGoodMono = 0;
  /** Rebuilds since start. */
  rebuilds = 0;

  constructor(options: SupervisorOptions) {
    this.options = options;
  }

  /** Starts the periodic check; the time without a connection counts from now. */
  start(): void {
    if (this.timer !== undefined) return;
    this.lastGoodMono = this.options.monoMs();
    const periodMs = Math.max(50, Math.min(5_000, Math.floor(this.options.rebuildAfterMs / 4)));
    this.timer = setInterval(() => this.check(), periodMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A connection was up until now (call when it closes), so the wait restarts from now. */
  connectionEnded(): void {
    this.lastGoodMono = this.options.monoMs();
  }

  /** One check: rebuilds when no connection has been up for `rebuildAfterMs`. */
  check(): void {
    const now = this.options.monoMs();
    if (this.options.isConnected()) {
      this.lastGoodMono = now;
      return;
    }
    const downMs = now - this.lastGoodMono;
    if (downMs < this.options.rebuildAfterMs) return;
    this.lastGoodMono = now;
    this.rebuilds += 1;
    this.options.rebuild(downMs);
  }
}
