#!/usr/bin/env node
// Outbox drain rate of a large backlog to a local mosquitto, and the latency of a scan's store
// path (revocation check, replay check, journal write: what stands between a decision and the
// relay) when idle against while the backlog drains. Runs the built code: `npm run build` first.
//
//   node scripts/bench-pipeline.mjs          100,000-event backlog, about 2 minutes
//   node scripts/bench-pipeline.mjs --short  10,000-event backlog for CI, under 20 s (or BENCH_SHORT=1)
//
// Starts /usr/sbin/mosquitto (MOSQUITTO_BIN overrides) on a free port. Prints a Markdown table
// and writes bench/pipeline.json.

import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { mosquittoMissing, startMosquitto } from './bench/broker.mjs';
import { isShort, percentile, requireDist, root } from './bench/lib.mjs';

requireDist('bench-pipeline');
const missing = mosquittoMissing();
if (missing !== undefined) {
  process.stderr.write(`bench-pipeline: ${missing}\n`);
  process.exit(2);
}
const { fillBacklog } = await import('./bench/backlog.mjs');
const { SqliteStore } = await import('../dist/store/sqlite-store.js');
const { MqttLink } = await import('../dist/link/mqtt-link.js');
const { silentLogger } = await import('../dist/log.js');

const short = isShort();
const PLAN = short
  ? { backlog: 10_000, idleSamples: 200, pacedBacklog: 2_000, pacedMs: 4_000 }
  : { backlog: 100_000, idleSamples: 1_000, pacedBacklog: 10_000, pacedMs: 20_000 };
/** The default `mqtt.drainPerSec`, and a bound high enough not to limit the link at all. */
const DEFAULT_RATE = 200;
const UNBOUNDED_RATE = 1_000_000;
/** Pause between two sampled scans, ms: a busy gate, far above any real scan rate. */
const SCAN_GAP_MS = 5;

const clock = { nowMs: () => Date.now(), monoMs: () => performance.now(), state: () => 'synced' };
const dir = mkdtempSync(join(tmpdir(), 'ridergate-bench-'));
let seqDraft = 0;

function draft(tsMs = Date.now()) {
  seqDraft += 1;
  return {
    id: randomUUID(),
    ts: tsMs,
    clock: 'synced',
    site: 'bench',
    gate: 'g1',
    type: 'admit',
    iss: 'demo-eats',
    sub: `rider-${seqDraft % 977}`,
    cti: seqDraft.toString(16).padStart(16, '0'),
    decisionUs: 300,
  };
}

/** A scan's store path as the gate runs it: revocation and replay checks, then the journal. */
async function scanStorePath(store, link) {
  const d = draft();
  const startedMs = performance.now();
  await store.isRevoked(d.iss, d.sub, d.cti, Math.floor(d.ts / 1000));
  await store.findReplay(d.iss, d.cti);
  await store.record(d, { iss: d.iss, cti: d.cti, firstUsedMs: d.ts, expSec: d.ts / 1000 + 120 });
  const tookMs = performance.now() - startedMs;
  link?.notify();
  return tookMs;
}

async function sampleWhile(store, link, keepGoing, maxSamples = Number.POSITIVE_INFINITY) {
  const samples = [];
  while (keepGoing() && samples.length < maxSamples) {
    samples.push(await scanStorePath(store, link));
    await new Promise((resolve) => setTimeout(resolve, SCAN_GAP_MS));
  }
  return samples;
}

async function startLink(store, url, drainPerSec) {
  const link = new MqttLink(
    {
      url,
      prefix: 'ridergate/v1',
      site: 'bench',
      gate: 'g1',
      telemetrySec: 3600,
      version: 'bench',
      bootMs: Date.now(),
      reconnectMinMs: 100,
      reconnectMaxMs: 200,
      drainPerSec,
    },
    { store, clock, telemetry: () => ({}) },
    silentLogger(),
  );
  await link.start();
  while (!link.isConnected()) await new Promise((resolve) => setTimeout(resolve, 10));
  return link;
}

/** One phase: a fresh store with `backlog` events, drained at `drainPerSec`, sampled. */
async function drainPhase(name, url, backlog, drainPerSec, maxMs) {
  const path = join(dir, `${name}.db`);
  await fillBacklog(path, backlog);
  const store = new SqliteStore(path, silentLogger());
  await store.open();
  const startedMs = performance.now();
  const link = await startLink(store, url, drainPerSec);
  link.notify();
  const drained = () => link.stats().eventsPublished >= backlog;
  const samples = await sampleWhile(
    store,
    link,
    () => !drained() && performance.now() - startedMs < maxMs,
  );
  while (!drained() && performance.now() - startedMs < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const elapsedSec = (performance.now() - startedMs) / 1000;
  const published = link.stats().eventsPublished;
  await link.stop();
  await store.close();
  return { samples, published, elapsedSec, ratePerSec: published / elapsedSec };
}

async function idlePhase(url) {
  const store = new SqliteStore(join(dir, 'idle.db'), silentLogger());
  await store.open();
  const link = await startLink(store, url, DEFAULT_RATE);
  const samples = await sampleWhile(store, link, () => true, PLAN.idleSamples);
  await link.stop();
  await store.close();
  return samples;
}

async function main() {
  const broker = await startMosquitto();
  try {
    const idle = await idlePhase(broker.url);
    const max = await drainPhase('unbounded', broker.url, PLAN.backlog, UNBOUNDED_RATE, 600_000);
    const paced = await drainPhase(
      'paced',
      broker.url,
      PLAN.pacedBacklog,
      DEFAULT_RATE,
      PLAN.pacedMs,
    );
    report(idle, max, paced);
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(idle, max, paced) {
  const row = (label, samples, drain) => ({
    phase: label,
    drainPerSec: drain?.bound ?? null,
    drainedPerSec: drain === undefined ? null : Math.round(drain.result.ratePerSec),
    published: drain?.result.published ?? null,
    scans: samples.length,
    p50Ms: round(percentile(samples, 50)),
    p99Ms: round(percentile(samples, 99)),
  });
  const rows = [
    row('idle (outbox empty)', idle),
    row(`draining ${PLAN.backlog} events, unbounded`, max.samples, {
      bound: 'none',
      result: max,
    }),
    row(`draining at mqtt.drainPerSec ${DEFAULT_RATE}`, paced.samples, {
      bound: DEFAULT_RATE,
      result: paced,
    }),
  ];
  const ratio = (r) => ({
    p50: round(r.p50Ms / rows[0].p50Ms),
    p99: round(r.p99Ms / rows[0].p99Ms),
  });
  const lines = [
    '| phase | drain bound (ev/s) | drained (ev/s) | scans sampled | p50 ms | p99 ms | p50 / idle | p99 / idle |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => {
      const q = ratio(r);
      return `| ${r.phase} | ${r.drainPerSec ?? '–'} | ${r.drainedPerSec ?? '–'} | ${r.scans} | ${r.p50Ms} | ${r.p99Ms} | ${q.p50}× | ${q.p99}× |`;
    }),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  process.stdout.write(
    `\nlatency: a scan's store path (revocation check, replay check, journal write with fsync)\n` +
      `node ${process.version}, ${cpus()[0]?.model ?? 'unknown cpu'} x${cpus().length}, ${short ? 'short' : 'full'} run\n`,
  );
  mkdirSync(join(root, 'bench'), { recursive: true });
  const out = { date: new Date().toISOString(), short, node: process.version, plan: PLAN, rows };
  writeFileSync(join(root, 'bench', 'pipeline.json'), `${JSON.stringify(out, null, 2)}\n`);
}

function round(value) {
  return Math.round(value * 100) / 100;
}

await main();
