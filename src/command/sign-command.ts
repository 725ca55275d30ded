import { randomBytes } from 'node:crypto';
import { CompactSign } from 'jose';
import type { LoadedKey } from '../token/keys.js';
import { COMMAND_JWS_TYPE, type CommandName } from './command-types.js';

/** What a signed command says; times default to now and now + ttlSec. */
export interface CommandToSign {
  cmd: CommandName;
  site: string;
  gate?: string;
  args?: Record<string, unknown>;
  /** Lifetime, seconds; default 60. */
  ttlSec?: number;
  /** Default: 16 random bytes, base64url. */
  jti?: string;
  /** Default: now. */
  iatSec?: number;
}

/**
 * Signs a command with an operations key as a compact JWS
 * (`typ: ridergate-cmd+jws`, the key's alg and kid).
 * @returns the JWS and the jti, to match the result.
 */
export async function signCommand(
  command: CommandToSign,
  key: LoadedKey,
): Promise<{ jws: string; jti: string }> {
  const iat = command.iatSec ?? Math.floor(Date.now() / 1000);
  const jti = command.jti ?? randomBytes(16).toString('base64url');
  const payload: Record<string, unknown> = {
    cmd: command.cmd,
    site: command.site,
    ...(command.gate === undefined ? {} : { gate: command.gate }),
    iat,
    exp: iat + (command.ttlSec ?? 60),
    jti,
    ...(command.args === undefined ? {} : { args: command.args }),
  };
  const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: COMMAND_JWS_TYPE })
    .sign(key.key);
  return { jws, jti };
}
