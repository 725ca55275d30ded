import type { FleetState } from './fleet-state.js';
import type { GateRecord } from './gate-record.js';

/** Columns of the table, with their widths in characters. */
const COLUMNS: [string, number][] = [
  ['GATE', 22],
  ['STATE', 16],
  ['LAST EVENT', 30],
  ['AGE', 6],
  ['OUTBOX', 7],
  ['1H ADMIT/DENY', 14],
  ['ALARMS', 0],
];

/** `42s`, `7m`, `3h`, `2d`: how long ago, at a glance. */
export function formatAge(ms: number): string {
  const sec = Math.max(0, Math.floor(ms / 1000));
  if (sec < 60) return `${sec}s`;
  if (sec < 3600) return `${Math.floor(sec / 60)}m`;
  if (sec < 86_400) return `${Math.floor(sec / 3600)}h`;
  return `${Math.floor(sec / 86_400)}d`;
}

/** One row per gate, fixed-width, for the in-place terminal view. */
export function gateRow(g: GateRecord, nowMs: number): string {
  const session = g.session === undefined ? '' : ` #${g.session}`;
  const last = g.lastEvent;
  const event = last === undefined ? '-' : `${last.type}${last.reason ? ` ${last.reason}` : ''}`;
  const age = last === undefined ? '-' : formatAge(nowMs - last.ts);
  const hour = g.hour.totals(nowMs);
  const denials = Object.values(hour.denials).reduce((a, b) => a + b, 0);
  const alarms = g.openAlarms(nowMs);
  const cells = [
    g.key,
    `${g.state}${session}`,
    event,
    age,
    g.outboxDepth === undefined ? '-' : String(g.outboxDepth),
    `${hour.admits}/${denials}`,
    alarms.length === 0 ? '-' : alarms.join(','),
  ];
  return cells.map((cell, i) => pad(cell, COLUMNS[i]?.[1] ?? 0)).join(' ');
}

/**
 * The whole screen: a header with totals, then one row per gate (at most `maxRows`, with a
 * line saying how many more there are).
 */
export function renderFleet(
  fleet: FleetState,
  nowMs: number,
  header: string,
  maxRows = Number.POSITIVE_INFINITY,
): string[] {
  const gates = fleet.list();
  const by = (state: string) => gates.filter((g) => g.state === state).length;
  const totals = `${gates.length} gates: ${by('online')} online, ${by('degraded')} degraded, ${by('lost')} lost, ${by('offline')} offline`;
  const bad = fleet.counts.rejected + fleet.counts.dropped;
  const lines = [header, `${totals}${bad > 0 ? ` (${bad} messages ignored)` : ''}`, ''];
  lines.push(COLUMNS.map(([name, width]) => pad(name, width)).join(' '));
  const shown = gates.slice(0, Math.max(0, maxRows));
  for (const g of shown) lines.push(gateRow(g, nowMs));
  if (shown.length < gates.length) lines.push(`… and ${gates.length - shown.length} more gates`);
  return lines;
}

function pad(text: string, width: number): string {
  if (width === 0) return text;
  return text.length >= width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
}
