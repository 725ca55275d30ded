import type { KeyObject } from 'node:crypto';
import { issueToken } from '../../token/issue.js';

/** One scan the demo makes, and what a correct gate does with it. */
export interface DemoCase {
  name: string;
  text: string;
  expect: { type: 'admit' | 'reopen' | 'deny'; reason?: string };
  /** Wait this long after the previous scan's outcome before scanning, ms. */
  waitMs: number;
  /** Why this case behaves as it does, one line for the reader. */
  why: string;
}

export interface DemoKeys {
  issuer: { key: KeyObject; kid: string };
  forger: { key: KeyObject };
}

export interface DemoTimings {
  nowSec: number;
  site: string;
  /** Scanner de-duplication window: a re-scan must wait past it. */
  dedupeMs: number;
  /** Re-entry grace: a re-scan within it re-opens, after it is a replay. */
  graceMs: number;
}

const ISS = 'demo-eats';

/** The demo's scans, in order: a valid token, its re-entry, each kind of denial, a replay. */
export function buildDemoCases(keys: DemoKeys, t: DemoTimings): DemoCase[] {
  const sign = (
    claims: Partial<Parameters<typeof issueToken>[0]['claims']>,
    key = keys.issuer.key,
  ) =>
    issueToken({
      privateKey: key,
      kid: keys.issuer.kid,
      alg: 'EdDSA',
      claims: {
        iss: ISS,
        sub: 'rider-4711',
        iat: t.nowSec,
        exp: t.nowSec + 120,
        sites: [t.site],
        ...claims,
      },
    }).text;
  const valid = sign({});
  return [
    {
      name: 'valid token',
      text: valid,
      expect: { type: 'admit' },
      waitMs: 0,
      why: 'signed by a trusted issuer, in time, for this site',
    },
    {
      name: 'same token again',
      text: valid,
      expect: { type: 'reopen' },
      waitMs: t.dedupeMs + 200,
      why: 'the rider was too slow: the same token within the grace re-opens',
    },
    {
      name: 'expired token',
      text: sign({ iat: t.nowSec - 600, exp: t.nowSec - 480 }),
      expect: { type: 'deny', reason: 'expired' },
      waitMs: 0,
      why: 'its exp passed 8 minutes ago: a screenshot is worthless',
    },
    {
      name: 'forged token',
      text: sign({ sub: 'intruder' }, keys.forger.key),
      expect: { type: 'deny', reason: 'bad_signature' },
      waitMs: 0,
      why: "names the issuer's key id but is signed with another key",
    },
    {
      name: 'wrong-site token',
      text: sign({ sites: ['other-site'] }),
      expect: { type: 'deny', reason: 'wrong_site' },
      waitMs: 0,
      why: 'valid, but issued for another community',
    },
    {
      name: 'garbage',
      text: 'https://example.com/order/12345',
      expect: { type: 'deny', reason: 'malformed' },
      waitMs: 0,
      why: 'a QR code that is not a rider token at all',
    },
    {
      name: 'replayed token',
      text: valid,
      expect: { type: 'deny', reason: 'replayed' },
      waitMs: t.graceMs + 300,
      why: 'the first token again after the re-entry grace: already used at this gate',
    },
  ];
}
