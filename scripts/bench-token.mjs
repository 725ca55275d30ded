#!/usr/bin/env node
// Verifications per second of RP1 tokens against a JWT carrying the same claims, verified
// with jose, on the same machine in the same run; and the QR version each needs at levels
// L, M and Q. The measurement is scripts/bench/token.mjs (also part of `npm run bench`).
// Runs the built code: `npm run build` first.
//
//   node scripts/bench-token.mjs          full run, about 20 s
//   node scripts/bench-token.mjs --short  quick run for CI, under 5 s (or BENCH_SHORT=1)
//
// Prints a Markdown table and writes bench/token.json.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isShort, machine, root } from './bench/lib.mjs';
import { run } from './bench/token.mjs';

const short = isShort();
const result = await run({ short });
const host = machine();
const report = {
  date: new Date().toISOString(),
  ...host,
  mode: short ? 'short' : 'full',
  ...result,
};
mkdirSync(join(root, 'bench'), { recursive: true });
writeFileSync(join(root, 'bench', 'token.json'), `${JSON.stringify(report, null, 2)}\n`);

const rows = result.results.map(
  (r) =>
    `| ${r.format} | ${r.alg} | ${r.chars} | ${r.verificationsPerSec.toLocaleString('en-US')} | ${r.verifyUs.p99} | ${r.qrVersion.L} | ${r.qrVersion.M} | ${r.qrVersion.Q} |`,
);
const { EdDSA, ES256 } = result.ratioRp1ToJwt;
process.stdout.write(
  [
    `Token verification on ${host.cpu}, Node ${host.node} (${report.mode} run, ${result.plan.rounds} rounds)`,
    '',
    '| token | alg | characters | verifications/s (median) | p99 µs | QR version L | QR version M | QR version Q |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    `RP1 / JWT verifications per second: EdDSA ${EdDSA}×, ES256 ${ES256}×`,
    'written to bench/token.json',
    '',
  ].join('\n'),
);
