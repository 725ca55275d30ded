import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';
import { RidergateError } from '../errors.js';

/** What the MQTT client is built from; see {@link MqttLinkOptions} for the meaning. */
export interface ClientOptionsInput {
  clientId: string;
  username?: string;
  password?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  connectTimeoutMs: number;
  keepaliveSec: number;
  reconnectMs: number;
}

/**
 * Builds mqtt.js options: a clean session, no offline queue for QoS 0 (telemetry is only
 * worth sending live), the TLS files read from disk.
 * @throws RidergateError `link_failed` naming the file that cannot be read.
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
  if (input.caFile !== undefined) options.ca = readTlsFile('mqtt.caFile', input.caFile);
  if (input.certFile !== undefined) options.cert = readTlsFile('mqtt.certFile', input.certFile);
  if (input.keyFile !== undefined) options.key = readTlsFile('mqtt.keyFile', input.keyFile);
  return options;
}

function readTlsFile(field: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new RidergateError('link_failed', `cannot read ${field}`, {
      cause: err,
      context: { field, value: path, expected: 'a readable PEM file' },
    });
  }
}

/** A whole number of ms drawn uniformly between `minMs` and `maxMs`. */
export function jitterMs(minMs: number, maxMs: number): number {
  return Math.round(minMs + Math.random() * Math.max(0, maxMs - minMs));
}
