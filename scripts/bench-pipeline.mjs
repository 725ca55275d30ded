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

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'dist', 'store', 'sqlite-store.js'))) {
  process.stderr.write('bench-pipeline: dist/ is missing; run "npm run build" first\n');
  process.exit(2);
}
const MOSQUITTO = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';
if (!existsSync(MOSQUITTO)) {
  process.stderr.write(`bench-pipeline: ${MOSQUITTO} not found (apt install mosquitto)\n`);
  process.exit(2);
}
const { SqliteStore } = await import('../dist/store/sqlite-store.js');
const { SqliteDb } = await import('../dist/store/sqlite.js');
const { MqttLink } = await import('../dist/link/mqtt-link.js');
const { silentLogger } = await import('../dist/log.js');

const short = process.argv.includes('--short') || process.env.BENCH_SHORT === '1';
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

function percentile(samples, p) {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Writes `count` undelivered events in one transaction: the backlog an outage leaves. */
async function fillBacklog(path, count) {
  const db = await SqliteDb.open(path);
  await db.exec('BEGIN');
  const row = await db.get("SELECT value FROM settings WHERE key = 'events.last_seq'");
  let seq = Number(row.value);
  const oldTs = Date.now() - 3_600_000;
  for (let i = 0; i < count; i++) {
    seq += 1;
    const event = { ...draft(oldTs + i), seq };
    await db.run(
      'INSERT INTO events (id, seq, ts, type, iss, sub, cti, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [event.id, seq, event.ts, event.type, event.iss, event.sub, event.cti, JSON.stringify(event)],
    );
  }
  await db.run("UPDATE settings SET value = ? WHERE key = 'events.last_seq'", [String(seq)]);
  await db.exec('COMMIT');
  await db.close();
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
  const store = new SqliteStore(path, silentLogger());
  await store.open();
  await store.close();
  await fillBacklog(path, backlog);
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

async function startMosquitto() {
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  const child = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error('mosquitto did not start');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function accepts(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

await main();
