import type { Command } from 'commander';
import { DEFAULT_CONFIG_PATH, loadConfigSection } from '../config/load.js';
import { RidergateError } from '../errors.js';
import type { EventType } from '../event.js';
import { type JournalFilter, readJournal } from '../store/journal-reader.js';
import { type EventFormat, eventFormatter } from './event-format.js';
import { registerRequeueCommand } from './requeue-command.js';

const EVENT_TYPES: readonly EventType[] = [
  'admit',
  'deny',
  'reopen',
  'remote_open',
  'manual_open',
  'alarm',
  'boot',
];
const FORMATS: readonly EventFormat[] = ['table', 'csv', 'json'];

interface EventsFlags {
  config: string;
  store?: string;
  since?: string;
  until?: string;
  type?: string;
  sub?: string;
  setAside?: boolean;
  format: string;
}

export function registerEventsCommand(program: Command): void {
  const events = program
    .command('events')
    .description(
      "list or export the gate's journal: the visitor register (the listing is read-only, safe while the gate runs)",
    )
    .option('-c, --config <file>', 'configuration file (for store.path)', DEFAULT_CONFIG_PATH)
    .option('--store <file>', 'read this database instead of the configured one')
    .option(
      '--since <time>',
      'from this time on: ISO 8601 (2026-12-01, 2026-12-01T08:00:00Z) or epoch seconds',
    )
    .option('--until <time>', 'before this time (same forms)')
    .option('--type <types>', `comma-separated event types: ${EVENT_TYPES.join(', ')}`)
    .option('--sub <rider>', "only this rider's events")
    .option('--set-aside', 'only events set aside, not yet delivered to operations (see requeue)')
    .option('--format <format>', 'table, csv or json', 'table')
    .action(async (flags: EventsFlags) => {
      const format = parseFormat(flags.format);
      const filter = parseFilter(flags);
      const path = flags.store ?? loadConfigSection(flags.config, 'store').path;
      const formatter = eventFormatter(format);
      const rows = readJournal(path, filter);
      try {
        // The first read opens the store: a missing or foreign file fails before any output,
        // so a failed export never leaves a header (or a lone `[`) behind in the file.
        let next = await rows.next();
        await write(formatter.head());
        let count = 0;
        while (next.done !== true) {
          await write(formatter.row(next.value, count));
          count += 1;
          next = await rows.next();
        }
        await write(formatter.tail(count));
      } finally {
        await rows.return(undefined);
      }
    });
  registerRequeueCommand(events);
}

/** Writes to stdout and waits when its buffer is full, so memory stays flat on a long export. */
function write(text: string): Promise<void> {
  if (text.length === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const fits = process.stdout.write(text, (err) => {
      if (err) reject(err);
    });
    if (fits) resolve();
    else process.stdout.once('drain', () => resolve());
  });
}

function parseFormat(value: string): EventFormat {
  if ((FORMATS as readonly string[]).includes(value)) return value as EventFormat;
  throw new RidergateError(
    'usage',
    `--format ${JSON.stringify(value)}: expected ${FORMATS.join(', ')}`,
  );
}

function parseFilter(flags: EventsFlags): JournalFilter {
  const filter: JournalFilter = {};
  if (flags.since !== undefined) filter.sinceMs = parseTime('--since', flags.since);
  if (flags.until !== undefined) filter.untilMs = parseTime('--until', flags.until);
  if (
    filter.sinceMs !== undefined &&
    filter.untilMs !== undefined &&
    filter.untilMs <= filter.sinceMs
  )
    throw new RidergateError(
      'usage',
      `--until ${flags.until} is not after --since ${flags.since}: no event could match; swap them?`,
    );
  if (flags.type !== undefined) filter.types = parseTypes(flags.type);
  if (flags.sub !== undefined) {
    if (flags.sub.length === 0 || flags.sub.length > 256)
      throw new RidergateError('usage', '--sub: expected 1 to 256 characters');
    filter.sub = flags.sub;
  }
  if (flags.setAside === true) filter.setAside = true;
  return filter;
}

/** ISO 8601 date or date-time, or whole epoch seconds, to ms. */
export function parseTime(flag: string, value: string): number {
  if (/^\d{1,11}$/.test(value)) return Number(value) * 1000;
  const ms = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)
    ? Date.parse(value)
    : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new RidergateError(
      'usage',
      `${flag} ${JSON.stringify(value)}: expected an ISO 8601 time (2026-12-01 or 2026-12-01T08:00:00Z) or epoch seconds`,
    );
  }
  return ms;
}

function parseTypes(value: string): EventType[] {
  const types = value.split(',').map((t) => t.trim());
  const unknown = types.filter((t) => !(EVENT_TYPES as readonly string[]).includes(t));
  if (unknown.length > 0 || types.length === 0) {
    throw new RidergateError(
      'usage',
      `--type ${JSON.stringify(value)}: expected a comma-separated list of ${EVENT_TYPES.join(', ')}`,
    );
  }
  return types as EventType[];
}
