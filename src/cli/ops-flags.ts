import { ID_RULE, isId } from '../config/ids.js';
import { isRidergateError, RidergateError } from '../errors.js';
import { checkBrokerUrl } from '../link/client-options.js';
import { type LoadedKey, readPrivateKey, readPublicKey } from '../token/keys.js';

/*
 * Flag checks the operations tools (cmd, revocations, trust, token, watch) share. A file or
 * value given on the command line that cannot be used is bad usage (exit 2), named by its flag;
 * the daemon's own configuration files stay configuration errors (exit 78).
 */

/**
 * Reads the key file a flag names.
 * @throws RidergateError `usage`: `--key: FILE: what is wrong` (missing, unreadable, open to
 * others, not a usable JWK).
 */
export function readKeyFlag(flag: string, file: string, kind: 'private' | 'public'): LoadedKey {
  try {
    return kind === 'private' ? readPrivateKey(file) : readPublicKey(file);
  } catch (err) {
    if (isRidergateError(err))
      throw new RidergateError('usage', `${flag}: ${err.message}`, {
        cause: err,
      });
    throw err;
  }
}

/**
 * Checks a broker `--url` before anything is signed or connected: an mqtt, mqtts, ws or wss
 * URL with a host.
 * @throws RidergateError `usage` naming the flag, the scheme found and the ones accepted.
 */
export function checkUrlFlag(url: string): void {
  try {
    checkBrokerUrl(url);
  } catch (err) {
    // The check speaks of the setting (`mqtt.url "…": …`); here the flag gave the URL.
    const problem = (err as Error).message.replace(/^mqtt\.url /, '');
    throw new RidergateError('usage', `--url ${problem}`, { cause: err });
  }
}

/**
 * Checks a site or gate id flag with the rule of the configuration (gate.site, gate.id).
 * @throws RidergateError `usage`: `--site "North": expected a site id: 1-64 of a-z, …`
 */
export function parseIdFlag(flag: string, value: string, what: 'site' | 'gate'): string {
  if (!isId(value)) {
    throw new RidergateError(
      'usage',
      `${flag} ${JSON.stringify(value)}: expected a ${what} id: ${ID_RULE}`,
    );
  }
  return value;
}

/** Broker flags that mean nothing without `--publish`. */
interface PublishFlags {
  publish?: boolean;
  url?: string;
  username?: string;
  passwordFile?: string;
}

/**
 * Refuses broker flags given without `--publish` (they would be silently ignored and the
 * document only printed), and `--publish` without `--url`; checks the URL.
 * @returns the broker URL when publishing, else undefined.
 * @throws RidergateError `usage`
 */
export function publishUrl(opts: PublishFlags): string | undefined {
  if (opts.publish !== true) {
    const given = (
      [
        ['--url', opts.url],
        ['--username', opts.username],
        ['--password-file', opts.passwordFile],
      ] as const
    ).find(([, value]) => value !== undefined);
    if (given !== undefined)
      throw new RidergateError('usage', `${given[0]} only applies with --publish`);
    return undefined;
  }
  if (opts.url === undefined) throw new RidergateError('usage', '--publish needs --url');
  checkUrlFlag(opts.url);
  return opts.url;
}
