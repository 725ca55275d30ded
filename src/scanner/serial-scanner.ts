import { accessSync, constants, existsSync, realpathSync } from 'node:fs';
import { SerialPort } from 'serialport';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import {
  describePermissionDenied,
  type PermissionProbe,
  systemPermissionProbe,
} from './permission.js';
import { ScanPipeline } from './pipeline.js';
import { ReconnectState } from './reconnect-state.js';
import { type LineSettings, lineSettingsOf, type ScannerSettings } from './settings.js';
import type { Scan, Scanner, ScannerStats } from './types.js';

/**
 * Options of {@link SerialScanner}: the `scanner` settings with its profile applied
 * (resolveScannerSettings); line settings left out take DEFAULT_LINE_SETTINGS.
 */
export type SerialScannerOptions = Pick<
  ScannerSettings,
  'path' | 'maxLength' | 'dedupeMs' | 'reconnectMinMs' | 'reconnectMaxMs'
> &
  Partial<LineSettings> & { staleLineMs?: number | undefined };

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

/** While the device is missing, its path is tried at least this often (field case S7). */
export const MISSING_POLL_MS = 500;
/**
 * For this long after a missing device appears, a permission denial is taken for udev not
 * having set the device's group yet: retried quickly and not logged.
 */
export const UDEV_SETTLE_MS = 2_000;

/**
 * While connected, the path is checked this often: a device whose path is gone or points at
 * another device is taken as unplugged even when the driver saw no hang-up on its handle.
 */
export const PRESENCE_CHECK_MS = 500;

/**
 * An open still unsettled after this long is taken for a hung driver (a USB device that
 * stopped answering mid-enumeration): the watchdog then lets systemd restart the gate, ms.
 */
export const OPEN_STALL_MS = 30_000;

/** The reason of an open that failed because the path does not exist. */
const MISSING = 'ENOENT';

/** The device a (stable) path points at right now, e.g. /dev/ttyACM1; the path if unresolvable. */
function resolveDevice(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

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
 * A QR scanner on a serial line (USB-CDC or UART), read with `serialport`, with the line
 * settings of its device profile (baud rate, data bits, parity, stop bits, framing).
 *
 * The device may be missing at start, unplugged or renumbered at any time: the scanner then
 * reopens it with exponential backoff (reconnectMinMs to reconnectMaxMs, with jitter) and
 * never throws or crashes the process. While the path is missing it is tried at least every
 * {@link MISSING_POLL_MS}, so a replugged scanner is read again within a second. Name it by a
 * stable `/dev/serial/by-id/…` link: each (re)open follows the link again, and `scanner
 * connected` names the device it resolved to and, when it changed, the one before (S7).
 * It logs once per change of state (connected, disconnected with the reason, a new reason for
 * failing to open), not once per attempt. Without permission to open the device (EACCES) it
 * logs `scanner permission denied` with the fix and retries only every reconnectMaxMs: that
 * does not mend itself in milliseconds (except just after the device appeared, while udev
 * may still be setting its group). The dead handle is closed before any reopen, and every
 * (re)open drops any half line, so a line cut by a disconnect never joins the next scan.
 */
export class SerialScanner implements Scanner {
  private readonly options: SerialScannerOptions;
  private readonly deps: SerialScannerDeps;
  /** reconnectMinMs as configured, before clamping. */
  private readonly configuredMinMs: number;
  private readonly log: Logger;
  private readonly pipeline: ScanPipeline;
  private readonly state: ReconnectState;
  private onScan: ((scan: Scan) => void) | undefined;
  private port: SerialPort | undefined;
  private pendingOpen: Promise<void> | undefined;
  /** The close of a lost port; a reopen waits for it, so the dead handle is closed first. */
  private releasing: Promise<void> = Promise.resolve();
  private retryTimer: NodeJS.Timeout | undefined;
  private presenceTimer: NodeJS.Timeout | undefined;
  private running = false;
  /** The device the path resolved to at the last successful open. */
  private device: string | undefined;
  /** performance.now() when an open last failed because the path was missing. */
  private missingAtMono: number | undefined;
  /** performance.now() when the pending open began. */
  private openStartedMono = 0;

  /**
   * Stores its options only; nothing is opened before {@link SerialScanner.start}.
   * A reconnectMinMs above reconnectMaxMs is clamped to reconnectMaxMs (and warned about).
   * @param deps system access; tests inject fakes, the daemon leaves it out.
   */
  constructor(options: SerialScannerOptions, log: Logger, deps: Partial<SerialScannerDeps> = {}) {
    const reconnectMinMs = Math.min(options.reconnectMinMs, options.reconnectMaxMs);
    this.options = { ...options, reconnectMinMs };
    this.configuredMinMs = options.reconnectMinMs;
    this.deps = { ...systemDeps, ...deps };
    this.log = log.child({ component: 'scanner', path: options.path });
    this.pipeline = new ScanPipeline({ ...options, source: options.path }, this.log);
    this.state = new ReconnectState(
      {
        reconnectMinMs,
        reconnectMaxMs: options.reconnectMaxMs,
        logFailure: (reason, err) => this.logOpenFailure(reason, err),
        delayMs: (reason, backoffMs) => this.retryDelayMs(reason, backoffMs),
      },
      this.log,
    );
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
    this.stopPresenceCheck();
    await this.pendingOpen;

    const port = this.port;
    this.port = undefined;
    if (port !== undefined) await releasePort(port);
    await this.releasing;
    if (this.state.connected) this.log.info('scanner stopped');
    this.state.connected = false;
  }

  stats(): ScannerStats {
    const { frames, duplicates, overlong, rejected, suspicious } = this.pipeline.stats();
    const { connected, reconnects } = this.state;
    return { connected, frames, duplicates, overlong, rejected, suspicious, reconnects };
  }

  /**
   * Alive while connected, waiting to retry, or opening for less than {@link OPEN_STALL_MS};
   * an open that never settles (a hung driver) or a loop with neither port nor retry is not.
   */
  liveness(): string | undefined {
    if (!this.running || this.retryTimer !== undefined) return undefined;
    if (this.pendingOpen !== undefined) {
      const waitedMs = performance.now() - this.openStartedMono;
      if (waitedMs <= OPEN_STALL_MS) return undefined;
      return `opening ${this.options.path} has not finished for ${Math.round(waitedMs / 1000)} s`;
    }
    if (this.port !== undefined) return undefined;
    return `no port open and no retry scheduled for ${this.options.path}`;
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
    this.openStartedMono = performance.now();
    this.pendingOpen = this.releasing
      .then(() => this.attemptOpen())
      .finally(() => {
        this.pendingOpen = undefined;
      });
    return this.pendingOpen;
  }

  private attemptOpen(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (!this.running) {
        resolve();
        return;
      }
      let port: SerialPort;
      try {
        port = new SerialPort({ ...this.portSettings(), autoOpen: false });
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
    });
  }

  /** serialport's settings from the profile's line settings. */
  private portSettings() {
    const line = lineSettingsOf(this.options);
    return {
      path: this.options.path,
      baudRate: line.baudRate,
      dataBits: line.dataBits as 5 | 6 | 7 | 8,
      parity: line.parity,
      stopBits: line.stopBits,
    };
  }

  private onOpened(port: SerialPort): void {
    // After stop() began, stop() itself closes this port once the open has settled.
    if (port !== this.port || !this.running) return;
    this.pipeline.resetFraming();
    const previousDevice = this.device;
    this.device = resolveDevice(this.options.path);
    this.missingAtMono = undefined;
    const changed = previousDevice !== undefined && previousDevice !== this.device;
    this.state.onConnected({ device: this.device, ...(changed ? { previousDevice } : {}) });
    this.presenceTimer = setInterval(() => this.checkPresence(port), PRESENCE_CHECK_MS);
    this.presenceTimer.unref();
  }

  /** Lets go of a port whose path vanished or now names another device (unplug, replug). */
  private checkPresence(port: SerialPort): void {
    if (port !== this.port) return;
    if (!existsSync(this.options.path)) {
      this.onLost(port, new Error('device path is gone'), 'gone');
    } else if (resolveDevice(this.options.path) !== this.device) {
      this.onLost(port, new Error('device path now names another device'), 'replaced');
    }
  }

  private stopPresenceCheck(): void {
    clearInterval(this.presenceTimer);
    this.presenceTimer = undefined;
  }

  /** Handles a failed open, a disconnect, a close or a stream error: let go, then retry. */
  private onLost(port: SerialPort | undefined, err: unknown, reason = reasonOf(err)): void {
    if (port !== undefined) {
      if (port !== this.port) return;
      this.port = undefined;
      this.stopPresenceCheck();
      this.releasing = releasePort(port);
    }
    if (!this.running || this.retryTimer !== undefined) return;
    if (reason === MISSING) this.missingAtMono ??= performance.now();
    const delayMs = this.justAppeared(reason)
      ? this.state.onQuietFailure()
      : this.state.onFailed(reason, err, { device: this.device });
    this.retryTimer = setTimeout(() => void this.openPort(), delayMs);
  }

  /** A permission denial just after a missing device appeared: udev may not be done yet. */
  private justAppeared(reason: string): boolean {
    if (reason !== PERMISSION_DENIED || this.missingAtMono === undefined) return false;
    return performance.now() - this.missingAtMono < UDEV_SETTLE_MS;
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

  /**
   * Without permission, only every reconnectMaxMs; a missing device at least every
   * MISSING_POLL_MS (or reconnectMinMs if longer); anything else with backoff.
   */
  private retryDelayMs(reason: string, backoffMs: number): number {
    if (reason === PERMISSION_DENIED) return this.options.reconnectMaxMs;
    if (reason === MISSING)
      return Math.min(backoffMs, Math.max(MISSING_POLL_MS, this.options.reconnectMinMs));
    return backoffMs;
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
