// The figures of a bench run, from the modules' results, and the Markdown table of them.

/** Why a module has no figures, or undefined when it has. */
function missingOf(m) {
  if (m === undefined) return 'not measured (not run)';
  if (m.notMeasured !== undefined) return m.notMeasured;
  if (m.error !== undefined) return `not measured (failed: ${m.error.slice(0, 120)})`;
  if (m.measured === false) return m.reason;
  return undefined;
}

/** `pick(m)` when module `m` has figures, else `{ notMeasured: reason }`. */
function from(m, pick) {
  const missing = missingOf(m);
  return missing === undefined ? pick(m) : { notMeasured: missing };
}

/**
 * The figures the issue asks for, one key each; every value holds numbers or `notMeasured`.
 * Times are ms or µs as the key says, memory in bytes, rates per second.
 */
export function figuresOf(modules) {
  const { token, decision, footprint, revocations } = modules;
  const latency = modules['scan-latency'];
  const variant = (format, alg) => token.results.find((r) => r.format === format && r.alg === alg);
  const perToken = (pick) =>
    from(token, () => ({
      rp1EdDSA: pick(variant('RP1', 'EdDSA')),
      rp1ES256: pick(variant('RP1', 'ES256')),
      jwtEdDSA: pick(variant('JWT (jose)', 'EdDSA')),
      jwtES256: pick(variant('JWT (jose)', 'ES256')),
    }));
  return {
    scanToRelayIdleMs: from(latency, (m) => m.idleMs),
    scanToRelayDrainingMs: from(latency, (m) => m.drainingMs),
    decisionMs: from(decision, (m) => m.totalMs),
    decisionVerifyMs: from(decision, (m) => m.verifyMs),
    decisionPolicyMs: from(decision, (m) => m.policyMs),
    decisionJournalMs: from(decision, (m) => m.journalMs),
    verificationsPerSec: perToken((v) => v.verificationsPerSec),
    verifyUs: perToken((v) => v.verifyUs),
    ratioRp1ToJwt: from(token, (m) => m.ratioRp1ToJwt),
    tokenChars: perToken((v) => v.chars),
    qrVersion: perToken((v) => v.qrVersion),
    rssAfterStartBytes: from(footprint, (m) => m.rssAfterStartBytes),
    rssAfterScansBytes: from(footprint, (m) => ({ bytes: m.rssAfterScansBytes, scans: m.scans })),
    rssWithRevocationsBytes: from(revocations, (m) => ({ bytes: m.rssBytes, entries: m.entries })),
    startToReadyMs: from(footprint, (m) => m.readyMs),
    revocationLookupUs: from(revocations, (m) => ({
      p50: m.lookupP50Us,
      p99: m.lookupP99Us,
      entries: m.entries,
    })),
    outboxDrainPerSec: from(latency, (m) => ({
      eventsPerSec: m.drain.eventsPerSec,
      backlog: m.drain.backlog,
    })),
  };
}

const n = (value, digits = 0) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ms = (v) => `${n(v, v < 10 ? 2 : 1)} ms`;
const mib = (bytes) => `${n(bytes / 1_048_576, 1)} MiB`;

/** One table row: [#, figure, median, p99, samples, note]; a missing figure says why. */
function row(no, label, figure, cells) {
  if (figure.notMeasured !== undefined) return [no, label, figure.notMeasured, '–', '–', ''];
  return [no, label, ...cells(figure)];
}

function rows(f) {
  const dist = (fig, note) => [ms(fig.p50), ms(fig.p99), n(fig.samples), note];
  const tokenRow = (key, label) =>
    row(3, `${label} verifications/s`, f.verificationsPerSec, (v) => [
      `${n(v[key])}/s`,
      `${n(f.verifyUs[key].p99)} µs per verification`,
      n(f.verifyUs[key].samples),
      `batches of 20; median time ${n(f.verifyUs[key].p50, 1)} µs`,
    ]);
  const qr = (key, label) =>
    row(4, `QR version, ${label}`, f.qrVersion, (v) => [
      `L ${v[key].L} · M ${v[key].M} · Q ${v[key].Q}`,
      '–',
      '–',
      `${f.tokenChars[key]} characters`,
    ]);
  return [
    row(1, 'Scan-to-relay latency, idle', f.scanToRelayIdleMs, (v) =>
      dist(v, 'last byte written to the pty → GPIO value 1; mosquitto connected'),
    ),
    row(1, 'Scan-to-relay latency, backlog draining', f.scanToRelayDrainingMs, (v) =>
      dist(v, `while ${n(v.backlog)} queued events drain at up to 10,000/s`),
    ),
    row(2, 'Decision per scan (verify + policy + journal)', f.decisionMs, (v) =>
      dist(v, 'GateController on SQLite, until the relay is told to open'),
    ),
    row(2, '… verification', f.decisionVerifyMs, (v) => dist(v, 'token checks and signature')),
    row(2, '… policy lookups', f.decisionPolicyMs, (v) => dist(v, 'revocation and replay')),
    row(2, '… durable journal write', f.decisionJournalMs, (v) =>
      dist(v, 'SQLite WAL, synchronous'),
    ),
    tokenRow('rp1EdDSA', 'RP1 EdDSA'),
    tokenRow('rp1ES256', 'RP1 ES256'),
    tokenRow('jwtEdDSA', 'JWT EdDSA (jose)'),
    tokenRow('jwtES256', 'JWT ES256 (jose)'),
    row(3, 'RP1 / JWT verifications per second', f.ratioRp1ToJwt, (v) => [
      `EdDSA ${v.EdDSA}× · ES256 ${v.ES256}×`,
      '–',
      '–',
      'same claims, same key, same run',
    ]),
    qr('rp1EdDSA', 'RP1 EdDSA'),
    qr('rp1ES256', 'RP1 ES256'),
    qr('jwtEdDSA', 'JWT EdDSA'),
    qr('jwtES256', 'JWT ES256'),
    row(5, 'Resident memory after start', f.rssAfterStartBytes, (v) => [
      mib(v.p50),
      mib(v.p99),
      n(v.samples),
      'daemon RSS once ready, over the starts of figure 6',
    ]),
    row(5, 'Resident memory after scans', f.rssAfterScansBytes, (v) => [
      mib(v.bytes),
      '–',
      '1',
      `after ${n(v.scans)} valid scans through the pty`,
    ]),
    row(5, 'Resident memory, revocations loaded', f.rssWithRevocationsBytes, (v) => [
      mib(v.bytes),
      '–',
      '1',
      `${n(v.entries)} revocations`,
    ]),
    row(6, 'Process start to ready', f.startToReadyMs, (v) =>
      dist(v, 'spawn → retained status online seen by a subscriber'),
    ),
    row(7, 'Revocation lookup', f.revocationLookupUs, (v) => [
      `${n(v.p50, 2)} µs`,
      `${n(v.p99, 2)} µs`,
      '–',
      `${n(v.entries)} entries`,
    ]),
    row(7, 'Outbox drain rate', f.outboxDrainPerSec, (v) => [
      `${n(v.eventsPerSec)} events/s`,
      '–',
      '–',
      `${n(v.backlog)} events to mosquitto, mqtt.drainPerSec 10,000`,
    ]),
  ];
}

/** The Markdown page of a run: machine line, then the table. */
export function markdown(report) {
  const m = report.machine;
  const lines = [
    `Measured ${report.date.slice(0, 16).replace('T', ' ')} UTC (${report.mode} run, ${report.durationSec} s) ` +
      `on ${m.cpu}, ${m.cores} cores, ${n(m.ramBytes / 1_073_741_824, 1)} GiB RAM, ${m.platform}, Node.js ${m.node}; ` +
      `load average ${m.loadAvg1mBefore} before, ${m.loadAvg1mAfter} after.`,
    '',
    '| # | figure | median | p99 | samples | how |',
    '|---|---|---:|---:|---:|---|',
    ...rows(report.figures).map((r) => `| ${r.join(' | ')} |`),
    '',
  ];
  return lines.join('\n');
}
