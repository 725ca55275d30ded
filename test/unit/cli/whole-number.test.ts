import { describe, expect, it } from 'vitest';
import { parseWholeFlag } from '../../../src/cli/whole-number.js';
import { isRidergateError } from '../../../src/errors.js';

function refusal(value: string, unit?: string): unknown {
  try {
    parseWholeFlag('--port', value, 0, 65_535, unit);
  } catch (err) {
    return err;
  }
  throw new Error(`--port ${JSON.stringify(value)} was accepted`);
}

describe('a whole-number flag', () => {
  it('takes decimal digits within the range, leading zeros included', () => {
    expect(parseWholeFlag('--port', '0', 0, 65_535)).toBe(0);
    expect(parseWholeFlag('--port', '8080', 0, 65_535)).toBe(8080);
    expect(parseWholeFlag('--port', '08080', 0, 65_535)).toBe(8080);
    expect(parseWholeFlag('--port', '65535', 0, 65_535)).toBe(65_535);
    expect(parseWholeFlag('--seq', '9007199254740991', 1, Number.MAX_SAFE_INTEGER)).toBe(
      Number.MAX_SAFE_INTEGER,
    );
  });

  it.each([
    '',
    ' 8080',
    '8080 ',
    '1e3',
    '0x1f90',
    '0b1',
    '+80',
    '-1',
    '80.0',
    '65536',
    '99999999999999999999',
    'Infinity',
  ])('refuses %j as bad usage, naming the flag, the value and the range', (value) => {
    const err = refusal(value);
    expect(isRidergateError(err, 'usage')).toBe(true);
    expect((err as Error).message).toBe(
      `--port ${JSON.stringify(value)}: expected a whole number from 0 to 65535`,
    );
  });

  it('names the unit when there is one', () => {
    expect((refusal('-5', 'seconds') as Error).message).toBe(
      '--port "-5": expected whole seconds from 0 to 65535',
    );
  });
});
