#!/usr/bin/env node
// Figures 5 (memory with one million revocations loaded) and 7 (revocation lookup at one
// million entries): runs scripts/bench-revocations.mjs --json when it exists and returns its
// figures; marks them "not measured (script missing)" when it does not.
//
//   node scripts/bench/revocations.mjs [--short] [--json]

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { root, runAlone } from './lib.mjs';

export const SCRIPT = join(root, 'scripts', 'bench-revocations.mjs');
export const MISSING = 'not measured (script missing)';

function attempt(args) {
  const out = spawnSync(process.execPath, [SCRIPT, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 900_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const last = (out.stdout ?? '').trim().split('\n').at(-1) ?? '';
  if (out.status !== 0)
    return { error: `exit ${out.status}: ${(out.stderr ?? '').trim().slice(-300)}` };
  try {
    return { value: JSON.parse(last) };
  } catch {
    return { error: 'its last line of output is not JSON' };
  }
}

/**
 * Returns `{ measured: true, lookupP50Us, lookupP99Us, entries, rssBytes }`, or
 * `{ measured: false, reason }` when the script is missing.
 */
export async function run({ short = false } = {}) {
  if (!existsSync(SCRIPT)) return { measured: false, reason: MISSING };
  // The short flag may be unknown to the script: then it runs in full.
  let got = attempt(short ? ['--json', '--short'] : ['--json']);
  if (got.error !== undefined && short) got = attempt(['--json']);
  if (got.error !== undefined) throw new Error(`bench-revocations.mjs failed: ${got.error}`);
  // bench-revocations.mjs --json: { entries, rssMb, index: { p50Us, p99Us, maxUs }, … }.
  const v = got.value;
  const lookupP50Us = v.index?.p50Us;
  const lookupP99Us = v.index?.p99Us;
  const rssBytes = typeof v.rssMb === 'number' ? Math.round(v.rssMb * 1024 * 1024) : undefined;
  if (![lookupP50Us, lookupP99Us, v.entries, rssBytes].every((x) => typeof x === 'number'))
    throw new Error(`bench-revocations.mjs printed no figures: ${JSON.stringify(v).slice(0, 300)}`);
  return { measured: true, lookupP50Us, lookupP99Us, entries: v.entries, rssBytes, raw: v };
}

await runAlone(import.meta.url, 'revocations', run);
