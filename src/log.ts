import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * Paths never written to a log: raw token text, keys and passwords.
 * Log the token id (`cti`) or a short hash instead.
 */
const REDACT_PATHS = ['text', 'token', 'key', 'privateKey', 'password', '*.password', 'd'];

/**
 * Creates the one root logger of the process. Components take `root.child({ component })`.
 * @param level pino level name; `silent` turns logging off.
 * @param destination file descriptor to write to (default 1, stdout).
 */
export function createLogger(level = 'info', destination = 1): Logger {
  return pino(
    {
      level,
      base: { app: 'ridergate' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ dest: destination, sync: false }),
  );
}

/** A logger that writes nothing, for tests and tools. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
