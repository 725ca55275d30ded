import { compactVerify, decodeProtectedHeader } from 'jose';
import type { OperatorKey } from '../trust/operators.js';
import { operatorKeyValid } from '../trust/operators.js';
import {
  type CommandPayload,
  firstError,
  revocationArgsError,
  validateArgs,
  validatePayload,
} from './command-schema.js';
import {
  COMMAND_JWS_TYPE,
  type CommandArgs,
  type CommandError,
  type CommandName,
  type CommandRefusal,
  JTI_PATTERN,
  MAX_COMMAND_BYTES,
  MAX_COMMAND_LIFETIME_SEC,
  type RevocationEntry,
  type VerifiedCommand,
} from './command-types.js';

/** What checking a command needs to know about the gate. */
export interface CommandContext {
  site: string;
  gate: string;
  /** The operations key `kid` of the trust list in force. */
  operator: (kid: string) => OperatorKey | undefined;
  nowSec: number;
  /** Allowed clock difference for iat and exp, seconds. */
  skewSec: number;
  /** Default {@link MAX_COMMAND_BYTES}. */
  maxBytes?: number;
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const JTI = new RegExp(JTI_PATTERN);

/**
 * Checks a signed command as received: size, JWS shape, `typ`, operations key (by kid, valid
 * now, allowed to sign commands, same alg), signature, payload fields, target and times.
 * Never throws: whatever the input, the answer is a verified command or a refusal with its
 * error code. The jti is checked against those already seen by the caller.
 */
export async function parseCommand(
  payload: Buffer | string,
  ctx: CommandContext,
): Promise<{ ok: true; command: VerifiedCommand } | CommandRefusal> {
  const maxBytes = ctx.maxBytes ?? MAX_COMMAND_BYTES;
  const bytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (bytes > maxBytes) return refuse(null, 'too_large', `${bytes} bytes, over ${maxBytes}`);
  const text = (typeof payload === 'string' ? payload : payload.toString('utf8')).trim();
  if (!COMPACT_JWS.test(text)) return refuse(null, 'malformed', 'not a compact JWS');
  const id = unverifiedJti(text);

  const header = readHeader(text);
  if (header === undefined) return refuse(id, 'malformed', 'the JWS header is not JSON');
  if (header.typ !== COMMAND_JWS_TYPE) {
    return refuse(
      id,
      'malformed',
      `typ is ${JSON.stringify(header.typ)}, expected "${COMMAND_JWS_TYPE}"`,
    );
  }
  const key = typeof header.kid === 'string' ? ctx.operator(header.kid) : undefined;
  if (key === undefined || !operatorKeyValid(key, 'commands', ctx.nowSec, ctx.skewSec)) {
    const kid = typeof header.kid === 'string' ? header.kid.slice(0, 64) : '(none)';
    return refuse(
      id,
      'unknown_key',
      `kid ${kid} is no operations key for commands in the trust list`,
    );
  }
  if (header.alg !== key.alg) {
    return refuse(id, 'bad_signature', `alg ${String(header.alg)} is not the key's alg ${key.alg}`);
  }
  const body = await verifiedBody(text, key);
  if (body === undefined)
    return refuse(id, 'bad_signature', `the signature does not verify with key ${key.kid}`);

  const fields = readPayload(body);
  if (typeof fields === 'string') return refuse(id, 'malformed', fields);
  const args = readArgs(fields);
  if (typeof args === 'string') return refuse(fields.jti, 'malformed', args, fields.cmd);
  const problem = checkTargetAndTime(fields, ctx);
  if (problem !== undefined) return refuse(fields.jti, problem.error, problem.detail, fields.cmd);

  const command: VerifiedCommand = {
    jti: fields.jti,
    site: fields.site,
    iatSec: fields.iat,
    expSec: fields.exp,
    kid: key.kid,
    args,
  };
  if (fields.gate !== undefined) command.gate = fields.gate;
  return { ok: true, command };
}

function refuse(
  id: string | null,
  error: CommandError,
  detail: string,
  cmd?: CommandName,
): CommandRefusal {
  return cmd === undefined
    ? { ok: false, id, error, detail }
    : { ok: false, id, cmd, error, detail };
}

/**
 * The jti as the unverified payload states it, only to label the result so operations can
 * match it with what they sent; never trusted for anything else.
 */
function unverifiedJti(text: string): string | null {
  try {
    const part = text.split('.')[1] ?? '';
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    const jti = (value as { jti?: unknown } | null)?.jti;
    return typeof jti === 'string' && JTI.test(jti) ? jti : null;
  } catch {
    return null;
  }
}

function readHeader(text: string): Record<string, unknown> | undefined {
  try {
    return decodeProtectedHeader(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

async function verifiedBody(text: string, key: OperatorKey): Promise<Uint8Array | undefined> {
  try {
    return (await compactVerify(text, key.publicKey, { algorithms: [key.alg] })).payload;
  } catch {
    return undefined;
  }
}

function readPayload(body: Uint8Array): CommandPayload | string {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    return 'the payload is not JSON';
  }
  if (!validatePayload(value)) return firstError(validatePayload.errors);
  if (value.exp <= value.iat) return 'exp must be later than iat';
  if (value.exp - value.iat > MAX_COMMAND_LIFETIME_SEC) {
    return `exp − iat is ${value.exp - value.iat} s, over ${MAX_COMMAND_LIFETIME_SEC} s`;
  }
  return value;
}

/**
 * Why `args` are not valid for command `cmd`, as "args.field: message"; undefined when valid.
 * The gate refuses such a command `malformed`; `cmd sign` checks before signing.
 */
export function argsError(cmd: CommandName, args: unknown): string | undefined {
  const raw = args ?? {};
  const validate = validateArgs[cmd];
  if (validate(raw)) return undefined;
  const revocation = cmd === 'revoke' || cmd === 'unrevoke';
  return `args.${revocation ? revocationArgsError(raw) : firstError(validate.errors)}`;
}

function readArgs(p: CommandPayload): CommandArgs | string {
  const problem = argsError(p.cmd, p.args);
  if (problem !== undefined) return problem;
  const a = (p.args ?? {}) as Record<string, unknown>;
  switch (p.cmd) {
    case 'open':
      return typeof a.reason === 'string' ? { cmd: 'open', reason: a.reason } : { cmd: 'open' };
    case 'revoke':
    case 'unrevoke':
      return { cmd: p.cmd, entry: toEntry(a) };
    case 'maintenance':
      return { cmd: 'maintenance', on: a.on === true };
    default:
      return { cmd: p.cmd };
  }
}

/** A validated `{ iss, sub | cti, until? }` as a revocation entry; cti in lowercase. */
export function toEntry(a: Record<string, unknown>): RevocationEntry {
  const iss = String(a.iss);
  const entry =
    typeof a.sub === 'string'
      ? { iss, kind: 'sub' as const, value: a.sub }
      : { iss, kind: 'cti' as const, value: String(a.cti).toLowerCase() };
  return typeof a.until === 'number' ? { ...entry, untilSec: a.until } : entry;
}

function checkTargetAndTime(
  p: CommandPayload,
  ctx: CommandContext,
): { error: CommandError; detail: string } | undefined {
  if (p.site !== ctx.site || (p.gate !== undefined && p.gate !== ctx.gate)) {
    const to = p.gate === undefined ? `site ${p.site}` : `gate ${p.site}/${p.gate}`;
    return { error: 'wrong_target', detail: `addressed to ${to}, this is ${ctx.site}/${ctx.gate}` };
  }
  if (p.iat > ctx.nowSec + ctx.skewSec) {
    return { error: 'not_yet_valid', detail: `iat is ${p.iat - ctx.nowSec} s in the future` };
  }
  if (p.exp + ctx.skewSec <= ctx.nowSec) {
    return { error: 'expired', detail: `expired ${ctx.nowSec - p.exp} s ago` };
  }
  return undefined;
}
