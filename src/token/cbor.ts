import { type DecodeOptions, decode, encode } from 'cbor2';
import { failed, type Parsed, parsed } from './result.js';

/**
 * Decoding options for untrusted token bytes: maps stay Maps (so integer keys stay numbers),
 * and anything a token never needs is refused rather than interpreted.
 */
const STRICT: DecodeOptions = {
  preferMap: true,
  rejectDuplicateKeys: true,
  // COSE_Sign1 and a CWT nest no deeper than tag → array → map → array. cbor2 2.x counts an
  // array as two levels, so this admits 8 nested maps but only 4 nested arrays: still enough.
  maxDepth: 8,
  // Definite lengths only: indefinite items have no place in a compact token.
  rejectStreaming: true,
  // No tag is interpreted (tag 18 is handled by the COSE layer; others are left as Tag).
  ignoreGlobalTags: true,
  rejectBigInts: true,
  rejectUndefined: true,
  rejectSimple: true,
};

/**
 * Decodes exactly one CBOR item from untrusted bytes. Trailing bytes, duplicate map keys,
 * indefinite lengths and deep nesting are all refused. Never throws.
 */
export function decodeCbor(bytes: Uint8Array): Parsed<unknown> {
  if (bytes.length === 0) return failed('CBOR input is empty');
  try {
    return parsed(decode(bytes, STRICT));
  } catch {
    // cbor2's messages may quote input bytes; keep the detail fixed.
    return failed('CBOR is not well-formed');
  }
}

/**
 * Encodes a value as CBOR (cbor2 defaults: preferred, definite-length encoding). Node Buffers
 * anywhere in the value become byte strings: cbor2 would otherwise encode a Buffer as a map.
 */
export function encodeCbor(value: unknown): Uint8Array {
  return encode(plainBytes(value));
}

function plainBytes(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return new Uint8Array(value.buffer, value.byteOffset, value.length);
  if (Array.isArray(value)) return value.map(plainBytes);
  if (value instanceof Map)
    return new Map([...value].map(([k, v]) => [plainBytes(k), plainBytes(v)]));
  return value;
}
