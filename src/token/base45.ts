import base45 from 'base45';
import { failed, type Parsed, parsed } from './result.js';

/** The 45 characters of RFC 9285 section 4, in value order. */
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';
const VALUES = new Map([...ALPHABET].map((c, i) => [c, i]));

/**
 * Decodes base45 text (RFC 9285). The text is checked strictly before the `base45` package
 * decodes it, because that package silently maps bad input to wrong bytes.
 * Never throws.
 */
export function decodeBase45(text: string): Parsed<Uint8Array> {
  const problem = checkBase45(text);
  if (problem !== undefined) return failed(problem);
  try {
    return parsed(new Uint8Array(base45.decode(text)));
  } catch {
    return failed('base45 could not be decoded');
  }
}

/** Encodes bytes as base45 text (RFC 9285). */
export function encodeBase45(bytes: Uint8Array): string {
  return base45.encode(bytes);
}

/** Returns why `text` is not valid base45, or undefined when it is. */
function checkBase45(text: string): string | undefined {
  // RFC 9285 section 4: groups of three characters, and one final group of two.
  if (text.length % 3 === 1) return 'base45 length leaves a single trailing character';
  const values: number[] = [];
  for (const char of text) {
    const value = VALUES.get(char);
    if (value === undefined) return 'base45 contains a character outside its alphabet';
    values.push(value);
  }
  for (let i = 0; i < values.length; i += 3) {
    const [c = 0, d = 0, e] = values.slice(i, i + 3);
    // RFC 9285 section 4.2: a triple above 65535 or a pair above 255 is invalid.
    if (e === undefined ? c + d * 45 > 0xff : c + d * 45 + e * 45 * 45 > 0xffff) {
      return 'base45 group encodes a value out of range';
    }
  }
  return undefined;
}
