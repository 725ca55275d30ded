import { type ErrorCode, RidergateError } from '../errors.js';
import { readBoundedFile, statOrThrow } from '../files.js';

/**
 * Permission bits a secret file (MQTT password, TLS client key) must not have: any access by
 * others, and write access by the group. Read access by the group is allowed, so that a file
 * owned by root with group `ridergate` and mode 0640 works for the service user (the way
 * /etc/ssl/private keys are shared with a service group). Private token keys are stricter
 * (owner only, src/token/keys.ts): they sign, and never need to be shared.
 */
const FORBIDDEN_BITS = 0o027;

/**
 * Refuses a secret file that others can read or write, or that its group can write.
 * @param field the setting, e.g. `mqtt.passwordFile`, named in the message.
 * @throws RidergateError with `code`, saying the mode and the fix.
 */
export function checkSecretMode(path: string, field: string, code: ErrorCode): void {
  const mode = statOrThrow(path, { code, what: `${field} file` }).mode & 0o777;
  if ((mode & FORBIDDEN_BITS) === 0) return;
  const octal = mode.toString(8).padStart(4, '0');
  const who = (mode & 0o007) !== 0 ? 'others can read or write it' : 'its group can write it';
  throw new RidergateError(
    code,
    `${field}: ${path} has mode ${octal}, so ${who}; refusing to use a secret others may ` +
      `have copied. Fix: chmod 600 ${path} (or 640 with group ridergate)`,
    { context: { field, mode: octal } },
  );
}

/**
 * Reads a secret (the MQTT password) from a file whose permissions are checked first: a
 * regular file of at most 4 KiB, trimmed. The value is never logged or put in an error.
 * @param code `config_invalid` (default) for a configuration setting; `usage` for a
 * command-line flag.
 * @throws RidergateError with `code`, naming the field, the file and the fix.
 */
export function readSecretFile(
  path: string,
  field: string,
  code: ErrorCode = 'config_invalid',
): string {
  checkSecretMode(path, field, code);
  return readBoundedFile(path, { maxBytes: 4096, code, what: `${field} file` })
    .toString('utf8')
    .trim();
}
