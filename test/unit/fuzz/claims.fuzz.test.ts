import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLAIM, parseClaims } from '../../../src/token/claims.js';

const CLAIM_KEYS = Object.values(CLAIM);

/** Values of every kind a decoded CBOR map can hold, and some it cannot. */
const claimValue = fc.oneof(
  fc.anything(),
  fc.uint8Array({ maxLength: 200 }),
  fc.array(fc.oneof(fc.string({ maxLength: 300 }), fc.integer()), { maxLength: 5 }),
  fc.oneof(
    fc.integer({ min: -10, max: 2_000_000_000 }),
    fc.double(),
    fc.constantFrom(Number.MAX_SAFE_INTEGER + 2, -0, Number.NaN, Number.POSITIVE_INFINITY),
    fc.bigInt(),
  ),
  fc.string({ unit: 'binary', maxLength: 300 }),
);

const claimsMap = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom(...CLAIM_KEYS), fc.anything()), claimValue), {
    maxLength: 12,
  })
  .map((entries) => new Map<unknown, unknown>(entries));

/** Maps that have every required claim right, then one or two of them replaced at random. */
const nearlyValid = fc
  .tuple(
    fc.record({
      iss: fc.string({ minLength: 1, maxLength: 256 }),
      sub: fc.oneof(
        fc.string({ minLength: 1, maxLength: 256 }),
        fc.uint8Array({ minLength: 1, maxLength: 128 }),
      ),
      exp: fc.maxSafeNat(),
      iat: fc.maxSafeNat(),
      cti: fc.uint8Array({ minLength: 1, maxLength: 64 }),
    }),
    fc.array(fc.tuple(fc.constantFrom(...CLAIM_KEYS), claimValue), { maxLength: 2 }),
  )
  .map(([c, changes]) => {
    const map = new Map<unknown, unknown>([
      [CLAIM.iss, c.iss],
      [CLAIM.sub, c.sub],
      [CLAIM.exp, c.exp],
      [CLAIM.iat, c.iat],
      [CLAIM.cti, c.cti],
    ]);
    for (const [k, v] of changes) map.set(k, v);
    return map;
  });

const isTime = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

describe('parseClaims (property)', () => {
  it('never throws on arbitrary values, and refuses anything that is not a Map', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        const result = parseClaims(value);
        if (!(value instanceof Map))
          expect(result).toEqual({ ok: false, detail: 'payload is not a CWT claims map' });
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on arbitrary maps; what it accepts has the types TokenClaims promises', () => {
    fc.assert(
      fc.property(fc.oneof(claimsMap, nearlyValid), (map) => {
        const result = parseClaims(map);
        if (!result.ok) {
          expect(result.detail).toMatch(/^(claim |payload )/);
          return;
        }
        const c = result.value;
        expect(typeof c.iss === 'string' && c.iss.length > 0 && c.iss.length <= 256).toBe(true);
        expect(c.sub.length).toBeGreaterThan(0);
        expect(c.sub.length).toBeLessThanOrEqual(256);
        expect(isTime(c.exp) && isTime(c.iat)).toBe(true);
        if (c.nbf !== undefined) expect(isTime(c.nbf)).toBe(true);
        expect(c.cti).toMatch(/^([0-9a-f]{2}){1,64}$/);
        if (c.sites !== undefined) {
          for (const s of c.sites) expect(typeof s === 'string' && s.length > 0).toBe(true);
        }
        // The values come from the map, not from anywhere else.
        expect(map.get(CLAIM.iss)).toBe(c.iss);
        expect(map.get(CLAIM.exp)).toBe(c.exp);
      }),
      { numRuns: 3000 },
    );
  });

  it('does not let a caller change the claims it returned by changing the map afterwards', () => {
    fc.assert(
      fc.property(
        nearlyValid,
        fc.array(fc.string({ minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 3 }),
        (map, sites) => {
          map.set(CLAIM.sites, sites);
          const result = parseClaims(map);
          fc.pre(result.ok);
          if (!result.ok) return;
          sites.push('injected');
          expect(result.value.sites).not.toContain('injected');
        },
      ),
      { numRuns: 500 },
    );
  });
});
