import { chmodSync, copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { isRidergateError } from '../../../src/errors.js';
import { issueToken } from '../../../src/token/issue.js';
import { verifyToken } from '../../../src/token/verify.js';
import { buildTrustList, loadTrustList, trustViewFrom } from '../../../src/trust/trust-list.js';
import { readFixturePrivateKey } from '../../helpers/fixture-key.js';

const FIXTURES = 'test/fixtures/token';
const GOOD = `${FIXTURES}/trust-list.yaml`;
/** 2026-03-01T12:00:00Z: inside the fixture key windows. */
const NOW_SEC = 1_772_366_400;

function errorMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isRidergateError(err, 'trust_invalid')) return err.message;
    throw err;
  }
  throw new Error('expected trust_invalid');
}

const goodDoc = () =>
  parseYaml(readFileSync(GOOD, 'utf8')) as {
    issuers: Array<Record<string, unknown> & { keys: Array<Record<string, unknown>> }>;
  };

describe('loadTrustList', () => {
  it('loads the YAML fixture with its version, defaults and windows', () => {
    const list = loadTrustList(GOOD);
    expect(list.version).toBe(3);
    expect(list.view.issuer('demo-eats')).toEqual({ iss: 'demo-eats', maxLifetimeSec: 300 });
    expect(list.view.issuer('demo-parcels')).toEqual({
      iss: 'demo-parcels',
      maxLifetimeSec: 300,
      sites: ['site-a', 'site-b'],
    });
    expect(list.view.key('demo-eats', 'eats-2026')).toMatchObject({
      alg: 'EdDSA',
      notBeforeSec: Date.parse('2026-01-01T00:00:00Z') / 1000,
      notAfterSec: Date.parse('2027-01-01T00:00:00Z') / 1000,
    });
    expect(list.view.key('demo-eats', 'parcels-1')).toBeUndefined();
    expect(list.view.issuer('nobody')).toBeUndefined();
  });

  it('loads the same list written as JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ridergate-trust-'));
    const file = join(dir, 'trust.json');
    writeFileSync(file, JSON.stringify(goodDoc()));
    expect(loadTrustList(file).keys.map((k) => k.kid)).toEqual(['eats-2026', 'parcels-1']);
  });

  it('admits tokens signed with the fixture private keys', () => {
    const { view } = loadTrustList(GOOD);
    for (const [name, iss] of [
      ['demo-eats-ed25519', 'demo-eats'],
      ['demo-parcels-p256', 'demo-parcels'],
    ] as const) {
      const k = readFixturePrivateKey(`${FIXTURES}/${name}.key.json`);
      const claims = { iss, sub: 'r1', iat: NOW_SEC, exp: NOW_SEC + 60 };
      const { text } = issueToken({ privateKey: k.key, kid: k.kid, alg: k.alg, claims });
      expect(
        verifyToken(text, { trust: view, nowSec: NOW_SEC, site: 'site-a', skewSec: 30 }).ok,
      ).toBe(true);
    }
  });

  it('reports every schema problem of a file at once, naming the file and each field', () => {
    const message = errorMessage(() => loadTrustList(`${FIXTURES}/trust-list-bad.yaml`));
    expect(message).toContain(`${FIXTURES}/trust-list-bad.yaml: the trust list is invalid:`);
    expect(message).toContain('version: must be >= 1');
    expect(message).toContain('issuers[0].keys[0].alg: must be one of EdDSA, ES256');
    expect(message).toContain('issuers[1].site: unknown field; remove it or fix its spelling');
  });

  it('names a file it cannot read', () => {
    expect(errorMessage(() => loadTrustList('/nonexistent/trust.yaml'))).toBe(
      '/nonexistent/trust.yaml: cannot read the trust list (no such file)',
    );
  });

  it('names a file that is not YAML', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ridergate-trust-'));
    const file = join(dir, 'trust.yaml');
    writeFileSync(file, 'version: 1\nissuers: [\n');
    expect(errorMessage(() => loadTrustList(file))).toContain(`${file}: not valid YAML or JSON`);
  });

  it('refuses a world-writable file, saying how to fix it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ridergate-trust-'));
    const file = join(dir, 'trust.yaml');
    copyFileSync(GOOD, file);
    chmodSync(file, 0o666);
    expect(errorMessage(() => loadTrustList(file))).toContain(
      'writable by every user; run chmod o-w',
    );
  });
});

describe('buildTrustList from an in-memory document', () => {
  it('gives a TrustView through trustViewFrom', () => {
    expect(trustViewFrom(goodDoc()).key('demo-parcels', 'parcels-1')?.alg).toBe('ES256');
  });

  it('reports key problems beyond the schema all at once', () => {
    const doc = goodDoc();
    const [eats, parcels] = doc.issuers;
    if (eats === undefined || parcels === undefined) throw new Error('fixture changed');
    const eatsKey = eats.keys[0] as Record<string, unknown>;
    const parcelsKey = parcels.keys[0] as Record<string, unknown>;
    eatsKey.notBefore = 'next tuesday';
    eatsKey.jwk = { ...(eatsKey.jwk as object), d: 'secret' };
    parcelsKey.alg = 'EdDSA';
    parcels.keys.push({ ...parcelsKey, alg: 'ES256', notBefore: 2000, notAfter: 1000 });
    doc.issuers.push({ ...eats, keys: [] });
    const message = errorMessage(() => buildTrustList(doc, 'from ops'));
    expect(message.split('\n')).toEqual([
      'from ops: the trust list is invalid:',
      '  - issuers[2].keys: must NOT have fewer than 1 items',
    ]);
    doc.issuers.pop();
    const lines = errorMessage(() => buildTrustList(doc, 'from ops')).split('\n');
    expect(lines).toEqual([
      'from ops: the trust list is invalid:',
      '  - issuers[0].keys[0].jwk: holds a private key ("d"); put only the public key in the trust list and treat that private key as leaked',
      '  - issuers[0].keys[0].notBefore: "next tuesday" is not a time; use ISO 8601 with a zone (2026-01-01T00:00:00Z) or epoch seconds',
      '  - issuers[1].keys[0].jwk: does not fit alg EdDSA; expected { kty: OKP, crv: Ed25519, x }',
      "  - issuers[1].keys[1].notAfter: must be later than notBefore; fix the key's validity window",
    ]);
  });

  it('refuses duplicate issuers and duplicate kids', () => {
    const doc = goodDoc();
    const parcels = doc.issuers[1];
    if (parcels === undefined) throw new Error('fixture changed');
    parcels.keys.push({ ...parcels.keys[0] });
    doc.issuers.push(structuredClone(doc.issuers[0] as object) as (typeof doc.issuers)[number]);
    const message = errorMessage(() => buildTrustList(doc));
    expect(message).toContain('issuers[1].keys[1].kid: "parcels-1" appears twice for demo-parcels');
    expect(message).toContain('issuers[2].iss: "demo-eats" appears twice; merge the two entries');
  });

  it('names missing fields and a wrong time type', () => {
    const message = errorMessage(() =>
      buildTrustList({
        issuers: [{ iss: 'x', keys: [{ kid: 'k', alg: 'EdDSA', notAfter: true }] }],
      }),
    );
    expect(message).toContain('version: missing; add it');
    expect(message).toContain('issuers[0].keys[0].jwk: missing; add it');
    expect(message).toContain('issuers[0].keys[0].notAfter: must be an ISO 8601 time');
  });

  it('refuses a version above 2^53 - 1 and site ids a gate could never have, naming each', () => {
    const doc = goodDoc() as ReturnType<typeof goodDoc> & { version: number };
    doc.version = 1e300;
    (doc.issuers[0] as Record<string, unknown>).sites = ['north-hub', 'North Park', ''];
    const lines = errorMessage(() => buildTrustList(doc, 'ops.yaml')).split('\n');
    expect(lines).toContain(
      '  - version: 1e+300 is over the largest allowed, 9007199254740991 (2^53 - 1: above it JSON numbers lose digits)',
    );
    expect(lines).toContain(
      `  - issuers[0].sites[1]: "North Park" is not a site id (1-64 of a-z, 0-9, '_' and '-', starting with a letter or digit)`,
    );
    expect(lines.some((l) => l.startsWith('  - issuers[0].sites[2]: "" is not a site id'))).toBe(
      true,
    );
    // 2^53 + 1 reads as 2^53: refused too, where it used to pass as a rounded number.
    doc.version = Number('9007199254740993');
    (doc.issuers[0] as Record<string, unknown>).sites = ['north-hub'];
    expect(errorMessage(() => buildTrustList(doc))).toContain(
      'version: 9007199254740992 is over the largest allowed',
    );
    doc.version = Number.MAX_SAFE_INTEGER;
    expect(buildTrustList(doc).version).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('refuses a document that is not a mapping', () => {
    expect(errorMessage(() => buildTrustList('hello'))).toContain('(top level): must be object');
  });
});
