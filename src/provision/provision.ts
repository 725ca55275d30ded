import { chmodSync, chownSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig, mergeDeep, readYamlFile } from '../config/load.js';
import { RidergateError } from '../errors.js';
import { makeFolder } from '../files.js';
import { publicJwkText, readPublicKey, readPublicOnlyKey, writeKeyPair } from '../token/keys.js';
import { writeFileAtomic } from './atomic-write.js';
import type { Answers } from './fields.js';

/** What {@link applyProvision} wrote. */
export interface ProvisionResult {
  configFile: string;
  /** Every file written, in order. */
  written: string[];
  /** The gate's own key pair: made now, or kept from an earlier provisioning. */
  deviceKey: { kid: string; publicFile: string; kept: boolean };
}

/** Names of the files provisioning puts in the configuration folder. */
export const PROVISION_FILES = {
  config: 'config.yaml',
  rootKey: 'root.pub.json',
  trust: 'trust.jws',
  password: 'mqtt-password',
  ca: 'mqtt-ca.pem',
  cert: 'mqtt-cert.pem',
  key: 'mqtt-key.pem',
  deviceKeyName: 'device',
} as const;

/**
 * Refuses an empty configuration folder name, which would resolve to the current folder.
 * @throws RidergateError `usage`.
 */
export function checkConfigDir(configDir: string): void {
  if (configDir.trim() === '') {
    throw new RidergateError('usage', '--config-dir: the path is empty; name a folder');
  }
}

/**
 * Writes a gate's configuration folder from checked answers: the public members of the fleet
 * root key, the first trust list, the broker password (0600) and TLS files copied in; the
 * device key pair made once and kept on later runs; and config.yaml, merged over an existing
 * one (whose settings not asked about are kept, and which is kept as config.yaml.bak),
 * validated with the daemon's own loader before it replaces the old file. With an `owner`,
 * the files then go to the service's group ({@link handOver}: secrets 0640).
 * @throws RidergateError `usage` when the folder name is empty or a file cannot be written,
 *   `key_invalid` when the root key file holds a private key, `config_invalid` when the
 *   result would not load (nothing replaced then).
 */
export async function applyProvision(
  answers: Partial<Answers>,
  configDir: string,
  owner?: ServiceOwner,
): Promise<ProvisionResult> {
  checkConfigDir(configDir);
  // Read before anything is written: a private root key stops provisioning here.
  const rootKey = publicJwkText(readPublicOnlyKey(requireAnswer(answers.rootKey)));
  const dir = resolve(configDir);
  const fresh = !existsSync(dir);
  makeFolder(dir, '--config-dir');
  // Secrets live here: a new folder is closed to others (install.sh chowns it to the service).
  if (fresh) chmodSync(dir, 0o750);
  const written: string[] = [];
  const put = async (name: string, data: string | Uint8Array, mode: number) => {
    const path = join(dir, name);
    await writeFileAtomic(path, data, { mode });
    written.push(path);
    return path;
  };
  const copy = (name: string, from: string, mode: number) => put(name, readFileSync(from), mode);

  const settings = {
    gate: { site: answers.site, id: answers.gate },
    scanner: scannerSection(answers),
    relay: { driver: answers.relayDriver, profile: answers.relayProfile },
    store: { path: answers.storePath },
    mqtt: {
      url: answers.brokerUrl,
      username: answers.username,
      passwordFile: answers.password
        ? await put(PROVISION_FILES.password, `${answers.password}\n`, 0o600)
        : undefined,
      caFile: answers.caFile ? await copy(PROVISION_FILES.ca, answers.caFile, 0o644) : undefined,
      certFile: answers.certFile
        ? await copy(PROVISION_FILES.cert, answers.certFile, 0o644)
        : undefined,
      keyFile: answers.keyFile
        ? await copy(PROVISION_FILES.key, answers.keyFile, 0o600)
        : undefined,
    },
    trust: {
      rootKeyFile: await put(PROVISION_FILES.rootKey, rootKey, 0o644),
      file: await copy(PROVISION_FILES.trust, requireAnswer(answers.trust), 0o644),
    },
  };
  const deviceKey = ensureDeviceKey(dir);
  const configFile = join(dir, PROVISION_FILES.config);
  const previous = existsSync(configFile) ? readYamlFile(configFile) : {};
  const merged = mergeDeep(previous, dropUndefined(settings));
  await writeFileAtomic(configFile, configText(merged), {
    mode: 0o640,
    keepBackup: true,
    // The daemon's loader, without RIDERGATE_ variables: the file alone must be valid.
    verify: (temporary) => void loadConfig(temporary, {}),
  });
  written.push(configFile);
  if (owner !== undefined) handOver(dir, written, deviceKey.publicFile, owner);
  return { configFile, written, deviceKey };
}

/** The user and group the service runs as (scripts/install.sh creates `ridergate`). */
export interface ServiceOwner {
  uid: number;
  gid: number;
}

/**
 * Lets the service read what root wrote: the folder and every file go to the service's group
 * (0750 folder, 0640 secrets, so others still read nothing), and the device key pair to the
 * service user itself, since a private key must be readable by its owner only.
 */
function handOver(dir: string, written: string[], devicePublic: string, owner: ServiceOwner): void {
  const self = process.getuid?.() ?? 0;
  chownSync(dir, self, owner.gid);
  for (const file of written) {
    chownSync(file, self, owner.gid);
    if ((statSync(file).mode & 0o777) === 0o600) chmodSync(file, 0o640);
  }
  const devicePrivate = devicePublic.replace(/\.pub\.json$/, '.key.json');
  chownSync(devicePrivate, owner.uid, owner.gid);
  chownSync(devicePublic, owner.uid, owner.gid);
}

function scannerSection(a: Partial<Answers>): Record<string, unknown> {
  const driver = a.scannerDriver ?? 'serial';
  return {
    driver,
    profile: a.scannerProfile,
    path: driver === 'serial' ? a.scannerPath : driver === 'sim' ? 'sim' : undefined,
    host: driver === 'tcp' ? a.scannerHost : undefined,
    port: driver === 'tcp' && a.scannerPort ? Number(a.scannerPort) : undefined,
  };
}

/** The gate's own Ed25519 key pair (device.key.json, 0600): made once, never replaced. */
function ensureDeviceKey(dir: string): ProvisionResult['deviceKey'] {
  const name = PROVISION_FILES.deviceKeyName;
  const publicFile = join(dir, `${name}.pub.json`);
  if (existsSync(join(dir, `${name}.key.json`)) && existsSync(publicFile))
    return { kid: readPublicKey(publicFile).kid, publicFile, kept: true };
  const made = writeKeyPair(dir, name, 'EdDSA');
  return { kid: made.kid, publicFile: made.publicFile, kept: false };
}

function requireAnswer(value: string | undefined): string {
  if (value === undefined) throw new Error('provision: a required answer is missing');
  return value;
}

/** A copy without undefined members, so they neither reach YAML nor erase kept settings. */
function dropUndefined(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    out[key] =
      typeof v === 'object' && v !== null && !Array.isArray(v)
        ? dropUndefined(v as Record<string, unknown>)
        : v;
  }
  return out;
}

function configText(config: Record<string, unknown>): string {
  return [
    '# Written by `ridergate provision`; merged over the packaged defaults (config/default.yaml).',
    '# config/example.yaml explains every setting. `ridergate doctor` checks this gate.',
    stringify(config, { lineWidth: 100 }),
  ].join('\n');
}
