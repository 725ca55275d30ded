// Generates the published RP1 test vectors in test/vectors/ (format: test/vectors/README.md).
// Run `npx tsc -p .` first, then `node scripts/make-vectors.mjs`. Keys, times and ctis are
// fixed and ES256 nonces are deterministic (RFC 6979), so a rerun rewrites identical files.
// Every vector is run through the built verifier and gate decision before it is written.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { decide } from '../dist/gate/decide.js';
import { signSign1 } from '../dist/token/cose.js';
import { readPrivateKey, readPublicKey, writeKeyPair } from '../dist/token/keys.js';
import { buildTrustList } from '../dist/trust/trust-list.js';
import { casesFor, NOW, protectedFor, REOPEN_GRACE_SEC, SITE, SKEW_SEC } from './vector-cases.mjs';
import { buildSign1, qrText, selfTestRfc6979 } from './vector-tools.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'vectors');
const KEYS = join(ROOT, 'keys');

/** Loads a TEST ONLY key pair from test/vectors/keys/, creating it on the first run. */
function loadKey(kid, alg) {
  const privateFile = join(KEYS, `${kid}.key.json`);
  if (!existsSync(privateFile)) writeKeyPair(KEYS, kid, alg, kid);
  // git keeps no 0600 mode and readPrivateKey refuses a key others can read: TEST keys only.
  chmodSync(privateFile, 0o600);
  const privateKey = readPrivateKey(privateFile).key;
  const publicKey = readPublicKey(join(KEYS, `${kid}.pub.json`)).key;
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  const jwk = y === undefined ? { kty, crv, x } : { kty, crv, x, y };
  return { kid, alg, privateKey, publicKey, jwk };
}

/** The published form of one case. */
function toVector(c) {
  const v = { name: c.name, description: c.description };
  v.qr = c.qr ?? qrText(c.cose);
  if (c.cose !== undefined) v.coseHex = Buffer.from(c.cose).toString('hex');
  Object.assign(v, { trustList: c.trust, atSec: c.atSec ?? NOW, site: c.site ?? SITE });
  v.skewSec = SKEW_SEC;
  if (c.gate !== undefined) v.gate = { reopenGraceSec: REOPEN_GRACE_SEC, ...c.gate };
  v.expected = c.expected;
  return v;
}

/** The gate's decision on a vector, with an in-memory store holding its gate state. */
async function decideVector(v) {
  const gate = v.gate ?? { reopenGraceSec: REOPEN_GRACE_SEC };
  const nowMs = v.atSec * 1000;
  const used = gate.usedBefore;
  const store = {
    isRevoked: async (_iss, sub, cti) =>
      (gate.revoked ?? []).some((r) => r.value === (r.kind === 'sub' ? sub : cti)),
    findReplay: async (iss, cti) =>
      used?.cti === cti
        ? { iss, cti, firstUsedMs: nowMs - used.firstUsedSecAgo * 1000, expSec: v.atSec + 60 }
        : undefined,
  };
  const trust = buildTrustList(v.trustList, v.name).view;
  const verify = { trust, nowSec: v.atSec, site: v.site, skewSec: v.skewSec };
  return decide(v.qr, { verify, store, nowMs, reopenGraceSec: gate.reopenGraceSec });
}

async function check(v) {
  const d = await decideVector(v);
  const got = d.type === 'deny' ? `deny/${d.reason}` : d.type;
  const { result, reason, claims } = v.expected;
  const want = result === 'deny' ? `deny/${reason}` : result;
  if (got !== want) throw new Error(`${v.name}: expected ${want}, got ${got} (${d.detail})`);
  if (claims !== undefined && !isDeepStrictEqual(d.claims, claims)) {
    throw new Error(`${v.name}: claims differ: ${JSON.stringify(d.claims)}`);
  }
}

/** The hand-built messages must match the project's issuer path (signSign1) byte for byte. */
function checkAgainstSignSign1(key) {
  const payload = new TextEncoder().encode('agreement');
  const kid = new TextEncoder().encode(key.kid);
  const ours = signSign1({ payload, privateKey: key.privateKey, alg: key.alg, kid });
  const built = buildSign1({ key, protectedBytes: protectedFor(key.alg, key.kid), payload });
  if (Buffer.compare(Buffer.from(ours), Buffer.from(built)) !== 0) {
    throw new Error('hand-built COSE_Sign1 differs from signSign1');
  }
}

async function main() {
  selfTestRfc6979();
  mkdirSync(KEYS, { recursive: true });
  const ed = { main: loadKey('ed-1', 'EdDSA'), next: loadKey('ed-2', 'EdDSA') };
  const es = { main: loadKey('es-1', 'ES256'), next: loadKey('es-2', 'ES256') };
  Object.assign(ed, { forger: loadKey('ed-forger', 'EdDSA'), other: es.main });
  Object.assign(es, { forger: loadKey('es-forger', 'ES256'), other: ed.main });
  checkAgainstSignSign1(ed.main);

  let count = 0;
  for (const [prefix, keys] of [
    ['eddsa', ed],
    ['es256', es],
  ]) {
    const dir = join(ROOT, prefix);
    mkdirSync(dir, { recursive: true });
    for (const f of readdirSync(dir)) if (f.endsWith('.json')) rmSync(join(dir, f));
    for (const c of casesFor(prefix, keys)) {
      const v = toVector(c);
      await check(v);
      writeFileSync(join(dir, `${v.name}.json`), `${JSON.stringify(v, null, 2)}\n`);
      count++;
    }
  }
  // The repository's formatter owns JSON layout (short arrays on one line); apply it here so
  // that `biome check` passes and a rerun stays byte-identical.
  const biome = join(ROOT, '..', '..', 'node_modules', '.bin', 'biome');
  execFileSync(biome, ['format', '--write', ROOT], { stdio: 'ignore' });
  console.log(`wrote ${count} vectors under ${ROOT}`);
}

await main();
