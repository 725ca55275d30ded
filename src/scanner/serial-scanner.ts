import { accessSync, constants } from 'node:fs';
import { SerialPort } from 'serialport';
import type { Config } from '../config/schema.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { backoffDelayMs } from './backoff.js';
import {
  describePermissionDenied,
  type PermissionProbe,
  systemPermissionProbe,
} from './permission.js';
import { ScanPipeline } from './pipeline.js';
import type { Scan, Scanner, ScannerStats } from './types.js';

/** Options of {@link SerialScanner}: the `scanner` section of the configuration. */
export type SerialScannerOptions = Pick<
  Config['scanner'],
  | 'path'
  | 'baudRate'
  | 'terminator'
  | 'maxLength'
  | 'dedupeMs'
  | 'reconnectMinMs'
  | 'reconnectMaxMs'
>;

/** What {@link SerialScanner} reads from the system besides the port; injected by tests. */
export interface SerialScannerDeps {
  /** Checks read/write access to a path; throws like fs.accessSync (an error with a `code`). */
  probeAccess(path: string): void;
  /** Finds the device's group and the process user for the permission-denied message. */
  permission: PermissionProbe;
}

const systemDeps: SerialScannerDeps = {
  probeAccess: (path) => accessSync(path, constants.R_OK | constants.W_OK),
  permission: systemPermissionProbe,
};

/** The reason of an open that failed for lack of permission (field case S8). */
const PERMISSION_DENIED = 'EACCES';

/** A short, stable word for why the port was lost, for logs and for telling retries apart. */
function reasonOf(err: unknown): string {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') return err.code;
  if (err instanceof Error && 'disconnected' in err && err.disconnected === true) {
    return 'disconnected';
  }
  return 'error';
}

/**
 * Why opening `path` failed. serialport's open errors carry only a message, and messages are
 * not to be matched on, so the path is probed: ENOENT (missing), EACCES (no permission: the
 * service user is not in `dialout`), or `open_failed` (present and accessible, e.g. locked).
 */
function openFailureReason(path: string, probeAccess: (path: string) => void): string {
  try {
    probeAccess(path);
    return 'open_failed';
  } catch (err) {
    return reasonOf(err);
  }
}

/** Closes a port that is being let go, swallowing its late errors. */
function releasePort(port: SerialPort): Promise<void> {
  port.removeAllListeners();
  // A late 'error' with no listener would be thrown by the EventEmitter and end the process.
  port.on('error', () => {});
  if (!port.isOpen) return Promise.resolve();
  return new Promise((resolve) => {
    port.close(() => resolve());
  });
}

/**
 * A QR scanner on a serial line (USB-CDC or UART), read with `serialport`.
 *
 * The device may be missing at start, unplugged or renumbered at any time: the scanner then
 * reopens it with exponential backoff (reconnectMinMs to reconnectMaxMs, with jitter) and
 * never throws or crashes the process. It logs once per change of state (connected,
 * disconnected with the reason, a new reason for failing to open), not once per attempt.
 * Without permission to open the device (EACCES) it logs `scanner permission denied` with the
 * fix and retries only every reconnectMaxMs: that does not mend itself in milliseconds.
 * Every (re)open drops any half line, so a line cut by a disconnect never joins the next scan.
 */
export class SerialScanner implements Scanner {
  private readonly options: SerialScannerOptions;
  private readonly deps: SerialScannerDeps;
  /** reconnectMinMs as configured, before clamping. */
  private readonly configuredMinMs: number;
  private readonly log: Logger;
  private readonly pipeline: ScanPipeline;
  private onScan: ((scan: Scan) => void) | undefined;
  private port: SerialPort | undefined;
  private pendingOpen: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private running = false;
  private connected = false;
  private everConnected = false;
  /** Failed attempts since the last successful open; drives the backoff. */
  private failures = 0;
  private reconnects = 0;
  /** The reason last logged, so a retry failing for the same reason stays quiet. */
  private loggedReason: string | undefined;

  /**
   * Stores its options only; nothing is opened before {@link SerialScanner.start}.
   * A reconnectMinMs above reconnectMaxMs is clamped to reconnectMaxMs (and warned about).
   * @param deps system access; tests inject fakes, the daemon leaves it out.
   */
  constructor(options: SerialScannerOptions, log: Logger, deps: Partial<SerialScannerDeps> = {}) {
    this.options = {
      ...options,
      reconnectMinMs: Math.min(options.reconnectMinMs, options.reconnectMaxMs),
    };
    this.configuredMinMs = options.reconnectMinMs;
    this.deps = { ...systemDeps, ...deps };
    this.log = log.child({ component: 'scanner', path: options.path });
    this.pipeline = new ScanPipeline({ ...options, source: options.path }, this.log);
  }

  /**
   * Starts reading. Resolves after the first open attempt, whether it succeeded or not;
   * a failed attempt is retried in the background until {@link SerialScanner.stop}.
   */
  async start(onScan: (scan: Scan) => void): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.onScan = onScan;
    this.warnIfDelaysOutOfOrder();
    await this.openPort();
  }

  /** Closes the port and cancels any retry; leaves no timer or handle behind. */
  async stop(): Promise<void> {
    this.running = false;
    this.onScan = undefined;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.pendingOpen;

    const port = this.port;
    this.port = undefined;
    if (port !== undefined) await releasePort(port);
    if (this.connected) this.log.info('scanner stopped');
    this.connected = false;
  }

  stats(): ScannerStats {
    const { frames, duplicates, overlong, rejected, suspicious } = this.pipeline.stats();
    const { connected, reconnects } = this;
    return { connected, frames, duplicates, overlong, rejected, suspicious, reconnects };
  }

  /** The configuration may allow reconnectMinMs > reconnectMaxMs; say that it was clamped. */
  private warnIfDelaysOutOfOrder(): void {
    const { reconnectMinMs, reconnectMaxMs } = this.options;
    if (reconnectMinMs === this.configuredMinMs) return;
    this.log.warn(
      { reconnectMinMs: this.configuredMinMs, reconnectMaxMs, usedMinMs: reconnectMinMs },
      'scanner reconnectMinMs above reconnectMaxMs, clamped',
    );
  }

  private openPort(): Promise<void> {
    this.retryTimer = undefined;
    this.pendingOpen = new Promise<void>((resolve) => {
      let port: SerialPort;
      try {
        port = new SerialPort({
          path: this.options.path,
          baudRate: this.options.baudRate,
          autoOpen: false,
        });
      } catch (err) {
        this.onLost(undefined, err);
        resolve();
        return;
      }
      this.port = port;
      port.on('data', (chunk: Buffer) => this.onData(port, chunk));
      port.on('close', (err: Error | null) => this.onLost(port, err ?? new Error('port closed')));
      port.on('end', () => this.onLost(port, new Error('end of stream')));
      port.on('error', (err: Error) => this.onLost(port, err));
      port.open((err) => {
        if (err)
          this.onLost(port, err, openFailureReason(this.options.path, this.deps.probeAccess));
        else this.onOpened(port);
        resolve();
      });
    }).finally(() => {
      this.pendingOpen = undefined;
    });
    return this.pendingOpen;
  }

  private onOpened(port: SerialPort): void {
    // After stop() began, stop() itself closes this port once the open has settled.
    if (port !== this.port || !this.running) return;
    this.pipeline.resetFraming();
    this.connected = true;
    if (this.everConnected) this.reconnects += 1;
    this.everConnected = true;
    this.failures = 0;
    this.loggedReason = undefined;
    this.log.info({ reconnects: this.reconnects }, 'scanner connected');
  }

  /** Handles a failed open, a disconnect, a close or a stream error: let go, then retry. */
  private onLost(port: SerialPort | undefined, err: unknown, reason = reasonOf(err)): void {
    if (port !== undefined) {
      if (port !== this.port) return;
      this.port = undefined;
      void releasePort(port);
    }
    if (!this.running) return;

    if (this.connected) {
      this.connected = false;
      this.log.warn({ reason, detail: describeError(err) }, 'scanner disconnected');
    } else if (reason !== this.loggedReason) {
      this.logOpenFailure(reason, err);
    }
    this.loggedReason = reason;
    this.scheduleRetry(reason);
  }

  private logOpenFailure(reason: string, err: unknown): void {
    if (reason !== PERMISSION_DENIED) {
      this.log.warn({ reason, detail: describeError(err) }, 'scanner not available, retrying');
      return;
    }
    const { group, detail } = describePermissionDenied(this.options.path, this.deps.permission);
    this.log.warn(
      { reason, group, detail, retryMs: this.options.reconnectMaxMs },
      'scanner permission denied',
    );
  }

  /** Retries with backoff; without permission, only every reconnectMaxMs from the start. */
  private scheduleRetry(reason: string): void {
    if (!this.running || this.retryTimer !== undefined) return;
    const { reconnectMinMs, reconnectMaxMs } = this.options;
    const delayMs =
      reason === PERMISSION_DENIED
        ? reconnectMaxMs
        : backoffDelayMs(this.failures, reconnectMinMs, reconnectMaxMs);
    this.failures += 1;
    this.retryTimer = setTimeout(() => void this.openPort(), delayMs);
  }

  private onData(port: SerialPort, chunk: Buffer): void {
    if (port !== this.port) return;
    const receivedMono = performance.now();
    for (const scan of this.pipeline.push(chunk, receivedMono)) this.deliver(scan);
  }

  private deliver(scan: Scan): void {
    try {
      this.onScan?.(scan);
    } catch (err) {
      // A failing consumer must not stop the reading of further scans.
      this.log.error({ err }, 'scan handler failed');
    }
  }
}
