import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase45, encodeBase45 } from '../../../src/token/base45.js';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';

/** Text made of base45 characters only: mostly well-formed lengths, some not. */
const alphabetText = fc
  .array(fc.constantFrom(...ALPHABET), { maxLength: 120 })
  .map((chars) => chars.join(''));

/** Any text at all, including lone surrogates and control characters. */
const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 120 }), alphabetText);

describe('base45 decode (property)', () => {
  it('never throws and always answers ok or a detail', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const result = decodeBase45(text);
        if (result.ok) expect(result.value).toBeInstanceOf(Uint8Array);
        else expect(result.detail).toMatch(/^base45 /);
      }),
      { numRuns: 3000 },
    );
  });

  it('round-trips every byte string: decode(encode(b)) = b', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const text = encodeBase45(bytes);
        expect(text).toMatch(/^[0-9A-Z $%*+\-./:]*$/);
        expect(text.length).toBe(Math.floor(bytes.length / 2) * 3 + (bytes.length % 2) * 2);
        const back = decodeBase45(text);
        expect(back).toEqual({ ok: true, value: bytes });
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes only canonical text: a decoded text encodes back to itself', () => {
    fc.assert(
      fc.property(alphabetText, (text) => {
        const result = decodeBase45(text);
        if (result.ok) expect(encodeBase45(result.value)).toBe(text);
      }),
      { numRuns: 3000 },
    );
  });

  it('rejects any character outside the alphabet, wherever it stands', () => {
    const outside = fc
      .string({ unit: 'binary', minLength: 1, maxLength: 1 })
      .filter((c) => !ALPHABET.includes(c));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), outside, fc.nat(), (bytes, bad, at) => {
        const text = encodeBase45(bytes);
        const i = text.length === 0 ? 0 : at % text.length;
        const mutated = text.slice(0, i) + bad + text.slice(i + 1);
        // A replacement keeps the length; an insertion into an empty text makes length 1.
        const result = decodeBase45(mutated);
        expect(result.ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects a triple above 65535 and a pair above 255 (RFC 9285 section 4.2)', () => {
    const value = (c: string) => ALPHABET.indexOf(c);
    const triple = fc
      .tuple(
        fc.constantFrom(...ALPHABET),
        fc.constantFrom(...ALPHABET),
        fc.constantFrom(...ALPHABET),
      )
      .filter(([c, d, e]) => value(c) + value(d) * 45 + value(e) * 2025 > 0xffff);
    const pair = fc
      .tuple(fc.constantFrom(...ALPHABET), fc.constantFrom(...ALPHABET))
      .filter(([c, d]) => value(c) + value(d) * 45 > 0xff);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20 }), triple, pair, (bytes, t, p) => {
        const even = encodeBase45(bytes.length % 2 === 0 ? bytes : bytes.subarray(1));
        expect(decodeBase45(even + t.join(''))).toEqual({
          ok: false,
          detail: 'base45 group encodes a value out of range',
        });
        expect(decodeBase45(even + p.join('')).ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('rejects a single trailing character', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.constantFrom(...ALPHABET), (bytes, c) => {
        const even = encodeBase45(bytes.length % 2 === 0 ? bytes : bytes.subarray(1));
        expect(decodeBase45(even + c).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});
