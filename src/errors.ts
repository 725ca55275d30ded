/**
 * The one error class of ridergate. Callers branch on `code`, never on message text.
 *
 * Codes:
 * - `config_invalid`: a configuration file or override failed validation.
 * - `config_unreadable`: a configuration file could not be read or parsed.
 * - `key_invalid`: a key file is missing, unreadable or not a usable key.
 * - `token_invalid`: a token could not be issued from the given claims.
 * - `trust_invalid`: the trust list is missing or malformed.
 * - `store_failed`: the SQLite store could not open, read or write.
 * - `gpio_failed`: a GPIO line could not be exported, configured or driven.
 * - `scanner_failed`: the scanner device could not be opened or read.
 * - `link_failed`: the MQTT link could not be set up.
 * - `revocation_invalid`: a revocation list (snapshot or delta) is malformed, too large or
 *   not signed by an operations key.
 * - `listen_failed`: a server could not listen on its address (port in use, no permission).
 * - `usage`: a command-line argument is missing or out of range.
 */
export type ErrorCode =
  | 'config_invalid'
  | 'config_unreadable'
  | 'key_invalid'
  | 'token_invalid'
  | 'trust_invalid'
  | 'store_failed'
  | 'gpio_failed'
  | 'scanner_failed'
  | 'link_failed'
  | 'revocation_invalid'
  | 'listen_failed'
  | 'usage';

export class RidergateError extends Error {
  readonly code: ErrorCode;
  readonly context: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; context?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RidergateError';
    this.code = code;
    this.context = options.context ?? {};
  }
}

/** True when `err` is a RidergateError, optionally with the given code. */
export function isRidergateError(err: unknown, code?: ErrorCode): err is RidergateError {
  return err instanceof RidergateError && (code === undefined || err.code === code);
}

/** A short, printable description of any thrown value. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
