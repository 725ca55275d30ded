import { isIP } from 'node:net';
import type { IClientOptions } from 'mqtt';
import { RidergateError } from '../errors.js';
import { readBoundedFile } from '../files.js';
import { checkSecretMode } from './secret-file.js';

/** What the MQTT client is built from; see {@link MqttLinkOptions} for the meaning. */
export interface ClientOptionsInput {
  clientId: string;
  username?: string;
  password?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** The broker URL: its host name is the TLS server name checked against the certificate. */
  url?: string;
  /** true turns broker certificate verification off (`mqtt.tlsInsecure`); default false. */
  tlsInsecure?: boolean;
  connectTimeoutMs: number;
  keepaliveSec: number;
  reconnectMs: number;
}

/**
 * Builds mqtt.js options: a clean session, no offline queue for QoS 0 (telemetry is only
 * worth sending live), the TLS files read from disk. TLS verifies the broker's certificate
 * (chain to `caFile`, or the system CAs, and the URL's host name) unless `tlsInsecure`; the
 * client key file is refused when others can read it.
 * @throws RidergateError `config_invalid` naming the file that cannot be read or is too open.
 */
export function buildClientOptions(input: ClientOptionsInput): IClientOptions {
  const options: IClientOptions = {
    clientId: input.clientId,
    clean: true,
    protocolVersion: 4,
    connectTimeout: input.connectTimeoutMs,
    keepalive: input.keepaliveSec,
    reconnectPeriod: input.reconnectMs,
    queueQoSZero: false,
  };
  if (input.username !== undefined) options.username = input.username;
  if (input.password !== undefined) options.password = input.password;
  const tls = readTlsFiles(input);
  if (tls.ca !== undefined) options.ca = tls.ca;
  if (tls.cert !== undefined) options.cert = tls.cert;
  if (tls.key !== undefined) options.key = tls.key;
  options.rejectUnauthorized = input.tlsInsecure !== true;
  const host = hostOf(input.url);
  // SNI and the name checked; an IP address is checked against the certificate's IP SANs.
  if (host !== undefined && isIP(host) === 0) options.servername = host;
  return options;
}

function hostOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return host === '' ? undefined : host;
  } catch {
    return undefined;
  }
}

/** The TLS files of the MQTT settings, as read from disk. */
export interface TlsFiles {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** Largest PEM file read: a long certificate chain is a few tens of KiB. */
const MAX_PEM_BYTES = 1024 * 1024;

/**
 * Reads the TLS files named in the MQTT settings: regular files of bounded size, the client
 * key refused when others can read it. The gate calls it at start, before it opens anything,
 * so that a missing or wrong file is a configuration error (exit 78, not restarted).
 * @throws RidergateError `config_invalid` naming the setting, the file and what is wrong.
 */
export function readTlsFiles(
  input: Pick<ClientOptionsInput, 'caFile' | 'certFile' | 'keyFile'>,
): TlsFiles {
  const files: TlsFiles = {};
  if (input.caFile !== undefined) files.ca = readPem('mqtt.caFile', input.caFile);
  if (input.certFile !== undefined) files.cert = readPem('mqtt.certFile', input.certFile);
  if (input.keyFile !== undefined) {
    checkSecretMode(input.keyFile, 'mqtt.keyFile', 'config_invalid');
    files.key = readPem('mqtt.keyFile', input.keyFile);
  }
  return files;
}

function readPem(field: string, path: string): Buffer {
  return readBoundedFile(path, {
    maxBytes: MAX_PEM_BYTES,
    code: 'config_invalid',
    what: `${field} PEM file`,
  });
}

/** URL schemes mqtt.js connects with. */
const BROKER_SCHEMES = ['mqtt:', 'mqtts:', 'tcp:', 'tls:', 'ws:', 'wss:'];

const URL_EXAMPLE = 'expected e.g. mqtt://broker.example:1883';

/**
 * Checks the broker URL before mqtt.js sees it: mqtt.js quietly takes `mqtt://` (no host) for
 * 127.0.0.1:1883, which on a gate is never the broker that was meant.
 * @throws RidergateError `link_failed` naming the URL and what is wrong with it.
 */
export function checkBrokerUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw urlError(redactUrl(url), 'not a URL', err);
  }
  const shown = redactUrl(url);
  if (!BROKER_SCHEMES.includes(parsed.protocol)) {
    throw urlError(shown, `scheme "${parsed.protocol}" is not one of ${BROKER_SCHEMES.join(' ')}`);
  }
  if (parsed.hostname === '') throw urlError(shown, 'no broker host');
}

/** The URL with a password it holds (`mqtt://user:secret@host`) replaced, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    // Not a URL to the parser, yet `scheme://user:secret@…` may still be in it.
    return url.replace(/(\/\/[^/@:]*:)[^/@]*@/, '$1***@');
  }
}

function urlError(url: string, problem: string, cause?: unknown): RidergateError {
  return new RidergateError('link_failed', `mqtt.url "${url}": ${problem}; ${URL_EXAMPLE}`, {
    cause,
    context: { field: 'mqtt.url', value: url, expected: URL_EXAMPLE.replace('expected ', '') },
  });
}

/** A whole number of ms drawn uniformly between `minMs` and `maxMs`. */
export function jitterMs(minMs: number, maxMs: number): number {
  return Math.round(minMs + Math.random() * Math.max(0, maxMs - minMs));
}
