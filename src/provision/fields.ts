import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ID_RULE, isId } from '../config/ids.js';
import { findScannerProfile, loadProfiles } from '../devices/profiles.js';
import { findRelayProfile } from '../devices/relay-settings.js';
import { describeError } from '../errors.js';
import { readBoundedFile } from '../files.js';
import { checkBrokerUrl } from '../link/client-options.js';
import { BY_ID_DIR } from '../scanner/port-list.js';
import { readPublicKey, readPublicOnlyKey } from '../token/keys.js';
import { verifyTrustList } from '../trust/signed-trust-list.js';
import { readTrustFile } from '../trust/trust-list.js';

/** Every answer of `ridergate provision`, as text; an empty optional answer is left out. */
export interface Answers {
  site: string;
  gate: string;
  brokerUrl: string;
  username: string;
  password: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  rootKey: string;
  trust: string;
  scannerDriver: string;
  scannerProfile: string;
  scannerPath: string;
  scannerHost: string;
  scannerPort: string;
  relayDriver: string;
  relayProfile: string;
  storePath: string;
}

/** One question: its flag, its prompt, its default and its check. */
export interface Field {
  key: keyof Answers;
  /** The command-line flag, e.g. `--site`. */
  flag: string;
  prompt: string;
  /** Must be answered; without a terminal its flag must be given. */
  required: boolean | ((a: Partial<Answers>) => boolean);
  /** Not shown while typed. */
  secret?: boolean;
  /** Whether the question applies, given the answers so far (tcp host only for tcp). */
  applies?: (a: Partial<Answers>) => boolean;
  /** What {@link applies} asks for, named when the flag is given without it: `--username`. */
  needs?: string;
  defaultValue?: (a: Partial<Answers>) => string | undefined;
  /** The known answers, shown on a terminal before the question (profile names). */
  choices?: () => string[];
  /** The problem with `value`, or undefined when it is fine. Only called for non-empty text. */
  check: (value: string, a: Partial<Answers>) => Promise<string | undefined> | string | undefined;
}

const checkId = (what: string) => (value: string) =>
  isId(value) && value !== 'change-me'
    ? undefined
    : `${JSON.stringify(value)} is not a ${what}: ${ID_RULE}`;

const oneOf = (options: string[]) => (value: string) =>
  options.includes(value) ? undefined : `expected one of ${options.join(', ')}`;

/** What a PEM file given to provision must hold. */
type PemKind = 'certificate' | 'private key';

const CERTIFICATE_BLOCK = '-----BEGIN CERTIFICATE-----';
/** PKCS#8 (`PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`) and the older `RSA`/`EC PRIVATE KEY`. */
const PRIVATE_KEY_BLOCK = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

/**
 * Checks a PEM file by what it must hold: a certificate file at least one CERTIFICATE block and
 * no private key (it is copied in readable by all), a key file a PRIVATE KEY block.
 */
const checkPem = (kind: PemKind) => (value: string) => {
  let text: string;
  try {
    text = readBoundedFile(value, {
      maxBytes: 64 * 1024,
      code: 'usage',
      what: 'PEM file',
    }).toString('utf8');
  } catch (err) {
    return describeError(err);
  }
  if (!text.includes('-----BEGIN ')) return `${value}: not a PEM file (no -----BEGIN line)`;
  const hasKey = PRIVATE_KEY_BLOCK.test(text);
  if (kind === 'private key') {
    return hasKey ? undefined : `${value}: holds no private key (no -----BEGIN PRIVATE KEY line)`;
  }
  if (hasKey) {
    return `${value}: holds a private key; give the certificate only (it is copied in readable by all), and treat that key as leaked if the file was shared`;
  }
  return text.includes(CERTIFICATE_BLOCK)
    ? undefined
    : `${value}: holds no certificate (no ${CERTIFICATE_BLOCK} line)`;
};

function tryOr(action: () => unknown): string | undefined {
  try {
    action();
    return undefined;
  } catch (err) {
    return describeError(err).split('\n').join(' ');
  }
}

async function checkTrustFile(value: string, a: Partial<Answers>): Promise<string | undefined> {
  if (!a.rootKey) return 'the fleet root key must be given first (--root-key)';
  try {
    await verifyTrustList(readTrustFile(value), readPublicKey(a.rootKey).key, value);
    return undefined;
  } catch (err) {
    return describeError(err).split('\n').join(' ');
  }
}

/** The first stable serial link, the usual place of a USB scanner, else /dev/ttyACM0. */
function defaultSerialPath(): string {
  try {
    const links = existsSync(BY_ID_DIR) ? readdirSync(BY_ID_DIR).sort() : [];
    return links.length > 0 ? join(BY_ID_DIR, links[0] ?? '') : '/dev/ttyACM0';
  } catch {
    return '/dev/ttyACM0';
  }
}

/** Names of the packaged profiles of one kind (`ridergate devices` lists them with details). */
function profileNames(kind: 'scanner' | 'relay'): string[] {
  return loadProfiles()
    .profiles.filter((p) => p.kind === kind)
    .map((p) => `${p.name}: ${p.summary}`);
}

/** The questions, in the order they are asked. */
export const FIELDS: readonly Field[] = [
  { key: 'site', flag: '--site', prompt: 'Site id', required: true, check: checkId('site id') },
  { key: 'gate', flag: '--gate', prompt: 'Gate id', required: true, check: checkId('gate id') },
  {
    key: 'brokerUrl',
    flag: '--broker-url',
    prompt: 'Broker URL (mqtts://host:8883)',
    required: true,
    check: (v) => tryOr(() => checkBrokerUrl(v)),
  },
  {
    key: 'username',
    flag: '--username',
    prompt: 'Broker user name (empty: none)',
    required: false,
    check: (v) => (v.length <= 256 ? undefined : 'at most 256 characters'),
  },
  {
    key: 'password',
    flag: '--password',
    prompt: 'Broker password (empty: none)',
    required: false,
    secret: true,
    applies: (a) => Boolean(a.username),
    needs: '--username',
    check: (v) =>
      v.length <= 1024 && !/[\r\n]/.test(v) ? undefined : 'one line, at most 1024 characters',
  },
  {
    key: 'caFile',
    flag: '--ca-file',
    prompt: 'Broker CA certificate file (PEM; empty: system CAs)',
    required: false,
    check: checkPem('certificate'),
  },
  {
    key: 'certFile',
    flag: '--cert-file',
    prompt: 'Client certificate file (PEM; empty: none)',
    required: false,
    check: checkPem('certificate'),
  },
  {
    key: 'keyFile',
    flag: '--key-file',
    prompt: 'Client certificate key file (PEM)',
    required: (a) => Boolean(a.certFile),
    applies: (a) => Boolean(a.certFile),
    needs: '--cert-file',
    check: checkPem('private key'),
  },
  {
    key: 'rootKey',
    flag: '--root-key',
    prompt: 'Fleet root public key file (root.pub.json)',
    required: true,
    // It is copied in readable by all: a private key there would be handed to every reader.
    check: (v) => tryOr(() => readPublicOnlyKey(v)),
  },
  {
    key: 'trust',
    flag: '--trust',
    prompt: 'First trust list file (signed JWS)',
    required: true,
    check: checkTrustFile,
  },
  {
    key: 'scannerDriver',
    flag: '--scanner-driver',
    prompt: 'Scanner connection (serial, tcp, sim)',
    required: false,
    defaultValue: () => 'serial',
    check: oneOf(['serial', 'tcp', 'sim']),
  },
  {
    key: 'scannerProfile',
    flag: '--scanner-profile',
    prompt: 'Scanner profile (empty: 9600 8N1, CR or LF)',
    choices: () => profileNames('scanner'),
    required: false,
    // Every driver frames lines by the profile, the sim one too (src/scanner/sim-scanner.ts).
    check: (v) => tryOr(() => findScannerProfile(v)),
  },
  {
    key: 'scannerPath',
    flag: '--scanner-path',
    prompt: 'Scanner device',
    required: false,
    applies: (a) => (a.scannerDriver ?? 'serial') === 'serial',
    needs: '--scanner-driver serial',
    defaultValue: defaultSerialPath,
    check: (v) =>
      v.startsWith('/') ? undefined : 'an absolute device path, e.g. /dev/serial/by-id/...',
  },
  {
    key: 'scannerHost',
    flag: '--scanner-host',
    prompt: 'Network scanner host',
    required: (a) => a.scannerDriver === 'tcp',
    applies: (a) => a.scannerDriver === 'tcp',
    needs: '--scanner-driver tcp',
    check: (v) => (v.length <= 253 ? undefined : 'at most 253 characters'),
  },
  {
    key: 'scannerPort',
    flag: '--scanner-port',
    prompt: 'Network scanner port',
    required: (a) => a.scannerDriver === 'tcp',
    applies: (a) => a.scannerDriver === 'tcp',
    needs: '--scanner-driver tcp',
    check: (v) =>
      /^\d{1,5}$/.test(v) && Number(v) >= 1 && Number(v) <= 65_535
        ? undefined
        : 'a port from 1 to 65535',
  },
  {
    key: 'relayDriver',
    flag: '--relay-driver',
    prompt: 'Relay driver (onoff, sim)',
    required: false,
    defaultValue: () => 'onoff',
    check: oneOf(['onoff', 'sim']),
  },
  {
    key: 'relayProfile',
    flag: '--relay-profile',
    prompt: 'Relay board profile (empty: BCM 17, active high)',
    choices: () => profileNames('relay'),
    required: false,
    check: (v) => tryOr(() => findRelayProfile(v)),
  },
  {
    key: 'storePath',
    flag: '--store-path',
    prompt: 'Event database file',
    required: false,
    defaultValue: () => '/var/lib/ridergate/ridergate.db',
    check: (v) => (v.startsWith('/') ? undefined : 'an absolute path'),
  },
];
