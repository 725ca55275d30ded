import type { Logger } from '../log.js';
import { decodeFrame } from './decode.js';
import { ScanDeduper } from './dedupe.js';
import { LineFramer, type Terminator } from './framer.js';
import { DEFAULT_STALE_LINE_MS, lineSettingsOf, type UnwrapSettings } from './settings.js';
import { SplitReadDetector } from './split-read.js';
import type { Scan } from './types.js';
import { unwrapFrame } from './unwrap.js';

/** Dropped or rejected lines logged one by one per window; the rest are counted. */
export const DROP_WARNINGS_PER_WINDOW = 5;
/** The window of {@link DROP_WARNINGS_PER_WINDOW}, ms. */
export const DROP_WARNING_WINDOW_MS = 60_000;

/** Options of {@link ScanPipeline}; line settings left out take DEFAULT_LINE_SETTINGS. */
export interface ScanPipelineOptions extends Partial<UnwrapSettings> {
  /** Put in every scan's `source`, e.g. the serial path. */
  source: string;
  terminator?: Terminator | undefined;
  /**
   * An unfinished line with no new byte for this many ms is dropped before the next byte is
   * framed, so noise at power-up never joins the next scan; 0 never drops. Default 500.
   */
  staleLineMs?: number | undefined;
  /** Longest line kept, in bytes; a longer line is dropped and counted. */
  maxLength: number;
  /** The same text again within this many ms is suppressed; 0 turns it off. */
  dedupeMs: number;
}

/** Counters of a {@link ScanPipeline}. */
export interface ScanPipelineCounts {
  /** Lines framed, accepted or rejected. */
  frames: number;
  /** Accepted texts suppressed as a repeat read. */
  duplicates: number;
  /** Lines dropped for being longer than `maxLength`. */
  overlong: number;
  /** Lines dropped for invalid UTF-8, control bytes, missing STX/ETX, noise or staleness. */
  rejected: number;
  /** Pairs of lines taken for one read cut in two by a stray terminator (S4). */
  suspicious: number;
}

/**
 * The path every scanner driver runs its bytes through: frame → unwrap what the device profile
 * names (STX/ETX, BOM, edge control bytes, prefix, suffix) → decode → de-duplicate.
 * Only texts that decode cleanly become scans; over-long and undecodable lines are counted
 * and logged (redacted by previewBytes, never raw) and go no further, so the gate never sees
 * them. Two texts that look like one token cut in two are still passed on (the gate denies
 * each as malformed) but logged once as a suspected split read.
 */
export class ScanPipeline {
  private readonly options: ScanPipelineOptions;
  private readonly unwrap: UnwrapSettings;
  private readonly staleLineMs: number;
  /** When the last chunk arrived (performance.now() ms), for dropping a stale partial line. */
  private lastChunkMono: number | undefined;
  private readonly log: Logger;
  private readonly framer: LineFramer;
  private readonly deduper: ScanDeduper;
  private readonly counts: ScanPipelineCounts = {
    frames: 0,
    duplicates: 0,
    overlong: 0,
    rejected: 0,
    suspicious: 0,
  };
  private readonly splitReads = new SplitReadDetector();
  /** The current window of dropped-line warnings (see warnDropped). */
  private warnWindow = { startMono: Number.NEGATIVE_INFINITY, logged: 0, suppressed: 0 };

  /** @param log the scanner's child logger. */
  constructor(options: ScanPipelineOptions, log: Logger) {
    this.options = options;
    this.log = log;
    const { framing, stripPrefix, stripSuffix, stripBom, stripControl, terminator } =
      lineSettingsOf(options);
    this.unwrap = { framing, stripPrefix, stripSuffix, stripBom, stripControl };
    this.staleLineMs = options.staleLineMs ?? DEFAULT_STALE_LINE_MS;
    this.framer = new LineFramer({
      terminator,
      maxLength: options.maxLength,
      stxEtx: framing === 'stx-etx',
    });
    this.deduper = new ScanDeduper({ windowMs: options.dedupeMs });
  }

  /**
   * Feeds one chunk as it came off the line.
   * @param receivedMono performance.now() when the chunk arrived; every scan the chunk
   *   completes carries it.
   * @returns the scans the chunk completed, in order.
   */
  push(chunk: Buffer, receivedMono: number): Scan[] {
    const scans: Scan[] = [];
    this.dropStaleLine(receivedMono);
    for (const frame of this.framer.push(chunk)) {
      if (frame.kind === 'noise') {
        this.dropped(frame.length, 'scanner noise before STX dropped', receivedMono);
        continue;
      }
      if (frame.kind === 'overlong') {
        this.counts.overlong += 1;
        this.splitReads.reset();
        this.warnDropped(
          receivedMono,
          {
            lengthBytes: frame.length,
            maxLength: this.options.maxLength,
            overlongTotal: this.counts.overlong,
          },
          'scanner line too long, dropped',
        );
        continue;
      }
      const scan = this.acceptLine(frame.bytes, receivedMono);
      if (scan !== undefined) scans.push(scan);
    }
    return scans;
  }

  /** Drops any unfinished line: call on every (re)open so a half line never joins a scan. */
  resetFraming(): void {
    this.framer.reset();
    this.splitReads.reset();
    this.lastChunkMono = undefined;
  }

  /** Drops an unfinished line that has had no new byte for staleLineMs (power-up noise). */
  private dropStaleLine(receivedMono: number): void {
    const last = this.lastChunkMono;
    this.lastChunkMono = receivedMono;
    if (this.staleLineMs <= 0 || last === undefined || !this.framer.hasPartialLine) return;
    if (receivedMono - last < this.staleLineMs) return;
    const lengthBytes = this.framer.bufferedBytes;
    this.framer.reset();
    this.dropped(lengthBytes, 'scanner stale partial line dropped', receivedMono);
  }

  /** Counts and logs bytes dropped without becoming a line; lengths only, never content. */
  private dropped(lengthBytes: number, msg: string, receivedMono: number): void {
    this.counts.rejected += 1;
    this.splitReads.reset();
    this.warnDropped(receivedMono, { lengthBytes, rejectedTotal: this.counts.rejected }, msg);
  }

  /**
   * Logs a dropped or rejected line, at most {@link DROP_WARNINGS_PER_WINDOW} times per
   * {@link DROP_WARNING_WINDOW_MS}: a flood of garbage on the line (a faulty scanner, someone
   * feeding a TCP scanner) must neither fill the journal nor, since writing a log line takes
   * time, delay the next rider. The lines left out are counted in one summary line when the
   * next window opens, and always in the totals of every line logged.
   */
  private warnDropped(receivedMono: number, fields: Record<string, unknown>, msg: string): void {
    if (receivedMono - this.warnWindow.startMono >= DROP_WARNING_WINDOW_MS) {
      if (this.warnWindow.suppressed > 0) {
        this.log.warn(
          { suppressed: this.warnWindow.suppressed, windowMs: DROP_WARNING_WINDOW_MS },
          'scanner dropped-line warnings suppressed',
        );
      }
      this.warnWindow = { startMono: receivedMono, logged: 0, suppressed: 0 };
    }
    if (this.warnWindow.logged >= DROP_WARNINGS_PER_WINDOW) {
      this.warnWindow.suppressed += 1;
      return;
    }
    this.warnWindow.logged += 1;
    this.log.warn(
      this.warnWindow.logged === DROP_WARNINGS_PER_WINDOW
        ? { ...fields, moreSuppressedForMs: DROP_WARNING_WINDOW_MS }
        : fields,
      msg,
    );
  }

  /** A copy of the counters. */
  stats(): ScanPipelineCounts {
    return { ...this.counts };
  }

  private acceptLine(bytes: Buffer, receivedMono: number): Scan | undefined {
    this.counts.frames += 1;
    const unwrapped = unwrapFrame(bytes, this.unwrap);
    // Only framing was sent (e.g. STX ETX, or the prefix alone): nothing was scanned.
    if (unwrapped.ok && unwrapped.bytes.length === 0) return undefined;
    const decoded = unwrapped.ok ? decodeFrame(unwrapped.bytes) : unwrapped;
    if (!decoded.ok) {
      this.counts.rejected += 1;
      this.splitReads.reset(); // a pair is two adjacent frames
      this.warnDropped(
        receivedMono,
        {
          reason: decoded.reason,
          preview: decoded.preview,
          lengthBytes: bytes.length,
          rejectedTotal: this.counts.rejected,
        },
        'scanner line rejected',
      );
      return undefined;
    }
    this.checkSplitRead(decoded.text, receivedMono);
    if (this.deduper.isDuplicate(decoded.text, receivedMono)) {
      this.counts.duplicates += 1;
      this.log.debug({ lengthBytes: bytes.length }, 'scanner repeat read suppressed');
      return undefined;
    }
    return { text: decoded.text, receivedMono, source: this.options.source };
  }

  /** Logs once when this text and the one before look like one read cut in two (S4). */
  private checkSplitRead(text: string, receivedMono: number): void {
    const pair = this.splitReads.observe(text, receivedMono);
    if (pair === undefined) return;
    this.counts.suspicious += 1;
    this.log.warn(
      { ...pair, suspiciousTotal: this.counts.suspicious },
      'scanner split read suspected',
    );
  }
}
