import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScanOutcome } from '../../gate/gate-controller.js';
import type { JournaledEvent } from '../../gate/resilient-journal.js';
import type { RelayChange, SimRelay } from '../../gpio/sim-relay.js';
import { decodeQrPng, renderQr } from '../qr-image.js';
import type { DemoCase } from './demo-cases.js';
import type { OpsMessage, OpsSubscriber } from './ops-subscriber.js';

/** What one demo scan did, as the reader sees it. Times are ms after the last byte was sent. */
export interface CaseResult {
  ok: boolean;
  problems: string[];
  qr: { file: string; version: number; modules: number; decodedChars: number; identical: boolean };
  event?: JournaledEvent;
  decisionMs?: number;
  relay: { activeAtMs: number; inactiveAtMs: number }[];
  ops?: OpsMessage;
  opsAtMs?: number;
}

export interface CaseContext {
  dir: string;
  feed: (bytes: Buffer) => void;
  outcomes: () => Promise<ScanOutcome | undefined>;
  ops: OpsSubscriber;
  relay: SimRelay;
}

/**
 * Runs one case: render its QR image, decode it back as a camera reader would, send the text
 * to the scanner, then check the decision, the relay and the event operations received.
 */
export async function checkCase(c: DemoCase, index: number, ctx: CaseContext): Promise<CaseResult> {
  const image = await renderQr(c.text, 'M');
  const file = join(
    ctx.dir,
    `${String(index + 1).padStart(2, '0')}-${c.name.replaceAll(/[^a-z0-9]+/gi, '-')}.png`,
  );
  writeFileSync(file, image.png);
  const decoded = decodeQrPng(image.png);
  const qr = {
    file,
    version: image.version,
    modules: image.modules,
    decodedChars: decoded?.length ?? 0,
    identical: decoded === c.text,
  };

  const relayBefore = ctx.relay.changes.length;
  const sentMono = performance.now();
  ctx.feed(Buffer.from(`${decoded ?? ''}\r\n`, 'utf8'));
  const outcome = await ctx.outcomes();
  const event = outcome?.event;
  const ops =
    event === undefined
      ? undefined
      : await ctx.ops.waitFor(
          (m) => m.topic.endsWith('/events') && m.payload.includes(event.id),
          5000,
        );

  const relay = pairChanges(ctx.relay.changes.slice(relayBefore), sentMono);
  const result: CaseResult = {
    ok: false,
    problems: [],
    qr,
    relay,
    ...(event === undefined ? {} : { event, decisionMs: (event.decisionUs ?? 0) / 1000 }),
    ...(ops === undefined ? {} : { ops, opsAtMs: ops.mono - sentMono }),
  };
  result.problems = findProblems(c, result);
  result.ok = result.problems.length === 0;
  return result;
}

function pairChanges(changes: RelayChange[], originMono: number): CaseResult['relay'] {
  const pulses: CaseResult['relay'] = [];
  for (const change of changes) {
    if (change.active)
      pulses.push({ activeAtMs: change.mono - originMono, inactiveAtMs: Number.NaN });
    else {
      const last = pulses.at(-1);
      if (last !== undefined && Number.isNaN(last.inactiveAtMs))
        last.inactiveAtMs = change.mono - originMono;
    }
  }
  return pulses;
}

function findProblems(c: DemoCase, r: CaseResult): string[] {
  const problems: string[] = [];
  if (!r.qr.identical) problems.push('the QR image did not decode back to the same text');
  if (r.event === undefined) problems.push('the gate made no decision within 5 s');
  else if (r.event.type !== c.expect.type || r.event.reason !== c.expect.reason) {
    problems.push(
      `expected ${c.expect.type}${c.expect.reason ? ` (${c.expect.reason})` : ''}, got ${r.event.type}${r.event.reason ? ` (${r.event.reason})` : ''}`,
    );
  }
  const shouldOpen = c.expect.type !== 'deny';
  if (shouldOpen && r.relay.length !== 1)
    problems.push(`expected one relay pulse, saw ${r.relay.length}`);
  if (!shouldOpen && r.relay.length > 0) problems.push('the relay moved for a denied scan');
  if (r.event !== undefined && r.ops === undefined)
    problems.push('operations did not receive the event within 5 s');
  return problems;
}
