/** One scanned text, framed and de-duplicated. */
export interface Scan {
  /** The decoded text, without terminator. */
  text: string;
  /** Monotonic time (performance.now(), ms) when the frame's last byte arrived. */
  receivedMono: number;
  /** Where it came from, e.g. the serial path. */
  source: string;
}

/** Counters a scanner keeps for telemetry. */
export interface ScannerStats {
  connected: boolean;
  frames: number;
  duplicates: number;
  overlong: number;
  /** Lines dropped for invalid UTF-8 or control bytes (never passed to the gate). */
  rejected: number;
  /** Suspected split reads: two lines that look like one token cut in two (field case S4). */
  suspicious: number;
  reconnects: number;
}

/**
 * A source of scans: serial (serialport), tcp, or simulated. start() never throws because the
 * device is missing: the driver keeps retrying with backoff and reports `connected: false`.
 */
export interface Scanner {
  start(onScan: (scan: Scan) => void): Promise<void>;
  stop(): Promise<void>;
  stats(): ScannerStats;
  /**
   * Undefined while the read loop runs (connected, or waiting to retry: an unplugged scanner is
   * alive); otherwise why it is wedged. Read by the systemd watchdog; optional for drivers.
   */
  liveness?(): string | undefined;
}
