import { createRequire } from 'node:module';
import { isatty } from 'node:tty';
import { type DestinationStream, type Logger, pino } from 'pino';
import type { PrettyOptions } from 'pino-pretty';

export type { Logger };

/**
 * How log lines are written: `json` (one pino JSON object a line, for journald and log
 * shippers), `pretty` (readable, coloured, for a technician at a terminal) or `auto` (pretty
 * when the destination is a terminal, JSON otherwise, e.g. under systemd).
 */
export type LogFormat = 'auto' | 'json' | 'pretty';

/**
 * Field names whose values are never written to a log, at any depth up to
 * {@link REDACT_DEPTH}: raw token text (`text`, `token`, `rawToken`), keys (`key`,
 * `privateKey`, and the private members of a JWK: `d` of an EC/OKP key, `k` of a symmetric
 * one), passwords and secrets. Log the token id (`cti`) or a short hash instead.
 */
export const SECRET_FIELDS = [
  'text',
  'token',
  'rawToken',
  'key',
  'privateKey',
  'password',
  'passphrase',
  'secret',
  'd',
  'k',
] as const;

/**
 * How deep a secret field is still found: `{ a: { b: [{ jwk: { d } }] } }` is depth 4.
 * pino's redaction has no recursive wildcard, so each depth is one path.
 */
const REDACT_DEPTH = 6;

/** The pino redaction paths: each secret field at the top level and under 1…6 wildcards. */
export const REDACT_PATHS: string[] = Array.from({ length: REDACT_DEPTH + 1 }, (_, depth) =>
  SECRET_FIELDS.map((field) => `${'*.'.repeat(depth)}${field}`),
).flat();

/**
 * Creates the one root logger of the process. Components take `root.child({ component })`.
 * @param level pino level name; `silent` turns logging off.
 * @param destination file descriptor to write to (default 1, stdout).
 * @param format `json` (default), `pretty`, or `auto`: pretty when `destination` is a terminal.
 */
export function createLogger(level = 'info', destination = 1, format: LogFormat = 'json'): Logger {
  const options = {
    level,
    base: { app: 'ridergate' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return pino(options, openDestination(destination, format));
}

/** True when `format` asks for readable lines on `destination`. */
export function wantsPretty(format: LogFormat, destination: number): boolean {
  return format === 'pretty' || (format === 'auto' && isatty(destination));
}

function openDestination(destination: number, format: LogFormat): DestinationStream {
  if (!wantsPretty(format, destination))
    return pino.destination({ dest: destination, sync: false });
  // Formatted in-process (no worker thread) and written synchronously: a terminal run is a
  // technician watching, and a line lost at a crash is the one they needed. Loaded only here,
  // so the service (JSON to journald) does not pay for it at every start.
  const require = createRequire(import.meta.url);
  const pinoPretty = require('pino-pretty') as (options: PrettyOptions) => DestinationStream;
  return pinoPretty({
    destination,
    sync: true,
    colorize: isatty(destination),
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,app',
  });
}

/** A logger that writes nothing, for tests and tools. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
