/** Every RP1 token starts with it (src/token/verify.ts TOKEN_PREFIX). */
const TOKEN_PREFIX = 'RP1:';

/**
 * Fewest base45 characters after the prefix a real token can have: its 64-byte signature
 * alone is 96 base45 characters (docs/token-spec.md section 7: a COSE_Sign1 is at least 95
 * bytes plus its strings). Anything shorter is a fragment, not a token.
 */
const MIN_TOKEN_BODY_CHARS = 96;

/** The base45 alphabet of RFC 9285 section 4. */
const BASE45 = /^[0-9A-Z $%*+\-./:]*$/;

/** Two frames completing within this many ms of each other may be one read cut in two. */
export const SPLIT_READ_WINDOW_MS = 50;

/**
 * True when `text` could be a whole RP1 token on its own: the prefix, then enough base45
 * characters, with no character left over (RFC 9285: length mod 3 is never 1). A cheap
 * shape check only; the gate still verifies every scan.
 */
export function looksLikeToken(text: string): boolean {
  if (!text.startsWith(TOKEN_PREFIX)) return false;
  const body = text.slice(TOKEN_PREFIX.length);
  return body.length >= MIN_TOKEN_BODY_CHARS && body.length % 3 !== 1 && BASE45.test(body);
}

/** Two frames taken for one read cut in two; lengths only, never the text. */
export interface SplitRead {
  firstLengthChars: number;
  secondLengthChars: number;
  /** ms between the two frames' arrival; 0 when the same chunk completed both. */
  gapMs: number;
}

/**
 * Spots a read cut in two by a stray terminator or control byte (field case S4:
 * `"ABC\rDEF\r"`): two different frames completing in the same chunk or within
 * {@link SPLIT_READ_WINDOW_MS} of each other, neither a token on its own. A scanner sends one
 * code per read, so two fragments that close together are one read gone wrong. Both frames
 * still go on to the gate, which denies them as malformed; this only makes the pair visible,
 * once.
 *
 * Remembers the last frame only (its text is kept in memory, never logged), so memory stays
 * bounded. A frame reported as the second of a pair never starts another pair.
 */
export class SplitReadDetector {
  private previous: { text: string; receivedMono: number } | undefined;

  /**
   * Records a decoded frame.
   * @param receivedMono performance.now() when the frame's chunk arrived, ms.
   * @returns the pair it completes, or undefined.
   */
  observe(text: string, receivedMono: number): SplitRead | undefined {
    const previous = this.previous;
    this.previous = { text, receivedMono };
    if (previous === undefined) return undefined;

    const gapMs = receivedMono - previous.receivedMono;
    if (gapMs < 0 || gapMs > SPLIT_READ_WINDOW_MS) return undefined;
    if (looksLikeToken(previous.text) || looksLikeToken(text)) return undefined;
    // The same text twice is a repeated read (the de-duplication handles it), not a split.
    if (previous.text === text) return undefined;

    this.previous = undefined;
    return {
      firstLengthChars: previous.text.length,
      secondLengthChars: text.length,
      gapMs: Math.round(gapMs),
    };
  }

  /** Forgets the last frame, e.g. when the port is reopened. */
  reset(): void {
    this.previous = undefined;
  }
}
