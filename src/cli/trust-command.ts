import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { RidergateError } from '../errors.js';
import { writeOutputFile } from '../files.js';
import { silentLogger } from '../log.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { readPublicKey } from '../token/keys.js';
import type { TrustedKey } from '../token/types.js';
import { readTrustForTools, type ToolTrustList } from '../trust/read-trust.js';
import { signTrustList, verifyTrustList } from '../trust/signed-trust-list.js';
import { TRUST_SETTING } from '../trust/trust-keeper.js';
import { readTrustDocument } from '../trust/trust-list.js';
import { readKeyFlag } from './ops-flags.js';

export function registerTrustCommands(program: Command): void {
  const trust = program
    .command('trust')
    .description('trust lists: issuers and their keys, signed by the fleet root key');
  trust
    .command('sign')
    .description(
      'validate a trust list document (YAML or JSON) and sign it with the fleet root key',
    )
    .argument('<file>', 'the trust list document')
    .requiredOption('--key <file>', 'fleet root private key (.key.json from keys gen)')
    .option('--out <file>', 'write the signed list here (default: print it)')
    .action(async (file: string, opts: { key: string; out?: string }) => {
      const doc = readTrustDocument(file, 'usage');
      const jws = await signTrustList(doc, readKeyFlag('--key', opts.key, 'private'), file);
      if (opts.out === undefined) {
        process.stdout.write(`${jws}\n`);
        return;
      }
      // Written atomically, so a gate never reads a half-written list.
      writeOutputFile(opts.out, `${jws}\n`, '--out');
      const version = (doc as { version?: unknown }).version;
      process.stdout.write(`signed trust list version ${String(version)} written to ${opts.out}\n`);
    });
  trust
    .command('show')
    .description('show a trust list file, or the list a gate has in force (with --config)')
    .argument('[file]', 'a signed (JWS) or plain trust list file')
    .option('--root <file>', 'fleet root public key, to check a signed file')
    .option('-c, --config <file>', "the gate's configuration: show the list stored by that gate")
    .option('--at <epochSeconds>', 'judge key windows at this time (default: now)')
    .action(
      async (file: string | undefined, opts: { root?: string; config?: string; at?: string }) => {
        const nowSec =
          opts.at === undefined ? Math.floor(Date.now() / 1000) : parseSeconds(opts.at);
        const list =
          file !== undefined
            ? await readTrustForTools(file, opts.root)
            : await readStoredList(opts.config);
        printList(list, nowSec, (line) => process.stdout.write(`${line}\n`));
      },
    );
}

async function readStoredList(configPath: string | undefined): Promise<ToolTrustList> {
  if (configPath === undefined) {
    throw new RidergateError(
      'usage',
      'give a trust list file, or --config FILE to show the list a gate has stored',
    );
  }
  const { config } = loadConfig(configPath);
  const store = new SqliteStore(config.store.path, silentLogger(), { recoverCorrupt: false });
  await store.open();
  try {
    const jws = await store.getSetting(TRUST_SETTING);
    if (jws === undefined) {
      throw new RidergateError(
        'trust_invalid',
        `${config.store.path}: this gate has no trust list stored yet`,
      );
    }
    const root = readPublicKey(config.trust.rootKeyFile);
    return { ...(await verifyTrustList(jws, root.key, 'stored trust list')), signed: true };
  } finally {
    await store.close();
  }
}

function printList(list: ToolTrustList, nowSec: number, out: (line: string) => void): void {
  out(
    `trust list version ${list.version} (${list.signed ? 'signature verified with the fleet root key' : 'UNSIGNED: a gate refuses it until it is signed'})`,
  );
  for (const issuer of list.issuers) {
    const sites = issuer.sites === undefined ? 'all sites' : `sites ${issuer.sites.join(', ')}`;
    out(`issuer ${issuer.iss}: max lifetime ${issuer.maxLifetimeSec} s, ${sites}`);
    for (const key of list.keys.filter((k) => k.iss === issuer.iss)) {
      out(`  key ${key.kid} ${key.alg}  ${describeWindow(key)}  ${keyState(key, nowSec)}`);
    }
  }
  for (const op of list.operators.values()) {
    const uses = [...op.uses].sort().join(' and ');
    out(
      `operations key ${op.kid} ${op.alg}: signs ${uses}  ${describeWindow(op)}  ${keyState(op, nowSec)}`,
    );
  }
}

/** The validity window of an issuer's or an operations key, seconds since the epoch. */
type KeyWindow = Pick<TrustedKey, 'notBeforeSec' | 'notAfterSec'>;

function describeWindow(key: KeyWindow): string {
  const at = (sec: number | undefined) =>
    sec === undefined ? '…' : new Date(sec * 1000).toISOString();
  return `valid ${at(key.notBeforeSec)} to ${at(key.notAfterSec)}`;
}

function keyState(key: KeyWindow, nowSec: number): string {
  if (key.notBeforeSec !== undefined && nowSec < key.notBeforeSec) return 'not yet valid';
  if (key.notAfterSec !== undefined && nowSec >= key.notAfterSec) return 'retired';
  return 'in use';
}

function parseSeconds(value: string): number {
  if (!/^\d{1,12}$/.test(value))
    throw new RidergateError(
      'usage',
      `--at ${JSON.stringify(value)}: expected whole seconds since the epoch`,
    );
  return Number(value);
}
