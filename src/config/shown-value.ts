import { redactUrl } from '../link/client-options.js';
import { SECRET_FIELDS } from '../log.js';

/** What a configuration error prints in place of a secret's value. */
export const HIDDEN = '(value hidden)';

const EXACT = new Set<string>(SECRET_FIELDS.map((f) => f.toLowerCase()));
/** Parts of a name that make any setting secret: `mqttPassword`, `api_secret`, `authToken`. */
const SECRET_PARTS = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'privatekey',
  'apikey',
];
/** A name that holds where a secret lives, not the secret: `passwordFile`, `keyPath`. */
const LOCATION_SUFFIX = /(file|path|dir)$/;

/**
 * True when a setting's name (the last part of `mqtt.password`, or an environment variable's
 * name) looks like it holds a secret: one of {@link SECRET_FIELDS}, or a name containing
 * password, passphrase, secret, token or private key; never a `…File`/`…Path` setting.
 */
export function looksSecret(name: string): boolean {
  const last = (name.split('.').pop() ?? name).toLowerCase();
  const squashed = last.replaceAll(/[_-]/g, '');
  if (LOCATION_SUFFIX.test(squashed)) return false;
  if (EXACT.has(squashed)) return true;
  if (last.split(/[_-]/).some((part) => EXACT.has(part) && part.length > 1)) return true;
  return SECRET_PARTS.some((part) => squashed.includes(part));
}

/**
 * A configuration value as a configuration error shows it, at most `max` characters: hidden
 * when `name` looks secret, secret members of a mapping hidden, a URL's password replaced.
 */
export function shownValue(name: string, value: unknown, max = Number.POSITIVE_INFINITY): string {
  if (value === undefined) return 'nothing';
  if (looksSecret(name)) return HIDDEN;
  const text =
    JSON.stringify(value, (key, v: unknown) => {
      if (key !== '' && looksSecret(key)) return HIDDEN;
      return typeof v === 'string' ? redactUrl(v) : v;
    }) ?? 'nothing';
  return text.slice(0, max);
}
