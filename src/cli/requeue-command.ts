import type { Command } from 'commander';
import { loadConfigSection } from '../config/load.js';
import { RidergateError } from '../errors.js';
import {
  type RequeueResult,
  type RequeueSelection,
  requeueSetAside,
} from '../store/aside-requeue.js';
import { parseWholeFlag } from './whole-number.js';

interface RequeueFlags {
  all?: boolean;
  seq?: string;
}

/** Options of `events` that only mean something to the listing. */
const LISTING_OPTIONS = ['since', 'until', 'type', 'sub', 'setAside', 'format'] as const;

/**
 * `ridergate events requeue --all | --seq N`: set-aside suspected events are retried at once,
 * their backoff started afresh. It writes one short transaction to the store, which is safe
 * beside the running gate (SQLite WAL takes a second writer); the gate reads the schedule from
 * the store at each sweep. Takes `--config` and `--store` from `events`.
 */
export function registerRequeueCommand(events: Command): void {
  events
    .command('requeue')
    .description(
      "retry set-aside events now: suspected ones go at the gate's next sweep (within a minute " +
        'while connected, or at its next start); safe while the gate runs',
    )
    .option('--all', 'every set-aside event')
    .option('--seq <n>', 'the set-aside event with this seq')
    .addHelpText(
      'after',
      '\nThe store is the one of `events`: -c/--config FILE (store.path) or --store DB, e.g.\n' +
        '  ridergate events requeue --all --store /var/lib/ridergate/gate.db\n' +
        "A store written by an older ridergate is brought up to this version's schema first, as\n" +
        'the gate does at start.',
    )
    .action(async (flags: RequeueFlags, command: Command) => {
      const parent = command.parent ?? events;
      refuseListingOptions(parent);
      const selection = parseSelection(flags);
      const { config, store } = parent.opts<{ config: string; store?: string }>();
      const path = store ?? loadConfigSection(config, 'store').path;
      const result = await requeueSetAside(path, selection, Date.now());
      process.stdout.write(report(result));
      const problem = seqProblem(selection, result);
      if (problem !== undefined) {
        process.stderr.write(`ridergate: ${problem}\n`);
        process.exitCode = 1;
      }
    });
}

function refuseListingOptions(events: Command): void {
  const given = LISTING_OPTIONS.filter((name) => events.getOptionValueSource(name) === 'cli');
  if (given.length > 0) {
    throw new RidergateError(
      'usage',
      `events requeue: ${given.map(flagName).join(', ')} ${given.length === 1 ? 'applies' : 'apply'} only to the listing`,
    );
  }
}

function flagName(option: string): string {
  return `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function parseSelection(flags: RequeueFlags): RequeueSelection {
  if ((flags.all === true) === (flags.seq !== undefined)) {
    throw new RidergateError('usage', 'events requeue: give either --all or --seq N');
  }
  if (flags.all === true) return { all: true };
  return { seq: parseWholeFlag('--seq', flags.seq ?? '', 1, Number.MAX_SAFE_INTEGER) };
}

/** What was done, in lines for people. */
function report(result: RequeueResult): string {
  const lines: string[] = [];
  const { requeued, refused } = result;
  if (requeued.length > 0) {
    lines.push(
      `requeued ${plural(requeued.length, 'suspected event')} (seq ${requeued.map((e) => e.seq).join(', ')}): ` +
        'a running gate retries them one at a time once its outbox is empty, at its next sweep ' +
        '(within a minute while connected); a stopped gate once it is started',
    );
  }
  for (const { event, bytes } of refused) {
    lines.push(
      `seq ${event.seq} stays aside: refused, ${bytes} bytes as published; raise ` +
        "mqtt.maxEventBytes to at least that (and the broker's limit) and restart the gate: " +
        'it retries refused events that fit at start',
    );
  }
  if (requeued.length === 0 && refused.length === 0 && result.notSetAside === undefined) {
    lines.push('no set-aside events');
  }
  return lines.map((line) => `${line}\n`).join('');
}

/** Why a selection by seq did not requeue that event, if it did not. */
function seqProblem(selection: RequeueSelection, result: RequeueResult): string | undefined {
  if ('all' in selection) return undefined;
  const seq = selection.seq;
  switch (result.notSetAside) {
    case 'delivered':
      return `event seq ${seq} is not set aside: it was delivered`;
    case 'in_outbox':
      return `event seq ${seq} is not set aside: it is in the outbox, waiting for delivery`;
    case 'unknown':
      return `event seq ${seq} is not in the journal (never recorded, or pruned)`;
    default:
      return result.refused.length > 0 ? `event seq ${seq} was not requeued` : undefined;
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
