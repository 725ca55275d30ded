import { RidergateError } from '../errors.js';

/**
 * Parses a flag's value as a whole number from `min` to `max`, written in decimal digits only:
 * `""`, `" 8080"`, `"1e3"`, `"0x1f90"` and `"-1"` are refused, where `Number()` would take them.
 * `unit` names what the number counts, for the message ("milliseconds", "seconds").
 */
export function parseWholeFlag(
  flag: string,
  value: string,
  min: number,
  max: number,
  unit?: string,
): number {
  const n = /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const what = unit === undefined ? 'a whole number' : `whole ${unit}`;
    throw new RidergateError(
      'usage',
      `${flag} ${JSON.stringify(value)}: expected ${what} from ${min} to ${max}`,
    );
  }
  return n;
}
