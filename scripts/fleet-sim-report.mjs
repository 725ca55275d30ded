// The fleet simulator's report (scripts/fleet-sim.mjs): the figures of a run, as a Markdown
// table or one JSON line.

import { rssOf } from './bench/lib.mjs';

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const round = (n, digits = 1) => (n === null ? null : Number(n.toFixed(digits)));

/** The sum of one numeric field over the workers (`scans`, `rss`). */
export function sum(workers, field) {
  return workers.reduce((a, w) => a + w[field], 0);
}

/** The figures of a run: rates per second, round trip in ms, RSS in MB. */
export function buildReport({
  opts,
  ops,
  workers,
  before,
  windowSec,
  connectSec,
  allOnline,
  simRss,
  broker,
}) {
  const rtt = [...ops.rttMs].sort((a, b) => a - b);
  const events = (ops.byKind.events ?? 0) - before.events;
  const denials = {};
  let admits = 0;
  for (const g of ops.fleet.list()) {
    const totals = g.hour.totals(Date.now());
    admits += totals.admits;
    for (const [reason, n] of Object.entries(totals.denials))
      denials[reason] = (denials[reason] ?? 0) + n;
  }
  return {
    gates: opts.gates,
    workers: workers.length,
    allOnline,
    connectSec: round(connectSec),
    windowSec: round(windowSec),
    scansFed: sum(workers, 'scans') - before.scans,
    eventsReceived: events,
    messagesPerSec: round((ops.received - before.received) / windowSec),
    eventsPerSec: round(events / windowSec),
    admits,
    denials,
    rttMs: {
      n: rtt.length,
      p50: round(percentile(rtt, 50), 2),
      p99: round(percentile(rtt, 99), 2),
      max: round(rtt.at(-1) ?? null, 2),
    },
    rssMb: {
      simulator: round(simRss / 2 ** 20),
      perGate: round(simRss / 2 ** 20 / opts.gates, 2),
      mosquitto: broker ? round((rssOf(broker.pid) ?? 0) / 2 ** 20) : null,
    },
    rejected: ops.fleet.counts.rejected,
  };
}

/** Writes the report to stdout: one JSON line with --json, else a Markdown table. */
export function print(opts, r) {
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  const rows = [
    ['gates (worker processes)', `${r.gates} (${r.workers})`],
    [
      'time until every gate is online',
      `${r.connectSec} s${r.allOnline ? '' : ' (not all came online)'}`,
    ],
    ['scanning window', `${r.windowSec} s, ${r.scansFed} scans fed`],
    ['messages received by operations', `${r.messagesPerSec} /s (events ${r.eventsPerSec} /s)`],
    [
      'admits / denials (last hour)',
      `${r.admits} / ${
        Object.entries(r.denials)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') || 0
      }`,
    ],
    [
      'broker round trip p50 / p99 / max',
      `${r.rttMs.p50} / ${r.rttMs.p99} / ${r.rttMs.max} ms (${r.rttMs.n} probes, QoS 1)`,
    ],
    ['RSS simulator (per gate)', `${r.rssMb.simulator} MB (${r.rssMb.perGate} MB)`],
    ['RSS mosquitto', r.rssMb.mosquitto === null ? 'external broker' : `${r.rssMb.mosquitto} MB`],
    ['gates offline after a clean stop', String(r.offlineAfterStop)],
  ];
  process.stdout.write(
    `\n| figure | value |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}\n`,
  );
}
