import { previewBytes } from './decode.js';
import type { UnwrapSettings } from './settings.js';

/** Start of text: a framed scanner's first byte. */
export const STX = 0x02;
/** End of text: a framed scanner's last byte before its terminator, if any. */
export const ETX = 0x03;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The result of {@link unwrapFrame}. */
export type UnwrapResult =
  | { ok: true; bytes: Buffer }
  | {
      ok: false;
      /** `unframed`: the profile says STX/ETX and the frame lacks one of them. */
      reason: 'unframed';
      /** The frame redacted and escaped by previewBytes: safe to log. */
      preview: string;
    };

function isControl(byte: number): boolean {
  return byte < 0x20 || byte === 0x7f;
}

/**
 * Cuts off what the device profile says the scanner adds around each code (field case S3),
 * in this order, and nothing else:
 * 1. `framing: stx-etx`: the frame must start with STX and end with ETX (else `unframed`);
 *    both are removed;
 * 2. `stripBom`: a leading UTF-8 byte-order mark (EF BB BF);
 * 3. `stripControl`: C0 control bytes and DEL at either edge (never inside);
 * 4. `stripPrefix`, `stripSuffix`: those exact bytes (UTF-8 of the text), when present.
 * A frame is never decoded here: bytes left with control characters or invalid UTF-8 are
 * rejected later by decodeFrame. Never throws.
 */
export function unwrapFrame(bytes: Buffer, settings: UnwrapSettings): UnwrapResult {
  let start = 0;
  let end = bytes.length;
  if (settings.framing === 'stx-etx') {
    if (end < 2 || bytes[0] !== STX || bytes[end - 1] !== ETX) {
      return { ok: false, reason: 'unframed', preview: previewBytes(bytes) };
    }
    start += 1;
    end -= 1;
  }
  if (settings.stripBom && bytes.subarray(start, end).subarray(0, 3).equals(BOM)) start += 3;
  if (settings.stripControl) {
    while (start < end && isControl(bytes[start] ?? 0)) start += 1;
    while (end > start && isControl(bytes[end - 1] ?? 0)) end -= 1;
  }
  const prefix = Buffer.from(settings.stripPrefix, 'utf8');
  if (prefix.length > 0 && bytes.subarray(start, end).subarray(0, prefix.length).equals(prefix)) {
    start += prefix.length;
  }
  const suffix = Buffer.from(settings.stripSuffix, 'utf8');
  if (
    suffix.length > 0 &&
    end - start >= suffix.length &&
    bytes.subarray(end - suffix.length, end).equals(suffix)
  ) {
    end -= suffix.length;
  }
  return { ok: true, bytes: bytes.subarray(start, end) };
}
