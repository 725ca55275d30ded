import type { Command } from 'commander';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { RidergateError } from '../errors.js';
import { readBoundedFile } from '../files.js';
import { FleetState, type FleetUpdate } from '../fleet/fleet-state.js';
import { renderFleet } from '../fleet/terminal-view.js';
import { fleetFilters } from '../fleet/topic.js';
import { redactUrl } from '../link/client-options.js';
import { fleetTopics } from '../link/topics.js';
import { checkUrlFlag } from './ops-flags.js';
import { opsPassword, PASSWORD_FILE_HELP } from './ops-password.js';
import { parseWholeFlag } from './whole-number.js';

/** Shortest time between two redraws of the terminal view, ms. */
const REDRAW_MIN_MS = 250;
/** Redraw at least this often so ages stay current, ms. */
const REDRAW_IDLE_MS = 1000;

/** Options `watch` and `ops` share to reach the broker. */
export interface BrokerFlags {
  url: string;
  prefix: string;
  username?: string;
  passwordFile?: string;
  ca?: string;
}

interface WatchFlags extends BrokerFlags {
  maxGates: string;
}

export function registerWatchCommand(program: Command): void {
  program
    .command('watch')
    .description(
      'live view of every gate under the prefix: state, last event, alarms, outbox depth (one line per change when not on a terminal)',
    )
    .option('--url <url>', 'broker URL', 'mqtt://127.0.0.1:1883')
    .option('--prefix <prefix>', 'topic prefix', 'ridergate/v1')
    .option('--username <name>', 'broker user name')
    .option('--password-file <file>', PASSWORD_FILE_HELP)
    .option('--ca <file>', 'CA certificate (PEM) for mqtts://')
    .option('--max-gates <n>', 'most gates tracked', '2000')
    .action(async (flags: WatchFlags) => {
      const prefix = parsePrefix(flags.prefix);
      const fleet = new FleetState({
        prefix,
        maxGates: parseWholeFlag('--max-gates', flags.maxGates, 1, 100_000),
      });
      const client = connectOps(flags, 'watch');
      const view = process.stdout.isTTY ? new TerminalView(fleet, flags.url) : undefined;
      follow(client, fleet, view, { ...flags, prefix });
      await untilSignal();
      view?.close();
      await client.endAsync(true);
    });
}

/**
 * Wires the client to the fleet state and the output: the table on a terminal, else one line
 * per change. A broker error is printed once until it changes or the client connects again.
 */
function follow(
  client: MqttClient,
  fleet: FleetState,
  view: TerminalView | undefined,
  flags: WatchFlags,
): void {
  let lastError = '';
  client.on('connect', () => {
    lastError = '';
    if (view === undefined) say(`connected ${redactUrl(flags.url)}`);
    else view.connected(true);
    client.subscribe(fleetFilters(flags.prefix), { qos: 1 });
  });
  client.on('offline', () => (view === undefined ? say('disconnected') : view.connected(false)));
  client.on('error', (err) => {
    if (err.message === lastError) return;
    lastError = err.message;
    if (view === undefined) say(`broker error: ${err.message}`);
    else view.failed(err.message);
  });
  client.on('message', (topic, payload) => {
    const update = fleet.apply(topic, payload, Date.now());
    if (view === undefined) printUpdate(update, flags.maxGates);
    else view.schedule();
  });
}

/**
 * Builds an operations client: clean session, a random client id (several consoles may
 * watch at once), reconnecting every second.
 * @throws RidergateError `usage` for a bad URL or an unreadable password or CA file.
 */
export function connectOps(flags: BrokerFlags, role: string): MqttClient {
  checkUrlFlag(flags.url);
  const options: IClientOptions = {
    clientId: `ridergate-${role}-${Math.random().toString(16).slice(2, 10)}`,
    clean: true,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
  };
  if (flags.username !== undefined) options.username = flags.username;
  const password = opsPassword(flags.passwordFile);
  if (password !== undefined) options.password = password;
  if (flags.ca !== undefined)
    options.ca = readBoundedFile(flags.ca, { maxBytes: 65_536, code: 'usage', what: '--ca file' });
  return mqtt.connect(flags.url, options);
}

/** Resolves at SIGINT or SIGTERM. */
export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

/** Checks a `--prefix`: a topic prefix with no wildcard, NUL or final `/`. */
export function parsePrefix(value: string): string {
  try {
    fleetTopics(value);
  } catch {
    throw new RidergateError(
      'usage',
      `--prefix ${JSON.stringify(value)}: expected a topic prefix: non-empty text without + # or a final /`,
    );
  }
  return value;
}

const droppedShown = new Set<string>();

/** The line-per-change output for pipes: changes, rejected payloads, gates past the limit. */
function printUpdate(update: FleetUpdate, maxGates: string): void {
  if (update.kind === 'changed') say(update.line);
  else if (update.kind === 'rejected')
    say(`${update.site}/${update.gate} ${update.topic} rejected: ${update.error}`);
  else if (update.kind === 'full' && droppedShown.size < 100) {
    const key = `${update.site}/${update.gate}`;
    if (!droppedShown.has(key)) say(`${key} not shown: ${maxGates} gates already watched`);
    droppedShown.add(key);
  }
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** The in-place view on a terminal: redrawn at most every 250 ms, and every second. */
class TerminalView {
  private online = false;
  private error = '';
  private timer: NodeJS.Timeout | undefined;
  private lastDrawMs = 0;
  private readonly idle: NodeJS.Timeout;

  constructor(
    private readonly fleet: FleetState,
    private readonly url: string,
  ) {
    process.stdout.write('\x1b[2J\x1b[?25l');
    this.idle = setInterval(() => this.draw(), REDRAW_IDLE_MS);
    this.draw();
  }

  connected(online: boolean): void {
    this.online = online;
    if (online) this.error = '';
    this.schedule();
  }

  /** Shows a broker error (e.g. bad credentials) in the header until the next connection. */
  failed(message: string): void {
    this.error = message;
    this.schedule();
  }

  schedule(): void {
    if (this.timer !== undefined) return;
    const wait = Math.max(0, this.lastDrawMs + REDRAW_MIN_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.draw();
    }, wait);
  }

  close(): void {
    clearInterval(this.idle);
    clearTimeout(this.timer);
    process.stdout.write('\x1b[?25h\n');
  }

  private draw(): void {
    this.lastDrawMs = Date.now();
    const link = this.online ? 'connected' : `not connected${this.error ? ` (${this.error})` : ''}`;
    const header = `ridergate watch  ${redactUrl(this.url)}  ${link}  ${new Date().toISOString()}`;
    const rows = (process.stdout.rows || 40) - 6;
    const lines = renderFleet(this.fleet, Date.now(), header, rows);
    const width = process.stdout.columns || 120;
    const body = lines.map((line) => `${line.slice(0, width)}\x1b[K`).join('\n');
    process.stdout.write(`\x1b[H${body}\x1b[J`);
  }
}
