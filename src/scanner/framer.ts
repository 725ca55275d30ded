/** How a scanner ends each scanned text. `auto` takes any run of CR and LF as one end. */
export type Terminator = 'auto' | 'cr' | 'lf' | 'crlf';

/** One unit cut from the byte stream. */
export type Frame =
  | { kind: 'line'; bytes: Buffer }
  | {
      kind: 'overlong';
      /** Bytes dropped from the over-long line, terminator excluded. */
      length: number;
    }
  | {
      /** `stxEtx` only: bytes that came before an STX without ending a line, dropped. */
      kind: 'noise';
      length: number;
    };

/** Options of {@link LineFramer}. */
export interface LineFramerOptions {
  terminator: Terminator;
  /** Longest line kept, in bytes, terminator excluded. A longer line is dropped whole. */
  maxLength: number;
  /**
   * STX/ETX framed scanners: an STX (0x02) starts a new line, dropping any unfinished one as
   * `noise`; an ETX (0x03) ends a line and is kept in it, so a scanner that sends no CR/LF
   * after ETX is read too.
   */
  stxEtx?: boolean;
}

const CR = 0x0d;
const LF = 0x0a;
const STX = 0x02;
const ETX = 0x03;

function isCrOrLf(byte: number): boolean {
  return byte === CR || byte === LF;
}

/**
 * Cuts a serial byte stream into lines. Pure and synchronous: it frames bytes, never text, so
 * a multi-byte UTF-8 character split across chunks is never decoded in halves.
 *
 * - `auto`: any run of CR/LF ends a line; "T\r\n", "T\n\r" and "T\r\r" all give one line T.
 * - `cr`, `lf`, `crlf`: only that exact terminator ends a line; a stray CR or LF at a line's
 *   edges (e.g. the LF of a CRLF scanner configured as `cr`) is stripped.
 * - Empty lines are never reported, so a terminator split across chunks adds no scan.
 * - A line longer than `maxLength` is never buffered beyond `maxLength`: what was kept is
 *   discarded, the rest is skipped up to the next terminator, then one `overlong` frame
 *   reports how many bytes were dropped. Memory stays at `maxLength` bytes whatever arrives.
 * - `stxEtx`: STX starts and ETX ends a line as well (see {@link LineFramerOptions.stxEtx}).
 */
export class LineFramer {
  private readonly terminator: Terminator;
  private readonly maxLength: number;
  private readonly stxEtx: boolean;
  private readonly buffer: Buffer;
  private length = 0;
  /** Bytes of the current over-long line so far; 0 when the current line is not over-long. */
  private skipped = 0;
  /** `crlf` only: a CR was seen and the next byte decides whether it ends the line. */
  private pendingCr = false;

  constructor(options: LineFramerOptions) {
    if (!Number.isInteger(options.maxLength) || options.maxLength < 1) {
      throw new RangeError(`maxLength must be a positive integer, got ${options.maxLength}`);
    }
    this.terminator = options.terminator;
    this.maxLength = options.maxLength;
    this.stxEtx = options.stxEtx ?? false;
    this.buffer = Buffer.alloc(options.maxLength);
  }

  /** Bytes of an unfinished line held right now; never more than `maxLength`. */
  get bufferedBytes(): number {
    return this.length;
  }

  /** True while an unfinished line (or a pending CR, or an over-long line) is held. */
  get hasPartialLine(): boolean {
    return this.length > 0 || this.skipped > 0 || this.pendingCr;
  }

  /** Feeds one chunk; returns the frames it completed, in order. */
  push(chunk: Buffer): Frame[] {
    const frames: Frame[] = [];
    for (const byte of chunk) this.pushByte(byte, frames);
    return frames;
  }

  /** Forgets any unfinished line, e.g. when the port is reopened, so it never joins a scan. */
  reset(): void {
    this.length = 0;
    this.skipped = 0;
    this.pendingCr = false;
  }

  private pushByte(byte: number, frames: Frame[]): void {
    if (this.stxEtx && (byte === STX || byte === ETX)) {
      this.pushFramingByte(byte, frames);
      return;
    }
    switch (this.terminator) {
      case 'auto':
        if (isCrOrLf(byte)) this.endLine(frames);
        else this.append(byte);
        return;
      case 'cr':
        if (byte === CR) this.endLine(frames);
        else this.append(byte);
        return;
      case 'lf':
        if (byte === LF) this.endLine(frames);
        else this.append(byte);
        return;
      case 'crlf':
        this.pushCrlfByte(byte, frames);
        return;
    }
  }

  private pushFramingByte(byte: number, frames: Frame[]): void {
    if (this.pendingCr) {
      this.pendingCr = false;
      this.append(CR);
    }
    if (byte === STX) {
      const dropped = this.skipped > 0 ? this.skipped : this.length;
      if (dropped > 0) frames.push({ kind: 'noise', length: dropped });
      this.reset();
      this.append(STX);
      return;
    }
    this.append(ETX);
    this.endLine(frames);
  }

  private pushCrlfByte(byte: number, frames: Frame[]): void {
    if (this.pendingCr) {
      this.pendingCr = false;
      if (byte === LF) {
        this.endLine(frames);
        return;
      }
      // The CR was not a terminator after all: it belongs to the line.
      this.append(CR);
    }
    if (byte === CR) this.pendingCr = true;
    else this.append(byte);
  }

  private append(byte: number): void {
    if (this.skipped > 0) {
      this.skipped += 1;
    } else if (this.length === this.maxLength) {
      this.skipped = this.length + 1;
      this.length = 0;
    } else {
      this.buffer[this.length] = byte;
      this.length += 1;
    }
  }

  private endLine(frames: Frame[]): void {
    if (this.skipped > 0) {
      frames.push({ kind: 'overlong', length: this.skipped });
      this.skipped = 0;
      return;
    }
    let start = 0;
    let end = this.length;
    while (start < end && isCrOrLf(this.buffer[start] ?? 0)) start += 1;
    while (end > start && isCrOrLf(this.buffer[end - 1] ?? 0)) end -= 1;
    this.length = 0;
    if (end > start)
      frames.push({ kind: 'line', bytes: Buffer.from(this.buffer.subarray(start, end)) });
  }
}
