import type { DemoCase } from './demo-cases.js';
import type { PtyPair } from './pty-pair.js';
import type { CaseResult } from './run-case.js';

type Out = (line: string) => void;

const ms = (value: number) => `${value.toFixed(1)} ms`;

export function printHeader(
  out: Out,
  h: {
    dir: string;
    brokerUrl: string;
    pty: PtyPair | undefined;
    prefix: string;
    site: string;
    gate: string;
  },
): void {
  out('ridergate demo: the whole gate on this machine');
  out(
    `  broker     embedded aedes at ${h.brokerUrl}; operations subscribe to ${h.prefix}/${h.site}/${h.gate}/#`,
  );
  out(
    h.pty === undefined
      ? '  scanner    SIMULATED: socat is not installed, so scans go through the simulated scanner (apt-get install socat for a real serial line)'
      : `  scanner    serial driver on a pseudo-terminal (socat): the gate reads ${h.pty.gatePath}`,
  );
  out('  relay      simulated driver (no GPIO here): movements are timed from the last byte sent');
  out(
    '  trust      a trust list naming the issuer demo-eats, signed by the fleet root key (trust.jws)',
  );
  out(`  files      keys, trust list, QR images, database and gate.log in ${h.dir}`);
  out('');
}

export function printCase(out: Out, n: number, total: number, c: DemoCase, r: CaseResult): void {
  out(`[${n}/${total}] ${c.name}: ${c.why}`);
  out(
    `  qr        version ${r.qr.version}-M, ${r.qr.modules}x${r.qr.modules} modules, ${r.qr.file.split('/').at(-1)}; ` +
      `decoded back with jsqr: ${r.qr.decodedChars} chars, ${r.qr.identical ? 'identical' : 'DIFFERENT'}`,
  );
  if (r.event === undefined) out('  decision  none');
  else {
    const reason = r.event.reason === undefined ? '' : ` (${r.event.reason})`;
    out(
      `  decision  ${r.event.type}${reason}, decided in ${ms(r.decisionMs ?? 0)}, ${r.event.seq === undefined ? 'held in memory (store unavailable)' : `journaled as seq ${r.event.seq}`}`,
    );
  }
  if (r.relay.length === 0) out('  relay     did not move');
  for (const p of r.relay) {
    out(
      `  relay     active at +${ms(p.activeAtMs)}, inactive at +${ms(p.inactiveAtMs)} (${ms(p.inactiveAtMs - p.activeAtMs)} pulse)`,
    );
  }
  if (r.ops === undefined) out('  ops       nothing received');
  else out(`  ops       +${ms(r.opsAtMs ?? 0)} ${r.ops.topic} ${r.ops.payload}`);
  out(r.ok ? '  result    as expected' : `  result    WRONG: ${r.problems.join('; ')}`);
  out('');
}

export function printClosing(
  out: Out,
  s: { passed: number; total: number; offline: boolean; dir: string; allOk: boolean },
): void {
  out(
    `status    ${s.offline ? 'operations saw the retained status go "offline" at the clean stop' : 'operations did NOT see the "offline" status'}`,
  );
  out(
    `summary   ${s.passed} of ${s.total} scans behaved as expected: ${s.allOk ? 'OK' : 'FAILED'}`,
  );
  out(`files     ${s.dir}`);
}
