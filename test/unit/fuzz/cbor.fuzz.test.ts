import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCbor, encodeCbor } from '../../../src/token/cbor.js';

/** Values of the kinds a token carries: integers, text, bytes, arrays and maps, nested. */
const { value: tokenValue } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.maxSafeInteger(),
    fc.string({ maxLength: 20 }),
    fc.uint8Array({ maxLength: 20 }),
    fc.boolean(),
    fc.array(tie('value'), { maxLength: 4 }),
    fc
      .uniqueArray(
        fc.oneof(fc.integer({ min: -80_000, max: 80_000 }), fc.string({ maxLength: 8 })),
        {
          maxLength: 4,
        },
      )
      .chain((keys) =>
        fc
          .array(tie('value'), { minLength: keys.length, maxLength: keys.length })
          .map((values) => new Map(keys.map((k, i) => [k, values[i]]))),
      ),
  ),
}));

/** Bytes that often start like real CBOR items, not only noise. */
const cborish = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  tokenValue.map((v) => encodeCbor(v)),
  fc
    .tuple(
      tokenValue.map((v) => encodeCbor(v)),
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
    )
    .map(([bytes, at, byte]) => {
      const copy = new Uint8Array(bytes);
      if (copy.length > 0) copy[at % copy.length] = byte;
      return copy;
    }),
);

/**
 * Nesting as cbor2 counts it against `maxDepth`: an array counts two levels, a map one
 * (finding: cbor2 2.x increments the depth twice for arrays; see the example test below).
 */
function cbor2DepthOf(value: unknown): number {
  if (Array.isArray(value)) return 2 + Math.max(0, ...value.map(cbor2DepthOf));
  if (value instanceof Map) return 1 + Math.max(0, ...[...value.values()].map(cbor2DepthOf));
  return 0;
}

describe('CBOR decode: findings of the properties, as examples', () => {
  const nested = (layer: number[], depth: number) =>
    Buffer.from([...Array.from({ length: depth }, () => layer).flat(), 0x00]);

  it('maxDepth 8 lets 8 nested maps through but only 4 nested arrays (cbor2 counts arrays twice)', () => {
    // Found by the round-trip property: [[[[[0]]]]] (5 arrays) is refused as too deep.
    expect(decodeCbor(nested([0xa1, 0x00], 8)).ok).toBe(true);
    expect(decodeCbor(nested([0xa1, 0x00], 9)).ok).toBe(false);
    expect(decodeCbor(nested([0x81], 4)).ok).toBe(true);
    expect(decodeCbor(nested([0x81], 5)).ok).toBe(false);
  });

  it('still decodes the deepest shape an RP1 token has: tag 18 → array → map → array', () => {
    // d2 = tag 18; 84 = COSE_Sign1 array; a1 04 81 41 00 = unprotected {4: [h'00']}.
    const sign1 = Buffer.from([0xd2, 0x84, 0x40, 0xa1, 0x04, 0x81, 0x41, 0x00, 0x40, 0x40]);
    expect(decodeCbor(sign1).ok).toBe(true);
    // Claims map with sites: {-70001: ["a"]}.
    const claims = Buffer.concat([
      Buffer.from([0xa1]),
      encodeCbor(-70001),
      Buffer.from([0x81, 0x61, 0x61]),
    ]);
    expect(decodeCbor(claims).ok).toBe(true);
  });
});

describe('CBOR decode (property)', () => {
  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(cborish, (bytes) => {
        const result = decodeCbor(bytes);
        if (!result.ok)
          expect(['CBOR is not well-formed', 'CBOR input is empty']).toContain(result.detail);
      }),
      { numRuns: 5000 },
    );
  });

  it('round-trips token-like values within the nesting limit', () => {
    fc.assert(
      fc.property(tokenValue, (value) => {
        fc.pre(cbor2DepthOf(value) <= 8);
        expect(decodeCbor(encodeCbor(value))).toEqual({ ok: true, value });
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses one encoded item followed by any trailing bytes', () => {
    fc.assert(
      fc.property(tokenValue, fc.uint8Array({ minLength: 1, maxLength: 8 }), (value, tail) => {
        const bytes = Buffer.concat([encodeCbor(value), tail]);
        expect(decodeCbor(bytes).ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses a map that repeats a key, whatever the values', () => {
    const key = fc.oneof(fc.integer({ min: -80_000, max: 80_000 }), fc.string({ maxLength: 8 }));
    fc.assert(
      fc.property(key, tokenValue, tokenValue, fc.boolean(), (k, a, b, nested) => {
        // a2 = map of two pairs, both under the same key.
        const map = Buffer.concat([
          Buffer.from([0xa2]),
          encodeCbor(k),
          encodeCbor(a),
          encodeCbor(k),
          encodeCbor(b),
        ]);
        // Nested inside an array, as a header map sits inside COSE_Sign1.
        const bytes = nested ? Buffer.concat([Buffer.from([0x82, 0x01]), map]) : map;
        expect(decodeCbor(bytes).ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses indefinite lengths and nesting deeper than 8', () => {
    fc.assert(
      fc.property(fc.integer({ min: 9, max: 40 }), fc.constantFrom(0x81, 0xa1), (depth, head) => {
        // head 0x81 = array of one; 0xa1 = map of one pair (key 0, then the value).
        const layer = head === 0x81 ? [0x81] : [0xa1, 0x00];
        const bytes = Buffer.from([...Array.from({ length: depth }, () => layer).flat(), 0x00]);
        expect(decodeCbor(bytes).ok).toBe(false);
      }),
      { numRuns: 100 },
    );
    for (const indefinite of [
      [0x9f, 0x01, 0xff],
      [0xbf, 0x01, 0x02, 0xff],
      [0x5f, 0x41, 0x00, 0xff],
      [0x7f, 0x61, 0x61, 0xff],
    ]) {
      expect(decodeCbor(Buffer.from(indefinite)).ok).toBe(false);
    }
  });
});
