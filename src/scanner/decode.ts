import { createHash } from 'node:crypto';

/** Why a frame was not accepted as text. */
export type DecodeRejection = 'invalid_utf8' | 'control_bytes';

/** The result of {@link decodeFrame}. */
export type DecodeResult =
  | { ok: true; text: string }
  | {
      ok: false;
      reason: DecodeRejection;
      /** The frame redacted and escaped by {@link previewBytes}: safe to log, no token text. */
      preview: string;
    };

/**
 * Most escaped characters of a rejected frame a preview shows (before the `RP1:` cut and the
 * length note). Short enough that a preview never holds a usable part of a token.
 */
export const PREVIEW_MAX_CHARS = 24;

/** Most characters of an accepted scan's text a technician tool shows. */
export const SCAN_PREVIEW_MAX_CHARS = 12;

/** Every RP1 token starts with it (src/token/verify.ts TOKEN_PREFIX); a preview stops there. */
const TOKEN_MARK = Buffer.from('RP1:', 'ascii');

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
 * A redacted, escaped form of a frame for logs, which never holds token text (DESIGN.md:
 * never log a raw token). Printable ASCII is shown as is, a backslash doubled, anything
 * else as `\xNN`:
 * - if the frame contains `RP1:`, only what comes before it (at most `maxChars` escaped
 *   characters) and then `RP1:…`;
 * - otherwise at most `maxChars` escaped characters.
 * Whenever something was cut, the frame's length in bytes and the first 8 hex digits of its
 * SHA-256 follow, so two log lines about the same frame can be matched, e.g.
 * `\x02RP1:…(63 bytes, sha256 1f0c9a2b)`. A frame shown whole gets no note.
 */
export function previewBytes(bytes: Buffer, maxChars = PREVIEW_MAX_CHARS): string {
  const markAt = bytes.indexOf(TOKEN_MARK);
  const head = markAt >= 0 ? bytes.subarray(0, markAt) : bytes;
  const shown = escapePrefix(head, maxChars);
  const showsMark = markAt >= 0 && shown.bytes === markAt;
  if (markAt < 0 && shown.bytes === bytes.length) return shown.text;
  const text = showsMark ? `${shown.text}RP1:` : shown.text;
  return `${text}…(${bytes.length} bytes, sha256 ${shortSha256(bytes)})`;
}

/**
 * The start of an accepted scan's text, escaped, for a technician tool (`ridergate scan`):
 * at most `maxChars` characters (default 12, enough to see the `RP1:` prefix and tell codes
 * apart, never a usable token), then `…` when cut. The caller shows the length next to it.
 */
export function previewScanText(text: string, maxChars = SCAN_PREVIEW_MAX_CHARS): string {
  const bytes = Buffer.from(text, 'utf8');
  const shown = escapePrefix(bytes, maxChars);
  return shown.bytes === bytes.length ? shown.text : `${shown.text}…`;
}

/** The first 8 hex digits of the SHA-256 of `bytes`: enough to match log lines, no more. */
export function shortSha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 8);
}

/** Escapes whole bytes from the start while the text stays within `maxChars` characters. */
function escapePrefix(bytes: Buffer, maxChars: number): { text: string; bytes: number } {
  let text = '';
  let shown = 0;
  for (const byte of bytes) {
    const piece = escapeByte(byte);
    if (text.length + piece.length > maxChars) break;
    text += piece;
    shown += 1;
  }
  return { text, bytes: shown };
}

function escapeByte(byte: number): string {
  if (byte === 0x5c) return '\\\\';
  if (byte >= 0x20 && byte < 0x7f) return String.fromCharCode(byte);
  return `\\x${byte.toString(16).padStart(2, '0')}`;
}
