import { RidergateError } from '../errors.js';
import { readSecretFile } from '../link/secret-file.js';

/**
 * The environment variable the operations tools (`cmd sign`, `revocations sign`, `watch`)
 * read the broker password from. Deliberately outside the `RIDERGATE_` namespace: every
 * `RIDERGATE_<SECTION>_<KEY>` is a configuration override of the daemon, so a
 * `RIDERGATE_…` password left in a shell would make `ridergate run` and `doctor` refuse it.
 */
export const OPS_PASSWORD_VARIABLE = 'OPS_MQTT_PASSWORD';

/** Help text of `--password-file`, shared by the operations tools. */
export const PASSWORD_FILE_HELP = `file holding the broker password (mode 0600; else $${OPS_PASSWORD_VARIABLE})`;

/**
 * The broker password of an operations tool: read from `--password-file` (its mode checked:
 * no access by others), else from ${OPS_PASSWORD_VARIABLE}, else none.
 * @throws RidergateError `usage` when both are given, or for a missing, unreadable or open file.
 */
export function opsPassword(
  passwordFile: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const fromEnv = env[OPS_PASSWORD_VARIABLE];
  if (passwordFile !== undefined) {
    if (fromEnv !== undefined && fromEnv !== '')
      throw new RidergateError(
        'usage',
        `--password-file and ${OPS_PASSWORD_VARIABLE} both give a password; use one`,
      );
    return readSecretFile(passwordFile, '--password-file', 'usage');
  }
  return fromEnv === '' ? undefined : fromEnv;
}
