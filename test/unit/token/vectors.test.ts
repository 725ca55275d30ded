import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type DecideContext, decide } from '../../../src/gate/decide.js';
import type { ReplayEntry } from '../../../src/store/types.js';
import { decodeBase45 } from '../../../src/token/base45.js';
import type { DenyReason, TokenClaims, VerifyOptions } from '../../../src/token/types.js';
import { verifyToken } from '../../../src/token/verify.js';
import { buildTrustList } from '../../../src/trust/trust-list.js';

/** The published test vectors (format: test/vectors/README.md). */
const ROOT = join(import.meta.dirname, '..', '..', 'vectors');

interface Vector {
  name: string;
  description: string;
  qr: string;
  coseHex?: string;
  trustList: unknown;
  atSec: number;
  site: string;
  skewSec: number;
  gate?: {
    reopenGraceSec: number;
    revoked?: Array<{ kind: 'sub' | 'cti'; value: string }>;
    usedBefore?: { cti: string; firstUsedSecAgo: number };
  };
  expected: { result: 'admit' | 'reopen' | 'deny'; reason?: DenyReason; claims?: TokenClaims };
}

const DEFAULT_REOPEN_GRACE_SEC = 20;

function loadVectors(alg: string): Vector[] {
  const dir = join(ROOT, alg);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Vector);
}

function verifyOptions(v: Vector): VerifyOptions {
  const trust = buildTrustList(v.trustList, v.name).view;
  return { trust, nowSec: v.atSec, site: v.site, skewSec: v.skewSec };
}

/** The gate state of a vector as the two store lookups `decide` uses. */
function storeOf(v: Vector): DecideContext['store'] {
  const nowMs = v.atSec * 1000;
  const used = v.gate?.usedBefore;
  return {
    isRevoked: async (_iss: string, sub: string, cti: string) =>
      (v.gate?.revoked ?? []).some((r) => r.value === (r.kind === 'sub' ? sub : cti)),
    findReplay: async (iss: string, cti: string): Promise<ReplayEntry | undefined> =>
      used?.cti === cti
        ? { iss, cti, firstUsedMs: nowMs - used.firstUsedSecAgo * 1000, expSec: v.atSec + 60 }
        : undefined,
  };
}

const GATE_REASONS: ReadonlySet<DenyReason> = new Set(['revoked', 'replayed']);

describe.each(['eddsa', 'es256'])('published %s vectors', (alg) => {
  const vectors = loadVectors(alg);

  it.each(vectors.map((v) => [v.name, v] as const))('%s', async (_name, v) => {
    const verify = verifyOptions(v);
    const { result, reason, claims } = v.expected;

    // The token checks alone: everything but the gate state.
    const direct = verifyToken(v.qr, verify);
    if (v.gate === undefined || (result === 'deny' && !GATE_REASONS.has(reason as DenyReason))) {
      if (result === 'deny') expect(direct).toMatchObject({ ok: false, reason });
      else expect(direct).toMatchObject({ ok: true, claims });
    } else {
      expect(direct.ok).toBe(true);
    }

    const decision = await decide(v.qr, {
      verify,
      store: storeOf(v),
      nowMs: v.atSec * 1000,
      reopenGraceSec: v.gate?.reopenGraceSec ?? DEFAULT_REOPEN_GRACE_SEC,
    });
    if (result === 'deny') {
      expect(decision).toMatchObject({ type: 'deny', reason });
    } else {
      expect(decision).toEqual({ type: result, claims });
    }
  });

  it('cover every decision and every deny reason', () => {
    const seen = new Set(
      vectors.map((v) => (v.expected.result === 'deny' ? v.expected.reason : v.expected.result)),
    );
    expect([...seen].sort()).toEqual(
      [
        'admit',
        'bad_signature',
        'expired',
        'lifetime_too_long',
        'malformed',
        'not_yet_valid',
        'reopen',
        'replayed',
        'revoked',
        'unknown_key',
        'wrong_site',
      ].sort(),
    );
  });

  it('carry the COSE bytes their QR text encodes', () => {
    const withBytes = vectors.filter((v) => v.coseHex !== undefined);
    expect(withBytes.length).toBeGreaterThan(vectors.length / 2);
    for (const v of withBytes) {
      const bytes = decodeBase45(v.qr.slice('RP1:'.length));
      expect(bytes.ok && Buffer.from(bytes.value).toString('hex'), v.name).toBe(v.coseHex);
    }
  });
});
