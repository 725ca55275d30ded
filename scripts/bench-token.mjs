#!/usr/bin/env node
// Verifications per second of RP1 tokens against a JWT carrying the same claims, verified
// with jose, on the same machine in the same run; and the QR version each needs at levels
// L, M and Q. Runs the built code: `npx tsc -p .` (or `npm run build`) first.
//
//   node scripts/bench-token.mjs          full run, about 10 s
//   node scripts/bench-token.mjs --short  quick run for CI, under 5 s (or BENCH_SHORT=1)
//
// Prints a Markdown table and writes bench/token.json.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importJWK, jwtVerify, SignJWT } from 'jose';
import QRCode from 'qrcode';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'dist', 'token', 'verify.js'))) {
  process.stderr.write('bench-token: dist/ is missing; run "npx tsc -p ." first\n');
  process.exit(2);
}
const { issueToken } = await import('../dist/token/issue.js');
const { defaultKid, generateKeyPair } = await import('../dist/token/keys.js');
const { verifyToken } = await import('../dist/token/verify.js');

const short = process.argv.includes('--short') || process.env.BENCH_SHORT === '1';
/** Warm-up per variant, then rounds of a fixed time each; the median round is reported. */
const PLAN = short
  ? { warmUpMs: 100, rounds: 3, roundMs: 150 }
  : { warmUpMs: 500, rounds: 5, roundMs: 400 };
const BATCH = 50;

const NOW_SEC = Math.floor(Date.now() / 1000);
const SITE = 'north-hub';
/** Typical claims: iss ~9, sub ~10, one site ~9 characters, 2-minute lifetime, 8-byte id. */
const CLAIMS = { iss: 'demo-eats', sub: 'rider-8f3a', iat: NOW_SEC, exp: NOW_SEC + 120 };

/** One RP1 token, its verifier and its JWT twin with the same claims and key. */
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

/** Runs `fn` in batches for `ms` milliseconds; returns calls per second. */
async function timed(fn, ms) {
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < BATCH; i++) await fn();
    calls += BATCH;
    elapsed = performance.now() - start;
  }
  return (calls * 1000) / elapsed;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

function qrVersions(text) {
  const at = (level) => QRCode.create(text, { errorCorrectionLevel: level }).version;
  return { L: at('L'), M: at('M'), Q: at('Q') };
}

const all = [...(await variants('EdDSA')), ...(await variants('ES256'))];
for (const v of all) await timed(v.run, PLAN.warmUpMs);
// Rounds go round-robin over the variants, so a slow moment of the machine hits all alike.
const rounds = new Map(all.map((v) => [v, []]));
for (let r = 0; r < PLAN.rounds; r++) {
  for (const v of all) rounds.get(v).push(await timed(v.run, PLAN.roundMs));
}

const results = all.map((v) => ({
  format: v.format,
  alg: v.alg,
  chars: v.text.length,
  verificationsPerSec: Math.round(median(rounds.get(v))),
  roundsPerSec: rounds.get(v).map(Math.round),
  qrVersion: qrVersions(v.text),
}));
const ratios = Object.fromEntries(
  ['EdDSA', 'ES256'].map((alg) => {
    const [rp1, jwt] = results.filter((r) => r.alg === alg);
    return [alg, Number((rp1.verificationsPerSec / jwt.verificationsPerSec).toFixed(2))];
  }),
);

const report = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  mode: short ? 'short' : 'full',
  plan: PLAN,
  claims: { ...CLAIMS, cti: '8 bytes', sites: [SITE] },
  results,
  ratioRp1ToJwt: ratios,
};
mkdirSync(join(root, 'bench'), { recursive: true });
writeFileSync(join(root, 'bench', 'token.json'), `${JSON.stringify(report, null, 2)}\n`);

const rows = results.map(
  (r) =>
    `| ${r.format} | ${r.alg} | ${r.chars} | ${r.verificationsPerSec.toLocaleString('en-US')} | ${r.qrVersion.L} | ${r.qrVersion.M} | ${r.qrVersion.Q} |`,
);
process.stdout.write(
  [
    `Token verification on ${report.cpu}, Node ${report.node} (${report.mode} run, median of ${PLAN.rounds} rounds)`,
    '',
    '| token | alg | characters | verifications/s | QR version L | QR version M | QR version Q |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    `RP1 / JWT verifications per second: EdDSA ${ratios.EdDSA}×, ES256 ${ratios.ES256}×`,
    'written to bench/token.json',
    '',
  ].join('\n'),
);
