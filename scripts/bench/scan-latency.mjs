#!/usr/bin/env node
// Figure 1 and the outbox drain rate (figure 7): scan-to-relay latency of the real daemon,
// from the last byte of a scan written to the pty to the GPIO value change in the fake sysfs
// tree, with mosquitto connected; idle, and while a pre-filled backlog drains at the highest
// `mqtt.drainPerSec` the config allows (10,000), as after a long broker outage.
//
//   node scripts/bench/scan-latency.mjs [--short] [--json]
//
// Needs root (unshare), socat and mosquitto. Runs the built code: `npm run build` first.

import { mkdtempSync, rmSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { fillBacklog } from './backlog.mjs';
import { startMosquitto } from './broker.mjs';
import { launchGate, provision, readLevel, token } from './gate-process.mjs';
import { round, runAlone, sleep, summarize, waitUntil } from './lib.mjs';

const PLAN = {
  full: { idleSamples: 500, backlog: 100_000 },
  short: { idleSamples: 30, backlog: 5_000 },
};
/** The most events a second the config lets the link publish while it drains. */
const DRAIN_PER_SEC = 10_000;
const SITE = 'bench-site';

/**
 * Resolves with performance.now() when `valueFile` reads '1': an inotify watch on the tmpfs
 * file, with a 1 ms poll as a safety net.
 */
function whenActive(valueFile, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (mono, err) => {
      if (done) return;
      done = true;
      watcher?.close();
      clearInterval(poll);
      clearTimeout(timer);
      err === undefined ? resolve(mono) : reject(err);
    };
    const check = () => {
      if (readLevel(valueFile) === '1') finish(performance.now());
    };
    let watcher;
    try {
      watcher = watch(valueFile, check);
    } catch {
      watcher = undefined;
    }
    const poll = setInterval(check, 1);
    const timer = setTimeout(() => finish(0, new Error('the relay did not move')), timeoutMs);
  });
}

/** One scan: the token but its terminator, then the terminator; ms until the relay moved. */
async function oneScan(pty, gate, issuer) {
  await waitUntil(() => readLevel(gate.valueFile) === '0', 'relay back at rest');
  const text = token(issuer, SITE);
  pty.write(text);
  await sleep(2);
  const moved = whenActive(gate.valueFile);
  pty.write('\r');
  const lastByteMono = performance.now();
  return (await moved) - lastByteMono;
}

/** Starts a daemon for gate `name` and waits for `gate ready`. */
async function startGate(dir, name, broker, issuer, mqtt = {}) {
  const running = await launchGate(dir, name, { site: SITE, broker, issuer, mqtt });
  await running.gate.ready();
  return running;
}

async function idle(dir, broker, issuer, samples) {
  const running = await startGate(dir, 'idle', broker, issuer);
  try {
    // A first scan warms the code paths up; it is not counted.
    await oneScan(running.pty, running.gate, issuer);
    const ms = [];
    for (let i = 0; i < samples; i++) {
      ms.push(await oneScan(running.pty, running.gate, issuer));
      await sleep(20 + Math.random() * 30);
    }
    return ms;
  } finally {
    await running.stop();
  }
}

/** Samples scans while `backlog` pre-filled events drain to a subscriber. */
async function draining(dir, broker, issuer, backlog) {
  const name = 'draining';
  await fillBacklog(join(dir, `${name}.db`), backlog, { site: SITE, gate: name });
  const sub = await mqtt.connectAsync(broker.url, { clientId: 'bench-drain-counter' });
  let received = 0;
  let firstMono = 0;
  let lastMono = 0;
  sub.on('message', () => {
    received += 1;
    lastMono = performance.now();
    if (received === 1) firstMono = lastMono;
  });
  await sub.subscribeAsync(`ridergate/v1/${SITE}/${name}/events`, { qos: 1 });
  const running = await startGate(dir, name, broker, issuer, { drainPerSec: DRAIN_PER_SEC });
  try {
    const ms = [];
    while (received < backlog) {
      ms.push(await oneScan(running.pty, running.gate, issuer));
      await sleep(20 + Math.random() * 30);
    }
    await waitUntil(() => received >= backlog, 'backlog delivered', { timeoutMs: 600_000 });
    const ratePerSec = (received - 1) / ((lastMono - firstMono) / 1000);
    return { ms, ratePerSec };
  } finally {
    await running.stop();
    await sub.endAsync();
  }
}

/** Runs both phases; returns `{ idleMs, drainingMs, drain }`. */
export async function run({ short = false } = {}) {
  const plan = short ? PLAN.short : PLAN.full;
  const dir = mkdtempSync(join(tmpdir(), 'ridergate-bench-latency-'));
  const broker = await startMosquitto();
  try {
    const issuer = await provision(dir);
    const idleMs = await idle(dir, broker, issuer, plan.idleSamples);
    const drain = await draining(dir, broker, issuer, plan.backlog);
    return {
      idleMs: summarize(idleMs),
      drainingMs: { ...summarize(drain.ms), backlog: plan.backlog },
      drain: {
        eventsPerSec: round(drain.ratePerSec, 0),
        backlog: plan.backlog,
        drainPerSecSetting: DRAIN_PER_SEC,
      },
    };
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await runAlone(import.meta.url, 'scan-to-relay latency', run);
