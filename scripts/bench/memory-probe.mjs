// Preloaded into the daemon by memory-growth.mjs (NODE_OPTIONS=--import, with --expose-gc);
// never by the service. On SIGWINCH it samples memory as found, runs two full GCs, waits for
// V8's background unmapper to return the freed pages, samples again, and appends one JSON line
// `{ pre, post }` to the file MEMORY_PROBE_OUT names. SIGWINCH is free: the daemon has no tty.

import { appendFileSync, readFileSync } from 'node:fs';
import v8 from 'node:v8';

/** How long after the GCs the second sample waits: V8 unmaps freed pages on a helper thread. */
const SETTLE_MS = 1_500;
/** glibc gives each thread arena a 64 MiB-aligned heap of at most 64 MiB. */
const ARENA_BYTES = 1n << 26n;

const out = process.env.MEMORY_PROBE_OUT;

/** VmRSS, RssAnon and RssFile of this process, bytes. */
function statusFigures() {
  const text = readFileSync('/proc/self/status', 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { rss: kb('VmRSS') * 1024, rssAnon: kb('RssAnon') * 1024, rssFile: kb('RssFile') * 1024 };
}

/**
 * Resident anonymous memory by owner, bytes: `brk` is glibc's main arena ([heap]), `arenas`
 * the rw part of 64 MiB-aligned anonymous regions (glibc's thread arenas: sqlite3 and libuv's
 * thread pool), `otherAnon` the rest (V8's heap pages, stacks, code).
 */
function anonByOwner() {
  const sums = { brk: 0, arenas: 0, otherAnon: 0 };
  let mapping;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (head !== null) {
      const [, lo, hi, perm, inode, name] = head;
      mapping = { lo: BigInt(`0x${lo}`), hi: BigInt(`0x${hi}`), perm, inode, name };
      continue;
    }
    const rss = /^Rss:\s+(\d+)/.exec(line);
    if (rss === null || mapping === undefined) continue;
    const bytes = Number(rss[1]) * 1024;
    if (mapping.name === '[heap]') sums.brk += bytes;
    else if (mapping.inode !== '0' || mapping.name !== '') continue;
    else if (isArena(mapping)) sums.arenas += bytes;
    else sums.otherAnon += bytes;
  }
  return sums;
}

function isArena({ lo, hi, perm }) {
  return lo % ARENA_BYTES === 0n && hi - lo <= ARENA_BYTES && perm.startsWith('rw');
}

function sample() {
  const m = process.memoryUsage();
  const heap = v8.getHeapStatistics();
  return {
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    heapLimit: heap.heap_size_limit,
    ...statusFigures(),
    ...anonByOwner(),
  };
}

if (out !== undefined && typeof globalThis.gc === 'function') {
  process.on('SIGWINCH', () => {
    const pre = sample();
    globalThis.gc();
    globalThis.gc();
    setTimeout(() => {
      appendFileSync(out, `${JSON.stringify({ pre, post: sample() })}\n`);
    }, SETTLE_MS).unref();
  });
}
