#!/usr/bin/env node
// Figures 5 and 6 for the real daemon: the time from process start to ready (the retained
// status `online` seen by a subscriber on mosquitto), resident memory after start, and
// resident memory after many scans fed through the pty (100,000 in a full run).
//
//   node scripts/bench/footprint.mjs [--short] [--json]
//
// Needs root (unshare), socat and mosquitto. Runs the built code: `npm run build` first.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startMosquitto } from './broker.mjs';
import { launchGate, provision, token } from './gate-process.mjs';
import { round, rssOf, runAlone, sleep, summarize, waitUntil } from './lib.mjs';

const PLAN = {
  full: { starts: 10, scans: 100_000, settleMs: 2_000 },
  short: { starts: 3, scans: 2_000, settleMs: 500 },
};
export const SITE = 'bench-site';
/** Scans written ahead of the daemon's decisions: a queue, never a flood of the pty. */
const WINDOW = 32;

/** One cold start: ms from spawn to the retained `online` status, and RSS once settled. */
async function oneStart(dir, name, broker, issuer, settleMs) {
  const sub = await mqtt.connectAsync(broker.url, { clientId: `bench-${name}` });
  let onlineMono;
  sub.on('message', (_topic, payload) => {
    if (onlineMono === undefined && JSON.parse(payload.toString()).state === 'online')
      onlineMono = performance.now();
  });
  await sub.subscribeAsync(`ridergate/v1/${SITE}/${name}/status`, { qos: 1 });
  const running = await launchGate(dir, name, { site: SITE, broker, issuer });
  try {
    await waitUntil(
      () => onlineMono !== undefined || running.gate.child.exitCode !== null,
      'online status',
      {
        timeoutMs: 30_000,
      },
    );
    if (onlineMono === undefined) throw new Error('the gate exited before it was online');
    const readyMs = onlineMono - running.gate.startedMono;
    await running.gate.ready();
    await sleep(settleMs);
    return { readyMs, rssBytes: rssOf(running.gate.pid), running };
  } finally {
    await sub.endAsync();
  }
}

/** Feeds `count` fresh valid tokens through the pty, at most WINDOW ahead of the daemon. */
export async function feed(running, issuer, count) {
  const { pty, gate } = running;
  const base = gate.decided();
  let written = 0;
  while (written < count) {
    while (written < count && written - (gate.decided() - base) < WINDOW) {
      pty.write(`${token(issuer, SITE, `rider-${written % 5_000}`)}\r`);
      written += 1;
    }
    if (gate.child.exitCode !== null) throw new Error('the gate exited while scans were fed');
    await sleep(2);
  }
  await waitUntil(() => gate.decided() - base >= count, 'every scan decided', {
    timeoutMs: 120_000,
  });
}

/**
 * Returns start-to-ready ms (median, p99 over the starts), RSS after start (median over the
 * starts) and RSS and peak RSS after the scans, in bytes.
 */
export async function run({ short = false } = {}) {
  const plan = short ? PLAN.short : PLAN.full;
  const dir = mkdtempSync(join(tmpdir(), 'ridergate-bench-footprint-'));
  const broker = await startMosquitto();
  try {
    const issuer = await provision(dir);
    const readyMs = [];
    const rssStart = [];
    let last;
    for (let i = 0; i < plan.starts; i++) {
      const start = await oneStart(dir, `start-${i}`, broker, issuer, plan.settleMs);
      readyMs.push(start.readyMs);
      rssStart.push(start.rssBytes);
      if (i < plan.starts - 1) await start.running.stop();
      else last = start.running;
    }
    const fedMono = performance.now();
    await feed(last, issuer, plan.scans);
    const scansPerSec = plan.scans / ((performance.now() - fedMono) / 1000);
    await sleep(plan.settleMs);
    const rssAfterScans = rssOf(last.gate.pid);
    await last.stop();
    return {
      readyMs: summarize(readyMs, 1),
      rssAfterStartBytes: summarize(rssStart, 0),
      rssAfterScansBytes: rssAfterScans,
      scans: plan.scans,
      scansPerSec: round(scansPerSec, 0),
    };
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await runAlone(import.meta.url, 'daemon footprint', run);
