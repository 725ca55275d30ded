#!/usr/bin/env node
// Revocation lookups with a large list: the gate's in-memory index (loaded from the store at
// start) against the plain SQLite query it replaced. Runs the built code: `npm run build` first.
//
//   node --expose-gc scripts/bench-revocations.mjs          1,000,000 entries, about a minute
//   node --expose-gc scripts/bench-revocations.mjs --short  100,000 entries, for CI
//   add --json to print one JSON object on stdout instead of the table
//
// Measures: writing the list into the store, loading it into the index (what a gate does at
// start), the RSS the index adds, and the latency of single lookups (p50, p99, max), each
// lookup being what a scan does: one rider (sub) and one token (cti) probe.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'dist', 'revocation', 'revocation-keeper.js'))) {
  process.stderr.write('bench-revocations: dist/ is missing; run "npm run build" first\n');
  process.exit(2);
}
const { RevocationKeeper } = await import('../dist/revocation/revocation-keeper.js');
const { applyRevocationDelta } = await import('../dist/revocation/revocation-store.js');
const { SqliteStore } = await import('../dist/store/sqlite-store.js');
const { silentLogger } = await import('../dist/log.js');

const short = process.argv.includes('--short') || process.env.BENCH_SHORT === '1';
const json = process.argv.includes('--json');
const ENTRIES = short ? 100_000 : 1_000_000;
const LOOKUPS = short ? 50_000 : 200_000;
const SQL_LOOKUPS = short ? 2_000 : 5_000;
const CHUNK = 20_000;
const NOW_SEC = Math.floor(Date.now() / 1000);

const gc = globalThis.gc ?? (() => undefined);
const log = silentLogger();
const dir = mkdtempSync(join(tmpdir(), 'ridergate-bench-revocations-'));

/** Entry i: riders by sub (three in four) and tokens by cti, a tenth with an end time. */
function entry(i) {
  const base =
    i % 4 === 3
      ? { iss: 'demo-eats', kind: 'cti', value: i.toString(16).padStart(32, '0') }
      : { iss: 'demo-eats', kind: 'sub', value: `rider-${i.toString(36)}` };
  return i % 10 === 0 ? { ...base, untilSec: NOW_SEC + 86_400 } : base;
}

function percentiles(samplesNs) {
  const sorted = Float64Array.from(samplesNs).sort();
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] / 1000;
  return {
    p50Us: round(at(0.5)),
    p99Us: round(at(0.99)),
    maxUs: round(sorted[sorted.length - 1] / 1000),
  };
}
const round = (x) => Math.round(x * 1000) / 1000;
const mb = (bytes) => Math.round((bytes / 1024 / 1024) * 10) / 10;

try {
  const store = new SqliteStore(join(dir, 'gate.db'), log);
  await store.open();

  let t = performance.now();
  for (let i = 0; i < ENTRIES; i += CHUNK) {
    const chunk = [];
    for (let j = i; j < Math.min(ENTRIES, i + CHUNK); j++) chunk.push(entry(j));
    await applyRevocationDelta(store, chunk, [], {});
  }
  const storeMs = performance.now() - t;

  gc();
  const rssBefore = process.memoryUsage().rss;
  const keeper = new RevocationKeeper({
    store,
    operator: () => undefined,
    nowMs: () => Date.now(),
    skewSec: 30,
    log,
    staleAfterSec: 0,
  });
  t = performance.now();
  await keeper.start();
  const loadMs = performance.now() - t;
  gc();
  const rssAfter = process.memoryUsage().rss;
  if (keeper.status().entries !== ENTRIES)
    throw new Error(`loaded ${keeper.status().entries} entries`);

  // Half the probes hit a revoked rider or token, half miss; warm up first.
  const probes = [];
  for (let k = 0; k < LOOKUPS; k++) {
    const i = (k * 7919) % ENTRIES;
    const e = entry(i);
    const hit = k % 2 === 0;
    const sub = hit && e.kind === 'sub' ? e.value : `nobody-${k}`;
    const cti = hit && e.kind === 'cti' ? e.value : 'ff'.repeat(16);
    probes.push([sub, cti, hit]);
  }
  for (const [sub, cti] of probes.slice(0, 10_000))
    keeper.isRevoked('demo-eats', sub, cti, NOW_SEC);
  const samples = new Float64Array(LOOKUPS);
  let wrong = 0;
  for (let k = 0; k < LOOKUPS; k++) {
    const [sub, cti, hit] = probes[k];
    const start = process.hrtime.bigint();
    const revoked = keeper.isRevoked('demo-eats', sub, cti, NOW_SEC);
    samples[k] = Number(process.hrtime.bigint() - start);
    if (revoked !== hit) wrong += 1;
  }
  if (wrong > 0) throw new Error(`${wrong} lookups gave the wrong answer`);
  const index = percentiles(samples);

  const sqlSamples = new Float64Array(SQL_LOOKUPS);
  for (let k = 0; k < SQL_LOOKUPS; k++) {
    const [sub, cti] = probes[k];
    const start = process.hrtime.bigint();
    await store.isRevoked('demo-eats', sub, cti, NOW_SEC);
    sqlSamples[k] = Number(process.hrtime.bigint() - start);
  }
  const sqlite = percentiles(sqlSamples);
  await store.close();

  const report = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    mode: short ? 'short' : 'full',
    entries: ENTRIES,
    lookups: LOOKUPS,
    storeWriteMs: Math.round(storeMs),
    loadMs: Math.round(loadMs),
    indexMb: mb(keeper.indexBytes()),
    rssGrowthMb: mb(rssAfter - rssBefore),
    rssMb: mb(rssAfter),
    index,
    sqlite: { lookups: SQL_LOOKUPS, ...sqlite },
    targetP99Us: 200,
    pass: index.p99Us < 200,
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    process.stdout.write(
      [
        `Revocation lookups with ${ENTRIES.toLocaleString('en-US')} entries on ${report.cpu}, Node ${report.node} (${report.mode} run)`,
        '',
        '| lookup (sub + cti) | samples | p50 µs | p99 µs | max µs |',
        '|---|---:|---:|---:|---:|',
        `| in-memory index | ${LOOKUPS.toLocaleString('en-US')} | ${index.p50Us} | ${index.p99Us} | ${index.maxUs} |`,
        `| SQLite query (before) | ${SQL_LOOKUPS.toLocaleString('en-US')} | ${sqlite.p50Us} | ${sqlite.p99Us} | ${sqlite.maxUs} |`,
        '',
        `store write ${report.storeWriteMs} ms, load into the index ${report.loadMs} ms, index ${report.indexMb} MB (RSS +${report.rssGrowthMb} MB while loading, process ${report.rssMb} MB)`,
        `p99 target 200 µs: ${report.pass ? 'met' : 'MISSED'}`,
        '',
      ].join('\n'),
    );
  }
  process.exitCode = report.pass ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
