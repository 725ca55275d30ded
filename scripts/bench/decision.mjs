#!/usr/bin/env node
// Figure 2: the decision alone, per scan, through the real GateController on a real SQLite
// store (the journal write is durable: WAL with fsync, as in the daemon), no scanner, no MQTT.
// Split into verification (token checks and signature), policy (revocation and replay
// lookups) and the durable journal write, ending when the relay is told to open.
//
//   node scripts/bench/decision.mjs [--short] [--json]

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ISS, provision, token } from './gate-process.mjs';
import { requireDist, runAlone, summarize } from './lib.mjs';

requireDist('bench decision');
const { GateController } = await import('../../dist/gate/gate-controller.js');
const { SimRelay } = await import('../../dist/gpio/sim-relay.js');
const { SqliteStore } = await import('../../dist/store/sqlite-store.js');
const { silentLogger } = await import('../../dist/log.js');
const { readPublicKey } = await import('../../dist/token/keys.js');
const { verifyTrustList } = await import('../../dist/trust/signed-trust-list.js');

const PLAN = { full: { scans: 2_000, warmUp: 100 }, short: { scans: 150, warmUp: 20 } };
const SITE = 'bench-site';

/** Wraps the store and relay so each scan's steps are timed where they start and end. */
function instrument(store, relay) {
  const marks = {};
  const timedStore = {
    isRevoked: async (...args) => {
      marks.verified = performance.now();
      const revoked = await store.isRevoked(...args);
      marks.policyMs = performance.now() - marks.verified;
      return revoked;
    },
    findReplay: async (...args) => {
      const started = performance.now();
      const entry = await store.findReplay(...args);
      marks.policyMs += performance.now() - started;
      return entry;
    },
    record: async (...args) => {
      const started = performance.now();
      const event = await store.record(...args);
      marks.journalMs = performance.now() - started;
      return event;
    },
  };
  const timedRelay = {
    init: () => relay.init(),
    off: () => relay.off(),
    close: () => relay.close(),
    isActive: () => relay.isActive(),
    pulse: (ms) => {
      marks.opened = performance.now();
      marks.onOpen?.();
      return relay.pulse(ms);
    },
  };
  return { marks, timedStore, timedRelay };
}

async function gateOn(dir) {
  const issuer = await provision(dir);
  const jws = readFileSync(issuer.trustFile, 'utf8');
  const trust = await verifyTrustList(jws, readPublicKey(issuer.rootKeyFile).key, 'bench');
  const store = new SqliteStore(join(dir, 'decision.db'), silentLogger());
  await store.open();
  const relay = new SimRelay(silentLogger());
  await relay.init();
  const { marks, timedStore, timedRelay } = instrument(store, relay);
  const clock = { nowMs: () => Date.now(), monoMs: () => performance.now(), state: () => 'synced' };
  const settings = { site: SITE, gate: 'g1', skewSec: 30, reopenGraceSec: 20, pulseMs: 50 };
  const gate = new GateController(settings, {
    relay: timedRelay,
    store: timedStore,
    clock,
    trust: trust.view,
    notifyOutbox: () => {},
    log: silentLogger(),
  });
  return { issuer, gate, marks, close: () => store.close() };
}

/** Decides `count` fresh valid tokens one after another; returns the timings of each. */
async function scans({ issuer, gate, marks }, count) {
  const out = { totalMs: [], verifyMs: [], policyMs: [], journalMs: [], otherMs: [] };
  for (let i = 0; i < count; i++) {
    const text = token(issuer, SITE, `rider-${i % 500}`);
    const opened = new Promise((resolve) => {
      marks.onOpen = resolve;
    });
    const started = performance.now();
    const outcome = gate.handleScan({ text, receivedMono: started, source: 'bench' });
    // The relay is told to open once the event is journaled: the end of the decision. A deny
    // never opens it: the outcome comes first then.
    const first = await Promise.race([opened.then(() => 'opened'), outcome]);
    if (first !== 'opened')
      throw new Error(`a valid token was not admitted: ${first?.decision.type}`);
    out.totalMs.push(marks.opened - started);
    out.verifyMs.push(marks.verified - started);
    out.policyMs.push(marks.policyMs);
    out.journalMs.push(marks.journalMs);
    out.otherMs.push(marks.opened - marks.verified - marks.policyMs - marks.journalMs);
  }
  await gate.drain();
  return out;
}

/** Returns median and p99 of the whole decision and of each step, in ms. */
export async function run({ short = false } = {}) {
  const plan = short ? PLAN.short : PLAN.full;
  const dir = mkdtempSync(join(tmpdir(), 'ridergate-bench-decision-'));
  const ctx = await gateOn(dir);
  try {
    await scans(ctx, plan.warmUp);
    const t = await scans(ctx, plan.scans);
    return {
      totalMs: summarize(t.totalMs, 3),
      verifyMs: summarize(t.verifyMs, 3),
      policyMs: summarize(t.policyMs, 3),
      journalMs: summarize(t.journalMs, 3),
      /** The rest: queueing, building the event, promise hops between the steps. */
      otherMs: summarize(t.otherMs, 3),
      issuer: ISS,
    };
  } finally {
    await ctx.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await runAlone(import.meta.url, 'decision', run);
