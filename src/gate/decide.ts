import type { Store } from '../store/types.js';
import type { DenyReason, TokenClaims, VerifyOptions } from '../token/types.js';
import { verifyToken } from '../token/verify.js';

/** Deny reasons decided before the signature was checked: their claims are not trusted. */
const UNVERIFIED: ReadonlySet<DenyReason> = new Set(['malformed', 'unknown_key', 'bad_signature']);

/** The outcome of one scan, before it is journaled. */
export type Decision =
  | { type: 'admit'; claims: TokenClaims }
  | { type: 'reopen'; claims: TokenClaims }
  | { type: 'deny'; reason: DenyReason; detail: string; claims?: TokenClaims };

export interface DecideContext {
  verify: VerifyOptions;
  store: Pick<Store, 'isRevoked' | 'findReplay'>;
  /** Wall-clock now, ms. */
  nowMs: number;
  /** The same token again within this time re-opens the barrier. */
  reopenGraceSec: number;
}

/**
 * Decides one scanned text: token checks in DESIGN.md order, then revocation, then replay.
 * Replay and revocation key on the token's identity (iss + cti), never on the scanned text,
 * since an ECDSA signature can be rewritten into a second valid form.
 */
export async function decide(text: string, ctx: DecideContext): Promise<Decision> {
  const verified = verifyToken(text, ctx.verify);
  if (!verified.ok) {
    const { reason, detail, claims } = verified;
    // Claims are attributed only once the signature holds: a forger must not be able to put
    // a real rider's id into the journal.
    return claims === undefined || UNVERIFIED.has(reason)
      ? { type: 'deny', reason, detail }
      : { type: 'deny', reason, detail, claims };
  }
  const { claims } = verified;

  if (await ctx.store.isRevoked(claims.iss, claims.sub, claims.cti, ctx.verify.nowSec)) {
    return { type: 'deny', reason: 'revoked', detail: 'rider or token revoked', claims };
  }

  const used = await ctx.store.findReplay(claims.iss, claims.cti);
  if (used === undefined) return { type: 'admit', claims };
  if (ctx.nowMs - used.firstUsedMs <= ctx.reopenGraceSec * 1000) return { type: 'reopen', claims };
  return { type: 'deny', reason: 'replayed', detail: 'token already used at this gate', claims };
}
