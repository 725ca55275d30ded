// Shared helpers of the benchmark modules: arguments, statistics, the machine, output.
// Every module under scripts/bench/ runs alone (`node scripts/bench/<name>.mjs [--short]
// [--json]`) and exports `run({ short })`, which scripts/bench.mjs calls in turn.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** True when the run asks for the quick CI mode: `--short` or BENCH_SHORT=1. */
export function isShort(argv = process.argv) {
  return argv.includes('--short') || process.env.BENCH_SHORT === '1';
}

/** Exits with a clear message when the built code is missing. */
export function requireDist(who) {
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
    process.stderr.write(`${who}: dist/ is missing; run "npm run build" first\n`);
    process.exit(2);
  }
}

/** The value at percentile `p` (0–100) of `samples`, nearest-rank; NaN when empty. */
export function percentile(samples, p) {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

/** Median and 99th percentile of `samples`, rounded to `digits` decimals, with the count. */
export function summarize(samples, digits = 2) {
  return {
    p50: round(percentile(samples, 50), digits),
    p99: round(percentile(samples, 99), digits),
    samples: samples.length,
  };
}

export function round(value, digits = 2) {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `condition` every `intervalMs` until it is true; throws after `timeoutMs` naming `what`.
 */
export async function waitUntil(condition, what, { timeoutMs = 10_000, intervalMs = 10 } = {}) {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(intervalMs);
  }
}

/** CPU model, cores, RAM, load, kernel and Node.js version of this machine. */
export function machine() {
  const list = cpus();
  return {
    cpu: cpuModel(list),
    cores: list.length,
    ramBytes: totalmem(),
    loadAvg1m: round(loadavg()[0], 2),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** os.cpus() names no model on some ARM boards (a Pi says ""): fall back to /proc/cpuinfo. */
function cpuModel(list) {
  const model = list[0]?.model?.trim();
  if (model) return model;
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const line = info.split('\n').find((l) => /^(Model|Hardware|model name)\s*:/.test(l));
    return line?.split(':')[1]?.trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Resident set size of process `pid` in bytes (VmRSS), or undefined once it is gone. */
export function rssOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * Runs a module's `run` when the file is started directly: prints its result as JSON with
 * `--json`, else as indented JSON with a one-line heading. Exits 1 on an error.
 */
export async function runAlone(moduleUrl, name, run) {
  if (process.argv[1] === undefined || fileURLToPath(moduleUrl) !== process.argv[1]) return;
  try {
    const result = await run({ short: isShort() });
    if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(result)}\n`);
    else process.stdout.write(`${name}\n${JSON.stringify(result, null, 2)}\n`);
  } catch (err) {
    process.stderr.write(`${name}: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  }
}

/** Why the daemon cannot be benchmarked here, or undefined when it can. */
export function gateUnavailable() {
  if (process.getuid?.() !== 0)
    return 'not root: the fake sysfs tree needs a private mount namespace';
  const probe = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs none /sys/class'], {
    stdio: 'ignore',
  });
  if (probe.status !== 0) return 'unshare -m or a tmpfs over /sys/class failed';
  const socat = spawnSync('socat', ['-V'], { stdio: 'ignore' });
  if (socat.error !== undefined || socat.status !== 0) return 'socat is not installed';
  return undefined;
}
