import type { JournalRow } from '../store/journal-reader.js';

export type EventFormat = 'table' | 'csv' | 'json';

/** Turns journal rows into text one at a time, so an export of any length streams. */
export interface EventFormatter {
  head(): string;
  row(row: JournalRow, index: number): string;
  tail(count: number): string;
}

const CSV_COLUMNS = [
  'id',
  'seq',
  'time',
  'type',
  'reason',
  'iss',
  'sub',
  'cti',
  'decision_us',
  'clock',
  'delivered',
  'set_aside',
] as const;

/** The formatter for `format`. */
export function eventFormatter(format: EventFormat): EventFormatter {
  if (format === 'csv') return csvFormatter();
  if (format === 'json') return jsonFormatter();
  return tableFormatter();
}

function fields(row: JournalRow): Record<(typeof CSV_COLUMNS)[number], string> {
  const e = row.event;
  return {
    id: e.id,
    seq: String(e.seq),
    time: new Date(e.ts).toISOString(),
    type: e.type,
    reason: e.reason ?? '',
    iss: e.iss ?? '',
    sub: e.sub ?? '',
    cti: e.cti ?? '',
    decision_us: e.decisionUs === undefined ? '' : String(e.decisionUs),
    clock: e.clock,
    delivered: row.deliveredAt === undefined ? '' : new Date(row.deliveredAt).toISOString(),
    set_aside: row.setAside?.kind ?? '',
  };
}

/** The JSON form of a set-aside state: times in ms, like `deliveredAt`. */
function setAsideJson(row: JournalRow): Record<string, unknown> | undefined {
  const aside = row.setAside;
  if (aside === undefined) return undefined;
  return {
    kind: aside.kind,
    at: aside.atMs,
    retries: aside.retries,
    ...(aside.retryAtMs === undefined ? {} : { nextRetryAt: aside.retryAtMs }),
  };
}

/** ` [set aside: suspected, next retry …]` after a table row; empty for other events. */
function setAsideNote(row: JournalRow): string {
  const aside = row.setAside;
  if (aside === undefined) return '';
  if (aside.kind === 'refused') return ' [set aside: refused, over mqtt.maxEventBytes]';
  const next = aside.retryAtMs === undefined ? 'due' : new Date(aside.retryAtMs).toISOString();
  return ` [set aside: suspected, next retry ${next}]`;
}

/**
 * A CSV field for a spreadsheet. Text from a token (issuer, rider, token id) is the issuer's to
 * choose, so it is defused first: control characters become `?` (an ESC sequence would drive
 * the terminal of whoever prints the file), and a field that a spreadsheet would read as a
 * formula (`=`, `+`, `-`, `@`, tab or CR first) gets a leading `'` (OWASP's CSV injection rule).
 * Then RFC 4180: quoted when it holds a comma, quote or line break, inner quotes doubled.
 * `--format json` keeps every value exactly.
 */
function csvField(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing them is the point
  const printable = value.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${printable}` : printable;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

function csvFormatter(): EventFormatter {
  return {
    head: () => `${CSV_COLUMNS.join(',')}\r\n`,
    row: (row) => {
      const f = fields(row);
      return `${CSV_COLUMNS.map((c) => csvField(f[c])).join(',')}\r\n`;
    },
    tail: () => '',
  };
}

function jsonFormatter(): EventFormatter {
  return {
    head: () => '[',
    row: (row, index) => {
      const setAside = setAsideJson(row);
      const item = {
        ...row.event,
        ...(row.deliveredAt === undefined ? {} : { deliveredAt: row.deliveredAt }),
        ...(setAside === undefined ? {} : { setAside }),
      };
      return `${index === 0 ? '\n' : ',\n'}${JSON.stringify(item)}`;
    },
    tail: (count) => (count === 0 ? ']\n' : '\n]\n'),
  };
}

/** Printable in a terminal: control characters of a field are shown as `?`. */
function cell(value: string, width: number): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping them is the point
  const clean = value.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '?');
  return clean.length > width ? `${clean.slice(0, width - 1)}…` : clean.padEnd(width);
}

function tableFormatter(): EventFormatter {
  const widths = { time: 24, seq: 8, type: 11, reason: 17, iss: 14, sub: 18, cti: 16 };
  let setAside = 0;
  return {
    head: () =>
      `${cell('time (UTC)', widths.time)} ${cell('seq', widths.seq)} ${cell('type', widths.type)} ${cell('reason', widths.reason)} ${cell('issuer', widths.iss)} ${cell('rider', widths.sub)} ${cell('token', widths.cti)}\n`,
    row: (row) => {
      const f = fields(row);
      if (row.setAside !== undefined) setAside += 1;
      return `${cell(f.time, widths.time)} ${cell(f.seq, widths.seq)} ${cell(f.type, widths.type)} ${cell(f.reason, widths.reason)} ${cell(f.iss, widths.iss)} ${cell(f.sub, widths.sub)} ${cell(f.cti, widths.cti)}${setAsideNote(row)}\n`;
    },
    tail: (count) => {
      const events = `${count} event${count === 1 ? '' : 's'}`;
      if (setAside === 0) return `${events}\n`;
      return `${events}, ${setAside} set aside (not delivered to operations yet: see ridergate events requeue)\n`;
    },
  };
}
