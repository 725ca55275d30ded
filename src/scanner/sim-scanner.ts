import type { Logger } from '../log.js';
import { ScanPipeline, type ScanPipelineOptions } from './pipeline.js';
import type { Scan, Scanner, ScannerStats } from './types.js';

/** Options of {@link SimScanner}; `source` defaults to `sim`. */
export type SimScannerOptions = Omit<ScanPipelineOptions, 'source'> & { source?: string };

/**
 * A scanner with no device: bytes given to {@link SimScanner.feed} run through the same
 * framing, decoding and de-duplication as a serial scanner's. For the demo and tests.
 */
export class SimScanner implements Scanner {
  private readonly pipeline: ScanPipeline;
  private onScan: ((scan: Scan) => void) | undefined;

  constructor(options: SimScannerOptions, log: Logger) {
    const source = options.source ?? 'sim';
    this.pipeline = new ScanPipeline({ ...options, source }, log.child({ component: 'scanner' }));
  }

  async start(onScan: (scan: Scan) => void): Promise<void> {
    this.pipeline.resetFraming();
    this.onScan = onScan;
  }

  async stop(): Promise<void> {
    this.onScan = undefined;
  }

  /**
   * Feeds bytes as if they came off the serial line (a string is taken as UTF-8).
   * Delivers the scans they complete synchronously. Bytes fed while stopped are dropped.
   */
  feed(bytes: Buffer | string): void {
    const onScan = this.onScan;
    if (onScan === undefined) return;
    const chunk = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
    for (const scan of this.pipeline.push(chunk, performance.now())) onScan(scan);
  }

  stats(): ScannerStats {
    const { frames, duplicates, overlong, rejected, suspicious } = this.pipeline.stats();
    const connected = this.onScan !== undefined;
    return { connected, frames, duplicates, overlong, rejected, suspicious, reconnects: 0 };
  }
}
