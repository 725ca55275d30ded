import { createConnection, type Socket } from 'node:net';
import type { Logger } from '../log.js';
import { ScanPipeline } from './pipeline.js';
import { ReconnectState } from './reconnect-state.js';
import type { LineSettings } from './settings.js';
import type { Scan, Scanner, ScannerStats } from './types.js';

/** Options of {@link TcpScanner}: the `scanner` settings with its profile applied. */
export interface TcpScannerOptions
  extends Partial<Pick<LineSettings, 'terminator' | 'framing' | 'stripPrefix' | 'stripSuffix'>>,
    Partial<Pick<LineSettings, 'stripBom' | 'stripControl'>> {
  host: string;
  port: number;
  maxLength: number;
  dedupeMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  staleLineMs?: number | undefined;
}

/** A connection attempt that has not succeeded within this long is given up and retried. */
export const CONNECT_TIMEOUT_MS = 5_000;
/** TCP keep-alive probes start after this much silence, so a powered-off bridge is noticed. */
const KEEPALIVE_MS = 10_000;

/** A short, stable word for why the connection ended, for logs and telling retries apart. */
function reasonOf(err: Error | undefined): string {
  if (err === undefined) return 'closed';
  if ('code' in err && typeof err.code === 'string') return err.code;
  return 'error';
}

/**
 * A network QR reader, or a serial scanner behind a serial-to-network bridge, read as a TCP
 * client of `host`:`port`. The bytes run through the same framing, profile unwrapping, limits
 * and de-duplication as a serial scanner's (ScanPipeline). A refused, timed-out or lost
 * connection is retried with backoff (reconnectMinMs to reconnectMaxMs) and never throws;
 * it logs once per change of state, not per attempt, and every (re)connection drops any half
 * line, so a line cut by a lost connection never joins the next scan.
 */
export class TcpScanner implements Scanner {
  private readonly options: TcpScannerOptions;
  private readonly log: Logger;
  private readonly pipeline: ScanPipeline;
  private readonly state: ReconnectState;
  private onScan: ((scan: Scan) => void) | undefined;
  private socket: Socket | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private running = false;

  /** Stores its options only; nothing connects before {@link TcpScanner.start}. */
  constructor(options: TcpScannerOptions, log: Logger) {
    const reconnectMinMs = Math.min(options.reconnectMinMs, options.reconnectMaxMs);
    this.options = { ...options, reconnectMinMs };
    const source = `tcp://${options.host}:${options.port}`;
    this.log = log.child({ component: 'scanner', host: options.host, port: options.port });
    this.pipeline = new ScanPipeline({ ...options, source }, this.log);
    this.state = new ReconnectState(
      { reconnectMinMs, reconnectMaxMs: options.reconnectMaxMs },
      this.log,
    );
  }

  /** Starts reading. Resolves once the first attempt connected or failed. */
  async start(onScan: (scan: Scan) => void): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.onScan = onScan;
    await this.connect();
  }

  /** Closes the connection and cancels any retry; leaves no timer or socket behind. */
  async stop(): Promise<void> {
    this.running = false;
    this.onScan = undefined;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    if (socket !== undefined && !socket.destroyed) {
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.destroy();
      await closed;
    }
    if (this.state.connected) this.log.info('scanner stopped');
    this.state.connected = false;
  }

  stats(): ScannerStats {
    const { frames, duplicates, overlong, rejected, suspicious } = this.pipeline.stats();
    const { connected, reconnects } = this.state;
    return { connected, frames, duplicates, overlong, rejected, suspicious, reconnects };
  }

  /** One connection attempt; resolves when it connected or failed. */
  private connect(): Promise<void> {
    this.retryTimer = undefined;
    return new Promise<void>((resolve) => {
      const socket = createConnection({ host: this.options.host, port: this.options.port });
      this.socket = socket;
      let lastError: Error | undefined;
      socket.setTimeout(CONNECT_TIMEOUT_MS, () =>
        socket.destroy(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })),
      );
      socket.once('connect', () => {
        socket.setTimeout(0);
        socket.setKeepAlive(true, KEEPALIVE_MS);
        socket.setNoDelay(true);
        this.onConnected(socket);
        resolve();
      });
      socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
      socket.on('error', (err: Error) => {
        lastError = err;
      });
      socket.once('close', () => {
        this.onLost(socket, lastError);
        resolve();
      });
    });
  }

  private onConnected(socket: Socket): void {
    if (socket !== this.socket || !this.running) return;
    this.pipeline.resetFraming();
    this.state.onConnected();
  }

  private onLost(socket: Socket, err: Error | undefined): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    if (!this.running) return;
    const reason = reasonOf(err);
    const delayMs = this.state.onFailed(
      reason,
      err ?? new Error('connection closed by the scanner'),
    );
    this.retryTimer = setTimeout(() => void this.connect(), delayMs);
  }

  private onData(socket: Socket, chunk: Buffer): void {
    if (socket !== this.socket) return;
    for (const scan of this.pipeline.push(chunk, performance.now())) {
      try {
        this.onScan?.(scan);
      } catch (err) {
        // A failing consumer must not stop the reading of further scans.
        this.log.error({ err }, 'scan handler failed');
      }
    }
  }
}
