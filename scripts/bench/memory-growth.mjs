#!/usr/bin/env node
// Does the daemon's memory grow with scans? The real daemon as footprint.mjs runs it (a pty
// scanner, a fake GPIO tree, mosquitto), with memory-probe.mjs preloaded: at every checkpoint
// it reports memory as found (pre) and after full GCs (post): RSS, V8 heap used and total,
// external memory, and resident anonymous memory by owner (glibc's main arena, its thread
// arenas, the rest: mostly V8). Growth that survives GC is a leak; growth that GC returns is
// V8 letting garbage pile up before it collects.
//
//   node scripts/bench/memory-growth.mjs [--short] [--json] [--scans N] [--every N]
//                                        [--node-options "--max-old-space-size=128 …"]
//
// MALLOC_ARENA_MAX and other variables of the environment reach the daemon. Needs what
// footprint.mjs needs (root, socat, mosquitto, `npm run build`). Not part of `npm run bench`.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMosquitto } from './broker.mjs';
import { feed, SITE } from './footprint.mjs';
import { launchGate, provision } from './gate-process.mjs';
import { root, runAlone, sleep, waitUntil } from './lib.mjs';

const PLAN = {
  full: { scans: 100_000, every: 10_000 },
  short: { scans: 20_000, every: 5_000 },
};

function option(name) {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

/** Asks the probe for one `{ pre, post }` sample and waits for it. */
async function checkpoint(pid, outFile, done) {
  process.kill(pid, 'SIGWINCH');
  const lines = () => (existsSync(outFile) ? readFileSync(outFile, 'utf8').trim().split('\n') : []);
  await waitUntil(() => lines().length > done, 'memory probe sample');
  return JSON.parse(lines()[done]);
}

const MIB = 1024 * 1024;
const mib = (bytes) => Math.round((bytes / MIB) * 10) / 10;
const FIELDS = ['rss', 'heapUsed', 'heapTotal', 'external', 'brk', 'arenas', 'otherAnon'];
const inMib = (s) => Object.fromEntries(FIELDS.map((f) => [f, mib(s[f])]));

/** Checkpoints `{ scans, pre, post }` with figures in MiB, and the V8 heap limit. */
export async function run({ short = false } = {}) {
  const plan = short ? PLAN.short : PLAN.full;
  const scans = Number(option('--scans') ?? plan.scans);
  const every = Number(option('--every') ?? plan.every);
  const dir = mkdtempSync(join(tmpdir(), 'ridergate-bench-memory-'));
  const outFile = join(dir, 'probe.jsonl');
  const probe = join(root, 'scripts', 'bench', 'memory-probe.mjs');
  process.env.MEMORY_PROBE_OUT = outFile;
  process.env.NODE_OPTIONS = `--expose-gc --import=${probe} ${option('--node-options') ?? ''}`;
  const broker = await startMosquitto();
  try {
    const issuer = await provision(dir);
    const running = await launchGate(dir, 'mem', { site: SITE, broker, issuer });
    try {
      await running.gate.ready();
      await sleep(2_000);
      const checkpoints = [];
      let heapLimit;
      const take = async (n) => {
        const { pre, post } = await checkpoint(running.gate.pid, outFile, checkpoints.length);
        heapLimit = pre.heapLimit;
        checkpoints.push({ scans: n, pre: inMib(pre), post: inMib(post) });
        if (!process.argv.includes('--json'))
          process.stderr.write(`${n} scans: ${JSON.stringify(checkpoints.at(-1))}\n`);
      };
      await take(0);
      for (let n = every; n <= scans; n += every) {
        await feed(running, issuer, every);
        await sleep(500);
        await take(n);
      }
      return { heapLimitMiB: mib(heapLimit), checkpoints };
    } finally {
      await running.stop();
    }
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await runAlone(import.meta.url, 'daemon memory growth', run);
