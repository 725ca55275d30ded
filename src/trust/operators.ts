import type { KeyObject } from 'node:crypto';
import { type Static, Type as T } from '@sinclair/typebox';
import type { TokenAlg } from '../token/types.js';
import { importPublicJwk, parseTime, Time } from './key-entry.js';

/** What an operations key may sign. */
export type OperatorUse = 'commands' | 'revocations';

/** Both uses: an operations key without `uses` may sign commands and revocation lists. */
const ALL_USES: readonly OperatorUse[] = ['commands', 'revocations'];

/** One entry of the trust list's optional `operators` section. */
export const OperatorSchema = T.Object(
  {
    kid: T.String({ minLength: 1, maxLength: 64 }),
    alg: T.Unsafe<TokenAlg>({ type: 'string', enum: ['EdDSA', 'ES256'] }),
    jwk: T.Object({ kty: T.String() }, { additionalProperties: true }),
    notBefore: T.Optional(Time),
    notAfter: T.Optional(Time),
    uses: T.Optional(
      T.Array(T.Unsafe<OperatorUse>({ type: 'string', enum: [...ALL_USES] }), {
        minItems: 1,
        maxItems: 2,
        uniqueItems: true,
      }),
    ),
  },
  { additionalProperties: false },
);
type OperatorEntry = Static<typeof OperatorSchema>;

/** An operations public key from the trust list: signs commands and/or revocation lists. */
export interface OperatorKey {
  kid: string;
  alg: TokenAlg;
  publicKey: KeyObject;
  /** Not valid before / after, seconds since the epoch; unset: no bound. */
  notBeforeSec?: number;
  notAfterSec?: number;
  uses: ReadonlySet<OperatorUse>;
}

/**
 * Builds the operations keys of a trust list, by kid. Pushes one line per problem
 * (`operators[i].field: what; fix`) and leaves the faulty entry out.
 */
export function toOperatorKeys(
  entries: readonly OperatorEntry[],
  problems: string[],
): Map<string, OperatorKey> {
  const keys = new Map<string, OperatorKey>();
  const kids = new Set<string>();
  entries.forEach((entry, i) => {
    const where = `operators[${i}]`;
    const before = problems.length;
    const publicKey = importPublicJwk(entry, where, problems);
    const notBeforeSec = parseTime(entry.notBefore, `${where}.notBefore`, problems);
    const notAfterSec = parseTime(entry.notAfter, `${where}.notAfter`, problems);
    if (notBeforeSec !== undefined && notAfterSec !== undefined && notAfterSec <= notBeforeSec) {
      problems.push(
        `${where}.notAfter: must be later than notBefore; fix the key's validity window`,
      );
    }
    if (kids.has(entry.kid)) {
      problems.push(
        `${where}.kid: "${entry.kid}" appears twice; give each operations key its own kid`,
      );
    }
    kids.add(entry.kid);
    if (publicKey === undefined || problems.length > before) return;
    const key: OperatorKey = {
      kid: entry.kid,
      alg: entry.alg,
      publicKey,
      uses: new Set(entry.uses ?? ALL_USES),
    };
    if (notBeforeSec !== undefined) key.notBeforeSec = notBeforeSec;
    if (notAfterSec !== undefined) key.notAfterSec = notAfterSec;
    keys.set(entry.kid, key);
  });
  return keys;
}

/** True when `key` may sign `use` at `nowSec` (inside its validity window, with `skewSec`). */
export function operatorKeyValid(
  key: OperatorKey,
  use: OperatorUse,
  nowSec: number,
  skewSec: number,
): boolean {
  if (!key.uses.has(use)) return false;
  if (key.notBeforeSec !== undefined && nowSec + skewSec < key.notBeforeSec) return false;
  return key.notAfterSec === undefined || nowSec - skewSec < key.notAfterSec;
}
