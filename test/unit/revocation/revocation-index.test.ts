import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RevocationIndex } from '../../../src/revocation/revocation-index.js';

describe('RevocationIndex', () => {
  it('finds what was set, honours end times, forgets what was deleted', () => {
    const index = new RevocationIndex(4);
    index.set('eats', 'sub', 'r1');
    index.set('eats', 'cti', 'ab', 1000);
    expect(index.has('eats', 'sub', 'r1', 5000)).toBe(true);
    expect(index.has('eats', 'cti', 'ab', 999)).toBe(true);
    expect(index.has('eats', 'cti', 'ab', 1000)).toBe(false);
    // Kind and issuer are part of the key.
    expect(index.has('eats', 'cti', 'r1', 0)).toBe(false);
    expect(index.has('other', 'sub', 'r1', 0)).toBe(false);
    expect(index.delete('eats', 'sub', 'r1')).toBe(true);
    expect(index.has('eats', 'sub', 'r1', 0)).toBe(false);
    expect(index.size).toBe(1);
  });

  it('agrees with a Map under any sequence of sets and deletes (growth, probe runs, wrap-around)', () => {
    const value = fc.integer({ min: 0, max: 200 }).map(String);
    const op = fc.oneof(
      fc.record({
        set: value,
        until: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
      }),
      fc.record({ del: value }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const index = new RevocationIndex(1);
        const model = new Map<string, number | undefined>();
        for (const o of ops) {
          if ('set' in o) {
            index.set('eats', 'sub', o.set, o.until);
            model.set(o.set, o.until);
          } else {
            expect(index.delete('eats', 'sub', o.del)).toBe(model.delete(o.del));
          }
        }
        expect(index.size).toBe(model.size);
        for (let v = 0; v <= 200; v++) {
          const until = model.get(String(v));
          const expected = model.has(String(v)) && (until === undefined || until > 50);
          expect(index.has('eats', 'sub', String(v), 50)).toBe(expected);
        }
      }),
      { numRuns: 300 },
    );
  });
});
