/** Why a frame was not accepted as text. */
export type DecodeRejection = 'invalid_utf8' | 'control_bytes';

/** The result of {@link decodeFrame}. */
export type DecodeResult =
  | { ok: true; text: string }
  | {
      ok: false;
      reason: DecodeRejection;
      /** The frame in escaped form, safe to log, at most about {@link PREVIEW_MAX_CHARS} chars. */
      preview: string;
    };

/** Longest escaped preview of a rejected frame, in characters, before the length note. */
export const PREVIEW_MAX_CHARS = 64;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** True for C0 control characters and DEL: no QR text a gate accepts contains them. */
function hasControlChar(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/**
 * Decodes one whole frame as strict UTF-8. Never throws: invalid UTF-8 gives `invalid_utf8`,
 * a control character (below 0x20, or 0x7f) gives `control_bytes`, e.g. a GS separator of a
 * GS1 code or a CR inside a payload on a line framed with `crlf`.
 */
export function decodeFrame(bytes: Buffer): DecodeResult {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { ok: false, reason: 'invalid_utf8', preview: previewBytes(bytes) };
  }
  if (hasControlChar(text)) {
    return { ok: false, reason: 'control_bytes', preview: previewBytes(bytes) };
  }
  return { ok: true, text };
}

/**
 * An escaped, printable form of raw bytes for logs: printable ASCII as is, a backslash
 * doubled, anything else as `\xNN`. Cut at about `maxChars` characters, with the number of
 * bytes left out appended, so a log line stays short whatever arrived.
 */
export function previewBytes(bytes: Buffer, maxChars = PREVIEW_MAX_CHARS): string {
  let out = '';
  let shown = 0;
  for (const byte of bytes) {
    const piece = escapeByte(byte);
    if (out.length + piece.length > maxChars) break;
    out += piece;
    shown += 1;
  }
  const omitted = bytes.length - shown;
  return omitted > 0 ? `${out}…(+${omitted} bytes)` : out;
}

function escapeByte(byte: number): string {
  if (byte === 0x5c) return '\\\\';
  if (byte >= 0x20 && byte < 0x7f) return String.fromCharCode(byte);
  return `\\x${byte.toString(16).padStart(2, '0')}`;
}
