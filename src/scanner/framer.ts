/** How a scanner ends each scanned text. `auto` takes any run of CR and LF as one end. */
export type Terminator = 'auto' | 'cr' | 'lf' | 'crlf';

/** One unit cut from the byte stream. */
export type Frame =
  | { kind: 'line'; bytes: Buffer }
  | {
      kind: 'overlong';
      /** Bytes dropped from the over-long line, terminator excluded. */
      length: number;
    };

/** Options of {@link LineFramer}. */
export interface LineFramerOptions {
  terminator: Terminator;
  /** Longest line kept, in bytes, terminator excluded. A longer line is dropped whole. */
  maxLength: number;
}

const CR = 0x0d;
const LF = 0x0a;

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
 */
export class LineFramer {
  private readonly terminator: Terminator;
  private readonly maxLength: number;
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
    this.buffer = Buffer.alloc(options.maxLength);
  }

  /** Bytes of an unfinished line held right now; never more than `maxLength`. */
  get bufferedBytes(): number {
    return this.length;
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
