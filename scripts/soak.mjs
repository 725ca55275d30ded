#!/usr/bin/env node
// Soak test of the whole decision pipeline: random and mutated inputs go, as scanner bytes,
// through the real ScanPipeline (framing, unwrap, decode) into a real GateController with a
// SimRelay, a real signed trust list and an in-memory store (record, findReplay, isRevoked).
// Runs the built code: `npx tsc -p .` (or `npm run build`) first.
//
//   node --expose-gc scripts/soak.mjs                1,000,000 inputs (a few minutes)
//   node --expose-gc scripts/soak.mjs --short        20,000 inputs, for CI
//   node --expose-gc scripts/soak.mjs --count N [--seed S]
//
// Reports crashes (an exception escaping the pipeline or handleScan, a scan the gate could not
// handle, an unhandled rejection), wrong admits (an admit or reopen of anything but a valid,
// unrevoked token's signed bytes; an admit of a token already used), valid tokens denied,
// memory (RSS and heap) at the start, every 10 % and at the end, and the slowest input (kind,
// length, time; never the input itself). Exits 1 on any crash, wrong admit or valid denial.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'dist', 'gate', 'gate-controller.js'))) {
  process.stderr.write('soak: dist/ is missing; run "npx tsc -p ." first\n');
  process.exit(2);
}
const { GateController } = await import('../dist/gate/gate-controller.js');
const { SimRelay } = await import('../dist/gpio/sim-relay.js');
const { ScanPipeline } = await import('../dist/scanner/pipeline.js');
const { silentLogger } = await import('../dist/log.js');
const { decodeBase45, encodeBase45 } = await import('../dist/token/base45.js');
const { parseSign1, sigStructure } = await import('../dist/token/cose.js');
const { issueToken } = await import('../dist/token/issue.js');
const { readPrivateKey, writeKeyPair } = await import('../dist/token/keys.js');
const { signTrustList, verifyTrustList } = await import('../dist/trust/signed-trust-list.js');
const { readPublicKey } = await import('../dist/token/keys.js');

const args = parseArgs(process.argv.slice(2));
const SITE = 'soak-site';
const ISS = 'soak-eats';
const PREFIX = 'RP1:';
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';
const MAX_LINE_BYTES = 1024;
/**
 * Short, so that replays of the token pool (refilled every 20,000 inputs, a few seconds) meet
 * both answers: `reopen` within the grace and `deny replayed` after it.
 */
const REOPEN_GRACE_SEC = 2;

function parseArgs(argv) {
  const short = argv.includes('--short');
  const flagValue = (flag) => {
    const i = argv.indexOf(flag);
    return i === -1 ? undefined : argv[i + 1];
  };
  const count = Number(flagValue('--count') ?? (short ? 20_000 : 1_000_000));
  const seed = Number(flagValue('--seed') ?? Math.floor(Math.random() * 2 ** 31));
  if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(seed)) {
    process.stderr.write('usage: soak.mjs [--short] [--count N] [--seed S]\n');
    process.exit(2);
  }
  return { count, seed };
}

/** mulberry32: a small seeded PRNG, so a run's inputs can be generated again from its seed. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(args.seed);
const int = (n) => Math.floor(random() * n);
const pick = (items) => items[int(items.length)];

/** Keys in a temporary folder and a trust list signed by the root key, verified as a gate does. */
async function provision(dir) {
  const issuer = writeKeyPair(dir, 'issuer', 'EdDSA');
  const forger = writeKeyPair(dir, 'forger', 'EdDSA', issuer.kid);
  const rootPair = writeKeyPair(dir, 'root', 'EdDSA');
  const jwk = JSON.parse(readFileSync(issuer.publicFile, 'utf8'));
  const doc = {
    version: 1,
    issuers: [{ iss: ISS, keys: [{ kid: issuer.kid, alg: 'EdDSA', jwk }] }],
  };
  const jws = await signTrustList(doc, readPrivateKey(rootPair.privateFile));
  const trust = await verifyTrustList(
    jws,
    readPublicKey(rootPair.publicFile).key,
    'soak trust list',
  );
  return {
    issuer: readPrivateKey(issuer.privateFile),
    forger: readPrivateKey(forger.privateFile),
    trust,
  };
}

/** The gate's store as the decision path uses it, in memory, with expiry pruning. */
class MemoryStore {
  seq = 0;
  replays = new Map();
  revokedSubs = new Set(['rider-revoked']);
  onRecord = undefined;

  async record(draft, replay) {
    this.seq += 1;
    if (replay !== undefined) this.replays.set(`${replay.iss} ${replay.cti}`, replay);
    this.onRecord?.(draft);
    return { ...draft, seq: this.seq };
  }
  async findReplay(iss, cti) {
    return this.replays.get(`${iss} ${cti}`);
  }
  async isRevoked(iss, sub) {
    return iss === ISS && this.revokedSubs.has(sub);
  }
  prune(nowSec) {
    for (const [key, entry] of this.replays) if (entry.expSec < nowSec) this.replays.delete(key);
  }
}

/** The signed bytes (Sig_structure) of a token text as hex, or undefined when it does not parse. */
function signedBytesOf(text) {
  if (!text.startsWith(PREFIX)) return undefined;
  const bytes = decodeBase45(text.slice(PREFIX.length));
  if (!bytes.ok) return undefined;
  const msg = parseSign1(bytes.value);
  if (!msg.ok) return undefined;
  return Buffer.from(sigStructure(msg.value.protectedBytes, msg.value.payload)).toString('hex');
}

function tokenOf(key, sub, kid = key.kid) {
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: ISS, sub, iat: now, exp: now + 120, sites: [SITE] };
  return issueToken({ privateKey: key.key, kid, alg: 'EdDSA', claims }).text;
}

function randomChars(alphabet, length) {
  let s = '';
  for (let i = 0; i < length; i++) s += alphabet[int(alphabet.length)];
  return s;
}

function editText(text) {
  let out = text;
  for (let n = 1 + int(4); n > 0; n--) {
    const i = int(out.length + 1);
    const c = ALPHABET[int(ALPHABET.length)];
    const op = int(3);
    if (op === 0) out = out.slice(0, i) + c + out.slice(i);
    else if (op === 1) out = out.slice(0, i) + out.slice(i + 1);
    else out = out.slice(0, i) + c + out.slice(i + 1);
  }
  return out;
}

function editBytes(bytes) {
  const out = [...bytes];
  for (let n = 1 + int(4); n > 0; n--) {
    const i = int(out.length + 1);
    const op = int(4);
    if (op === 0) out.splice(i, 0, int(256));
    else if (op === 1) out.splice(i, 1);
    else if (op === 2 && i < out.length) out[i] ^= 1 << int(8);
    else if (i < out.length) out[i] = int(256);
  }
  return Uint8Array.from(out);
}

/** Printable ASCII, the scanner's usual alphabet. */
const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');

/**
 * One input: its kind, its bytes as the scanner sends them (CR-terminated) and, for mutations,
 * the signed bytes of the token it came from. `direct` inputs skip the framer (over-long text
 * handed straight to the gate, to exercise the verifier's own bound).
 */
function makeInput(ctx) {
  const roll = random();
  if (roll < 0.1) return textInput('valid', tokenOf(ctx.keys.issuer, `rider-${int(5000)}`));
  if (roll < 0.15) return textInput('replayed', pick(ctx.pool).text);
  if (roll < 0.3) {
    const from = pick(ctx.pool);
    return {
      ...textInput('mutated_text', PREFIX + editText(from.text.slice(PREFIX.length))),
      from,
    };
  }
  if (roll < 0.45) {
    const from = pick(ctx.pool);
    const bytes = decodeBase45(from.text.slice(PREFIX.length)).value;
    return { ...textInput('mutated_cbor', PREFIX + encodeBase45(editBytes(bytes))), from };
  }
  if (roll < 0.5) return textInput('forged', tokenOf(ctx.keys.forger, 'rider-1'));
  if (roll < 0.53) return textInput('revoked', tokenOf(ctx.keys.issuer, 'rider-revoked'));
  if (roll < 0.65) return textInput('random_text', randomChars(PRINTABLE, int(300)));
  if (roll < 0.8) {
    const bytes = Buffer.from(Array.from({ length: int(300) }, () => int(256)));
    return { kind: 'random_latin1', bytes: Buffer.concat([bytes, CR]), length: bytes.length };
  }
  if (roll < 0.9) return textInput('base45_noise', PREFIX + randomChars(ALPHABET, int(400)));
  const long = PREFIX + randomChars(ALPHABET, 1000 + int(20_000));
  return { ...textInput('overlong', long), direct: random() < 0.5 ? long : undefined };
}

const CR = Buffer.from('\r');
function textInput(kind, text) {
  const bytes = Buffer.from(text, 'latin1');
  return { kind, bytes: Buffer.concat([bytes, CR]), length: bytes.length };
}

const isValidKind = (kind) => kind === 'valid' || kind === 'pool_valid';

/** Whether admitting (or reopening for) this scan of this input would be wrong. */
function wrongAdmit(input, type, text) {
  if (isValidKind(input.kind)) return type !== 'admit';
  if (input.kind === 'replayed') return type === 'admit';
  if (input.kind === 'mutated_text' || input.kind === 'mutated_cbor') {
    // Pool tokens were admitted when made: the same signed bytes may only reopen.
    return type === 'admit' || signedBytesOf(text) !== input.from.signed;
  }
  return true;
}

function newStats() {
  return {
    inputs: 0,
    scans: 0,
    crashes: [],
    wrongAdmits: [],
    validDenied: 0,
    byKind: new Map(),
    durationsUs: new Float64Array(args.count),
    slowest: { us: -1 },
    memory: [],
  };
}

function countKind(stats, kind, outcome) {
  const row = stats.byKind.get(kind) ?? new Map();
  row.set(outcome, (row.get(outcome) ?? 0) + 1);
  stats.byKind.set(kind, row);
}

function memory(label) {
  globalThis.gc?.();
  const m = process.memoryUsage();
  return { label, rssMb: m.rss / 2 ** 20, heapMb: m.heapUsed / 2 ** 20 };
}

/** Feeds one input and waits until each scan it made is journaled (or has crashed). */
async function feed(ctx, input, index) {
  const { gate, pipeline, store, stats } = ctx;
  const started = performance.now();
  let scans;
  try {
    scans =
      input.direct === undefined
        ? pipeline.push(input.bytes, started)
        : [{ text: input.direct, receivedMono: started, source: 'soak' }];
  } catch (err) {
    stats.crashes.push({
      index,
      kind: input.kind,
      length: input.length,
      where: 'pipeline',
      err: String(err),
    });
    return;
  }
  if (scans.length === 0) countKind(stats, input.kind, 'no scan (the scanner pipeline dropped it)');
  for (const scan of scans) {
    const recorded = new Promise((resolve) => {
      store.onRecord = resolve;
    });
    const handled = gate.handleScan(scan).then(
      (outcome) => (outcome === undefined ? 'the gate could not handle the scan' : undefined),
      (err) => `handleScan rejected: ${String(err)}`,
    );
    ctx.pending.add(handled);
    handled.then((crash) => {
      ctx.pending.delete(handled);
      if (crash !== undefined)
        stats.crashes.push({
          index,
          kind: input.kind,
          length: input.length,
          where: 'gate',
          err: crash,
        });
    });
    const draft = await Promise.race([
      recorded,
      handled.then((c) => (c === undefined ? recorded : undefined)),
    ]);
    stats.scans += 1;
    if (draft === undefined) continue;
    const outcome = draft.type === 'deny' ? `deny ${draft.reason}` : draft.type;
    countKind(stats, input.kind, outcome);
    if (
      draft.type !== 'deny' ? wrongAdmit(input, draft.type, scan.text) : isValidKind(input.kind)
    ) {
      if (draft.type === 'deny') stats.validDenied += 1;
      else
        stats.wrongAdmits.push({
          index,
          kind: input.kind,
          length: input.length,
          decision: draft.type,
        });
    }
  }
  if (index < 0) return; // a pool token, not one of the counted inputs
  const us = (performance.now() - started) * 1000;
  stats.durationsUs[index] = us;
  if (us > stats.slowest.us) stats.slowest = { us, kind: input.kind, length: input.length, index };
}

/** Fresh valid tokens, each admitted once, for mutations and replays. */
async function refillPool(ctx) {
  ctx.pool = [];
  for (let i = 0; i < 64; i++) {
    const text = tokenOf(ctx.keys.issuer, `pool-rider-${i}`);
    ctx.pool.push({ text, signed: signedBytesOf(text) });
    await feed(ctx, textInput('pool_valid', text), -1);
  }
}

async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'ridergate-soak-'));
  const stats = newStats();
  process.on('unhandledRejection', (err) =>
    stats.crashes.push({ where: 'unhandledRejection', err: String(err) }),
  );
  try {
    const keys = await provision(dir);
    const store = new MemoryStore();
    const relay = new SimRelay(silentLogger());
    await relay.init();
    const clock = {
      nowMs: () => Date.now(),
      monoMs: () => performance.now(),
      state: () => 'synced',
    };
    const settings = {
      site: SITE,
      gate: 'g1',
      skewSec: 30,
      reopenGraceSec: REOPEN_GRACE_SEC,
      pulseMs: 1,
    };
    const gate = new GateController(settings, {
      relay,
      store,
      clock,
      trust: keys.trust.view,
      notifyOutbox: () => {},
      log: silentLogger(),
    });
    const pipeline = new ScanPipeline(
      {
        source: 'soak',
        terminator: 'auto',
        maxLength: MAX_LINE_BYTES,
        dedupeMs: 0,
        staleLineMs: 0,
      },
      silentLogger(),
    );
    const ctx = { gate, pipeline, store, stats, keys, pool: [], pending: new Set() };
    await refillPool(ctx);
    await loop(ctx, relay);
    await Promise.all([...ctx.pending]);
    await gate.drain();
    stats.memory.push(memory('end'));
    return stats;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function loop(ctx, relay) {
  const { stats } = ctx;
  const step = Math.max(1, Math.round(args.count / 10));
  stats.memory.push(memory('start'));
  const startedMs = performance.now();
  for (let i = 0; i < args.count; i++) {
    await feed(ctx, makeInput(ctx), i);
    stats.inputs += 1;
    if (i % 500 === 499) {
      // Let the relay's pulse timers run, and keep the test relay's own history short.
      await new Promise((resolve) => setImmediate(resolve));
      relay.changes.length = 0;
    }
    if (i % 20_000 === 19_999) {
      ctx.store.prune(Math.floor(Date.now() / 1000));
      await refillPool(ctx);
    }
    if ((i + 1) % step === 0) {
      const m = memory(`${i + 1}`);
      stats.memory.push(m);
      const sec = (performance.now() - startedMs) / 1000;
      process.stderr.write(
        `soak: ${i + 1} inputs, ${sec.toFixed(0)} s, rss ${m.rssMb.toFixed(0)} MB, heap ${m.heapMb.toFixed(0)} MB, replay cache ${ctx.store.replays.size} entries\n`,
      );
    }
  }
  stats.elapsedSec = (performance.now() - startedMs) / 1000;
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function report(stats) {
  const sorted = stats.durationsUs.slice(0, stats.inputs).sort();
  const lines = [
    `soak: ${stats.inputs} inputs (${stats.scans} scans reached the gate) in ${stats.elapsedSec.toFixed(1)} s, seed ${args.seed}`,
    '',
    '| kind | outcome | count |',
    '|---|---|---|',
  ];
  for (const [kind, row] of [...stats.byKind].sort()) {
    for (const [outcome, n] of [...row].sort((a, b) => b[1] - a[1]))
      lines.push(`| ${kind} | ${outcome} | ${n} |`);
  }
  lines.push('', '| memory at | RSS MB | heap used MB |', '|---|---|---|');
  for (const m of stats.memory)
    lines.push(`| ${m.label} | ${m.rssMb.toFixed(1)} | ${m.heapMb.toFixed(1)} |`);
  const s = stats.slowest;
  lines.push(
    '',
    `time per input (bytes in to decision journaled): p50 ${percentile(sorted, 0.5).toFixed(0)} µs, p99 ${percentile(sorted, 0.99).toFixed(0)} µs, p99.9 ${percentile(sorted, 0.999).toFixed(0)} µs`,
    `slowest input: #${s.index}, kind ${s.kind}, ${s.length} bytes, ${(s.us / 1000).toFixed(2)} ms`,
    `crashes: ${stats.crashes.length}`,
    `wrong admits: ${stats.wrongAdmits.length}`,
    `valid tokens denied: ${stats.validDenied}`,
  );
  for (const c of stats.crashes.slice(0, 10)) lines.push(`  crash: ${JSON.stringify(c)}`);
  for (const w of stats.wrongAdmits.slice(0, 10)) lines.push(`  wrong admit: ${JSON.stringify(w)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

const stats = await run();
report(stats);
const failed = stats.crashes.length > 0 || stats.wrongAdmits.length > 0 || stats.validDenied > 0;
process.stdout.write(failed ? 'soak: FAILED\n' : 'soak: OK\n');
process.exitCode = failed ? 1 : 0;
