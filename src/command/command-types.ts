/** The commands a gate carries out; see docs "Signed commands". */
export type CommandName = 'open' | 'revoke' | 'unrevoke' | 'maintenance' | 'reload' | 'selftest';

/** Every command name, in the order the docs list them. */
export const COMMAND_NAMES: readonly CommandName[] = [
  'open',
  'revoke',
  'unrevoke',
  'maintenance',
  'reload',
  'selftest',
];

/** The JWS `typ` of a signed command (RFC 8725 §3.11: explicit typing). */
export const COMMAND_JWS_TYPE = 'ridergate-cmd+jws';

/** Largest command payload read from the broker, bytes. */
export const MAX_COMMAND_BYTES = 8 * 1024;

/** Longest exp − iat of a command, seconds: bounds the table of jti already seen. */
export const MAX_COMMAND_LIFETIME_SEC = 3600;

/** `jti`: 8–64 characters of base64url's alphabet. */
export const JTI_PATTERN = '^[A-Za-z0-9_-]{8,64}$';

/** Why a command was refused or failed; the `error` of a result. */
export type CommandError =
  | 'malformed'
  | 'unknown_key'
  | 'bad_signature'
  | 'wrong_target'
  | 'expired'
  | 'not_yet_valid'
  | 'replayed_command'
  | 'retained'
  | 'too_large'
  | 'failed';

/** A revocation entry of a command or a list: a rider (`sub`) or one token (`cti`, hex). */
export interface RevocationEntry {
  iss: string;
  kind: 'sub' | 'cti';
  value: string;
  /** End of the revocation, seconds since the epoch; unset: for good. */
  untilSec?: number;
}

/** The arguments of each command, after validation. */
export type CommandArgs =
  | { cmd: 'open'; reason?: string }
  | { cmd: 'revoke'; entry: RevocationEntry }
  | { cmd: 'unrevoke'; entry: RevocationEntry }
  | { cmd: 'maintenance'; on: boolean }
  | { cmd: 'reload' }
  | { cmd: 'selftest' };

/** A command whose signature, target and times were checked (not yet its jti). */
export interface VerifiedCommand {
  jti: string;
  site: string;
  gate?: string;
  iatSec: number;
  expSec: number;
  /** kid of the operations key that signed it. */
  kid: string;
  args: CommandArgs;
}

/** The payload published on `{p}/{site}/{gate}/cmd/result` (QoS 1, not retained). */
export interface CommandResult {
  /** The command's jti; null when it could not be read. */
  id: string | null;
  ok: boolean;
  cmd?: CommandName;
  error?: CommandError;
  /** One line for people (what was done, or why not). */
  detail?: string;
  /** When the gate answered, ms since the epoch. */
  ts: number;
}

/** A command the gate will not carry out, and why. */
export interface CommandRefusal {
  ok: false;
  id: string | null;
  cmd?: CommandName;
  error: CommandError;
  detail: string;
}
