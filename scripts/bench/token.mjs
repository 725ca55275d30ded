#!/usr/bin/env node
// Figures 3 and 4: token verifications per second of RP1 (EdDSA, ES256) against a JWT with
// the same claims and key verified through `jose`, in the same run, as ratios; and the QR
// version each token needs at error-correction levels L, M and Q.
//
//   node scripts/bench/token.mjs [--short] [--json]

import { randomBytes } from 'node:crypto';
import { importJWK, jwtVerify, SignJWT } from 'jose';
import QRCode from 'qrcode';
import { requireDist, round, runAlone, summarize } from './lib.mjs';

requireDist('bench token');
const { issueToken } = await import('../../dist/token/issue.js');
const { defaultKid, generateKeyPair } = await import('../../dist/token/keys.js');
const { verifyToken } = await import('../../dist/token/verify.js');

/** Warm-up per variant, then rounds (round-robin over variants) of timed batches. */
const PLAN = {
  full: { warmUpMs: 500, rounds: 10, roundMs: 400, batch: 20 },
  short: { warmUpMs: 100, rounds: 3, roundMs: 150, batch: 20 },
};
const NOW_SEC = Math.floor(Date.now() / 1000);
const SITE = 'north-hub';
/** Typical claims: iss ~9, sub ~10, one site ~9 characters, 2-minute lifetime, 8-byte id. */
const CLAIMS = { iss: 'demo-eats', sub: 'rider-8f3a', iat: NOW_SEC, exp: NOW_SEC + 120 };

/** One RP1 token with its verifier, and its JWT twin with the same claims and key. */
async function variants(alg) {
  const { privateKey, publicKey } = generateKeyPair(alg);
  const kid = defaultKid(publicKey);
  const cti = new Uint8Array(randomBytes(8));
  const rp1 = issueToken({ privateKey, kid, alg, claims: { ...CLAIMS, cti, sites: [SITE] } }).text;
  const trustedKey = { iss: CLAIMS.iss, kid, alg, publicKey };
  const trust = {
    issuer: (iss) => (iss === CLAIMS.iss ? { iss, maxLifetimeSec: 300 } : undefined),
    key: (iss, k) => (iss === CLAIMS.iss && k === kid ? trustedKey : undefined),
  };
  const opts = { trust, nowSec: NOW_SEC + 5, site: SITE, skewSec: 30 };
  const verifyRp1 = () => {
    if (!verifyToken(rp1, opts).ok) throw new Error(`RP1 ${alg} token did not verify`);
  };

  const signKey = await importJWK({ ...privateKey.export({ format: 'jwk' }), alg }, alg);
  const verifyKey = await importJWK({ ...publicKey.export({ format: 'jwk' }), alg }, alg);
  const jwt = await new SignJWT({ sites: [SITE] })
    .setProtectedHeader({ alg, kid })
    .setIssuer(CLAIMS.iss)
    .setSubject(CLAIMS.sub)
    .setIssuedAt(CLAIMS.iat)
    .setExpirationTime(CLAIMS.exp)
    .setJti(Buffer.from(cti).toString('base64url'))
    .sign(signKey);
  // Same work as the gate: find the key by kid, check alg, times, issuer and site.
  const resolve = (header) => {
    if (header.kid !== kid) throw new Error('unknown kid');
    return verifyKey;
  };
  const verifyJwt = async () => {
    const { payload } = await jwtVerify(jwt, resolve, {
      algorithms: [alg],
      issuer: CLAIMS.iss,
      currentDate: new Date((NOW_SEC + 5) * 1000),
      clockTolerance: 30,
      maxTokenAge: 300,
    });
    if (!Array.isArray(payload.sites) || !payload.sites.includes(SITE)) {
      throw new Error('JWT site check failed');
    }
  };
  return [
    { format: 'RP1', alg, text: rp1, run: verifyRp1 },
    { format: 'JWT (jose)', alg, text: jwt, run: verifyJwt },
  ];
}

/** Runs `fn` in batches for `ms`; pushes the time of one call (µs) of each batch to `out`. */
async function timed(fn, ms, batch, out = []) {
  const start = performance.now();
  while (performance.now() - start < ms) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) await fn();
    out.push(((performance.now() - t0) * 1000) / batch);
  }
  return out;
}

function qrVersions(text) {
  const at = (level) => QRCode.create(text, { errorCorrectionLevel: level }).version;
  return { L: at('L'), M: at('M'), Q: at('Q') };
}

/**
 * Returns one row per token variant (format, alg, characters, verifications per second from
 * the median time, median and p99 µs per verification, QR versions) and the RP1/JWT ratios.
 */
export async function run({ short = false } = {}) {
  const plan = short ? PLAN.short : PLAN.full;
  const all = [...(await variants('EdDSA')), ...(await variants('ES256'))];
  for (const v of all) await timed(v.run, plan.warmUpMs, plan.batch);
  // Round-robin over the variants, so a slow moment of the machine hits all alike.
  const samples = new Map(all.map((v) => [v, []]));
  for (let r = 0; r < plan.rounds; r++) {
    for (const v of all) await timed(v.run, plan.roundMs, plan.batch, samples.get(v));
  }
  const results = all.map((v) => {
    const us = summarize(samples.get(v), 1);
    return {
      format: v.format,
      alg: v.alg,
      chars: v.text.length,
      verificationsPerSec: Math.round(1e6 / us.p50),
      verifyUs: us,
      qrVersion: qrVersions(v.text),
    };
  });
  const ratioRp1ToJwt = Object.fromEntries(
    ['EdDSA', 'ES256'].map((alg) => {
      const [rp1, jwt] = results.filter((r) => r.alg === alg);
      return [alg, round(rp1.verificationsPerSec / jwt.verificationsPerSec, 2)];
    }),
  );
  return { plan, claims: { ...CLAIMS, cti: '8 bytes', sites: [SITE] }, results, ratioRp1ToJwt };
}

await runAlone(import.meta.url, 'token verification', run);
