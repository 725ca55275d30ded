#!/usr/bin/env node
// Runs every benchmark module under scripts/bench/ in turn, each in its own process, and
// writes the figures with the machine, Node.js version and date:
//
//   npm run bench                  full run (about 15 minutes): bench/results.md + results.json
//   npm run bench -- --short       a quick run (under 2 minutes) to prove the benchmarks work:
//   npm run bench:short            bench/short-results.md + short-results.json
//   node scripts/bench.mjs [--short] [--out DIR]   writes results.* (or short-results.*) in DIR
//
// Runs the built code (`npm run bench` builds first). The daemon figures need root (a private
// mount namespace for the fake GPIO tree), socat and mosquitto; without them they are marked
// "not measured" with the reason.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mosquittoMissing } from './bench/broker.mjs';
import { gateUnavailable, isShort, machine, requireDist, root } from './bench/lib.mjs';
import { figuresOf, markdown } from './bench/report.mjs';

requireDist('bench');
const short = isShort();
const outIndex = process.argv.indexOf('--out');
const outDir = outIndex === -1 ? join(root, 'bench') : process.argv[outIndex + 1];
if (outDir === undefined || outDir.startsWith('--')) {
  process.stderr.write('usage: bench.mjs [--short] [--out DIR]\n');
  process.exit(2);
}

/** The modules in the order they run; `needs` says what the machine must offer. */
const MODULES = [
  { name: 'token', needs: () => undefined },
  { name: 'decision', needs: () => undefined },
  { name: 'scan-latency', needs: () => mosquittoMissing() ?? gateUnavailable() },
  { name: 'footprint', needs: () => mosquittoMissing() ?? gateUnavailable() },
  { name: 'revocations', needs: () => undefined },
];

function runModule({ name, needs }) {
  const missing = needs();
  if (missing !== undefined) return { notMeasured: `not measured (${missing})` };
  const startedMs = Date.now();
  process.stderr.write(`bench: ${name}…\n`);
  const args = [
    join(root, 'scripts', 'bench', `${name}.mjs`),
    '--json',
    ...(short ? ['--short'] : []),
  ];
  const out = spawnSync(process.execPath, args, {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const seconds = Math.round((Date.now() - startedMs) / 100) / 10;
  if (out.status !== 0) {
    const why = (out.stderr ?? '').trim().split('\n').slice(-5).join(' | ');
    process.stderr.write(`bench: ${name} failed after ${seconds} s: ${why}\n`);
    return { error: `exit ${out.status}: ${why.slice(0, 500)}` };
  }
  process.stderr.write(`bench: ${name} done in ${seconds} s\n`);
  return { ...JSON.parse(out.stdout.trim().split('\n').at(-1)), seconds };
}

const startedAt = new Date();
const before = machine();
const modules = {};
for (const m of MODULES) modules[m.name] = runModule(m);
const after = machine();

const report = {
  date: startedAt.toISOString(),
  mode: short ? 'short' : 'full',
  durationSec: Math.round((Date.now() - startedAt.getTime()) / 1000),
  machine: {
    ...before,
    loadAvg1m: undefined,
    loadAvg1mBefore: before.loadAvg1m,
    loadAvg1mAfter: after.loadAvg1m,
  },
  figures: figuresOf(modules),
  modules,
};
const base = short ? 'short-results' : 'results';
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, `${base}.json`), `${JSON.stringify(report, null, 2)}\n`);
const md = markdown(report);
writeFileSync(join(outDir, `${base}.md`), md);
process.stdout.write(`${md}\nwritten to ${join(outDir, `${base}.md`)} and ${base}.json\n`);
const failed = Object.entries(modules).filter(([, m]) => m.error !== undefined);
if (failed.length > 0) {
  process.stderr.write(`bench: failed: ${failed.map(([name]) => name).join(', ')}\n`);
  process.exitCode = 1;
}
