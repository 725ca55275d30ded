import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { backoffDelayMs } from './backoff.js';

/** Options of {@link ReconnectState}. */
export interface ReconnectStateOptions {
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /**
   * Logs a failure to connect whose reason differs from the last one logged; by default a
   * warning `scanner not available, retrying` with the reason and the error's message.
   */
  logFailure?: (reason: string, err: unknown) => void;
  /** The wait before the next attempt; by default backoff from reconnectMinMs to reconnectMaxMs. */
  delayMs?: (reason: string, backoffMs: number) => number;
}

/**
 * The connection state a scanner driver logs and retries by, shared by the serial and TCP
 * drivers: one log line per change of state (connected, disconnected with the reason, a new
 * reason for failing to connect), never one per attempt, and the delay before each retry.
 */
export class ReconnectState {
  connected = false;
  reconnects = 0;
  private everConnected = false;
  /** Failed attempts since the last successful connection; drives the backoff. */
  private failures = 0;
  /** The reason last logged, so a retry failing for the same reason stays quiet. */
  private loggedReason: string | undefined;
  private readonly log: Logger;
  private readonly options: ReconnectStateOptions;

  constructor(options: ReconnectStateOptions, log: Logger) {
    this.options = options;
    this.log = log;
  }

  /** Records a successful (re)connection and logs `scanner connected` with `fields`. */
  onConnected(fields: Record<string, unknown> = {}): void {
    this.connected = true;
    if (this.everConnected) this.reconnects += 1;
    this.everConnected = true;
    this.failures = 0;
    this.loggedReason = undefined;
    this.log.info({ ...fields, reconnects: this.reconnects }, 'scanner connected');
  }

  /**
   * Records a lost connection or a failed attempt, logging it only when the state or the
   * reason changed.
   * @returns ms to wait before the next attempt.
   */
  onFailed(reason: string, err: unknown, fields: Record<string, unknown> = {}): number {
    if (this.connected) {
      this.connected = false;
      this.log.warn({ ...fields, reason, detail: describeError(err) }, 'scanner disconnected');
    } else if (reason !== this.loggedReason) {
      this.logFailure(reason, err);
    }
    this.loggedReason = reason;
    const { reconnectMinMs, reconnectMaxMs } = this.options;
    const backoffMs = backoffDelayMs(this.failures, reconnectMinMs, reconnectMaxMs);
    this.failures += 1;
    return this.options.delayMs?.(reason, backoffMs) ?? backoffMs;
  }

  /**
   * Records a failed attempt that is expected to mend by itself in a moment: retried like
   * any other, never logged, and it does not count as the last reason logged.
   */
  onQuietFailure(): number {
    this.failures += 1;
    return this.options.reconnectMinMs;
  }

  private logFailure(reason: string, err: unknown): void {
    if (this.options.logFailure !== undefined) {
      this.options.logFailure(reason, err);
      return;
    }
    this.log.warn({ reason, detail: describeError(err) }, 'scanner not available, retrying');
  }
}
