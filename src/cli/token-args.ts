import { ID_RULE, isId } from '../config/ids.js';
import { RidergateError } from '../errors.js';
import type { QrLevel } from './qr-image.js';

/** Parses a flag's value as whole seconds (epoch seconds or a duration). */
export function parseSeconds(flag: string, value: string): number {
  if (!/^\d{1,12}$/.test(value))
    throw new RidergateError('usage', `${flag} ${JSON.stringify(value)}: expected whole seconds`);
  return Number(value);
}

/** Longest `--ttl` of `token issue`: a day. Gates refuse tokens that outlive their issuer's maxLifetimeSec anyway. */
export const MAX_TOKEN_TTL_SEC = 86_400;

/** Parses `token issue --ttl`: whole seconds, 1 to {@link MAX_TOKEN_TTL_SEC}. */
export function parseTtl(flag: string, value: string): number {
  if (/^\s*-?\d+\s*$/.test(value) && Number(value) < 1)
    throw new RidergateError('usage', `${flag} must be at least 1 (got ${value.trim()})`);
  const seconds = parseSeconds(flag, value.trim());
  if (seconds > MAX_TOKEN_TTL_SEC)
    throw new RidergateError(
      'usage',
      `${flag} ${seconds}: at most ${MAX_TOKEN_TTL_SEC} seconds (1 day); a rider token lives minutes, and gates deny one that outlives its issuer's maxLifetimeSec`,
    );
  return seconds;
}

/** Parses a comma-separated list of site ids. */
export function parseSites(value: string): string[] {
  const sites = value.split(',').map((s) => s.trim());
  if (sites.length === 1 && sites[0] === '')
    throw new RidergateError('usage', '--sites: give at least one site id');
  const bad = sites.find((site) => !isId(site));
  if (bad !== undefined)
    throw new RidergateError(
      'usage',
      `--sites ${JSON.stringify(value)}: ${JSON.stringify(bad)} is not a site id (${ID_RULE}); a gate of no site would ever admit it`,
    );
  return sites;
}

/** Parses a QR error-correction level. */
export function parseQrLevel(flag: string, value: string): QrLevel {
  const level = value.toUpperCase();
  if (level === 'L' || level === 'M' || level === 'Q' || level === 'H') return level;
  throw new RidergateError('usage', `${flag} ${JSON.stringify(value)}: expected L, M, Q or H`);
}

/** Longest --cose-hex accepted, bytes (a COSE_Sign1 token is about 150). */
export const MAX_COSE_BYTES = 4096;

/** Parses hex text (whitespace allowed) into bytes. */
export function parseHex(flag: string, value: string): Uint8Array {
  const hex = value.replace(/\s+/g, '');
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) {
    throw new RidergateError(
      'usage',
      `${flag}: expected an even number of hex digits (0-9, a-f), e.g. the CBOR bytes D28443A10127…`,
    );
  }
  if (hex.length > MAX_COSE_BYTES * 2) {
    throw new RidergateError(
      'usage',
      `${flag}: ${hex.length / 2} bytes; at most ${MAX_COSE_BYTES}`,
    );
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}
