import type { Command } from 'commander';
import { RidergateError } from '../errors.js';
import { readBoundedFile } from '../files.js';
import { fleetTopics } from '../link/topics.js';
import { DEFAULT_MAX_REVOCATION_BYTES, signRevocationDoc } from '../revocation/revocation-doc.js';
import { readPrivateKey } from '../token/keys.js';
import { PASSWORD_FILE_HELP } from './ops-password.js';
import { connectBroker } from './ops-publish.js';
import { parseWholeFlag } from './whole-number.js';

interface SignOptions {
  key: string;
  snapshot?: string;
  delta?: string;
  seq: string;
  publish?: boolean;
  url?: string;
  prefix: string;
  username?: string;
  passwordFile?: string;
  wait: string;
}

/** `ridergate revocations sign`: a signed snapshot or delta, printed or published. */
export function registerRevocationsCommands(program: Command): void {
  const revocations = program
    .command('revocations')
    .description('the fleet revocation list (operations key)');
  revocations
    .command('sign')
    .description('sign a revocation snapshot or delta; print it, or --publish it')
    .requiredOption('--key <file>', 'operations private key (JWK, mode 0600)')
    .option('--snapshot <file>', 'JSON: an array of { iss, sub | cti, until? } (or { entries })')
    .option('--delta <file>', 'JSON: { add: [entry], remove: [entry] }')
    .requiredOption('--seq <n>', 'sequence number (a delta applies on top of seq - 1)')
    .option('--publish', 'publish it (a snapshot retained) on {prefix}/_fleet/revocations/…')
    .option('--url <url>', 'broker URL for --publish')
    .option('--prefix <prefix>', 'topic prefix', 'ridergate/v1')
    .option('--username <name>', 'broker user')
    .option('--password-file <file>', PASSWORD_FILE_HELP)
    .option('--wait <sec>', 'seconds to wait for the broker', '10')
    .action(async (opts: SignOptions) => {
      if ((opts.snapshot === undefined) === (opts.delta === undefined)) {
        throw new RidergateError('usage', 'give exactly one of --snapshot FILE or --delta FILE');
      }
      const seq = Number(opts.seq);
      if (!Number.isSafeInteger(seq) || seq < 0) {
        throw new RidergateError(
          'usage',
          `--seq ${JSON.stringify(opts.seq)}: expected a whole number ≥ 0`,
        );
      }
      const issuedAt = Math.floor(Date.now() / 1000);
      const doc =
        opts.snapshot !== undefined
          ? { kind: 'snapshot', seq, issuedAt, entries: snapshotEntries(readJson(opts.snapshot)) }
          : { kind: 'delta', seq, issuedAt, ...deltaParts(readJson(opts.delta ?? '')) };
      const jws = await signRevocationDoc(doc, readPrivateKey(opts.key));
      if (opts.publish !== true) {
        process.stdout.write(`${jws}\n`);
        return;
      }
      if (opts.url === undefined) throw new RidergateError('usage', '--publish needs --url');
      const waitSec = parseWholeFlag('--wait', opts.wait, 1, 600, 'seconds');
      const topics = fleetTopics(opts.prefix);
      const snapshot = opts.snapshot !== undefined;
      const client = await connectBroker({ ...opts, url: opts.url, waitSec });
      try {
        const topic = snapshot ? topics.revocationSnapshot : topics.revocationDelta;
        await client.publishAsync(topic, jws, { qos: 1, retain: snapshot });
        process.stdout.write(`published ${doc.kind} ${seq} on ${topic} (${jws.length} bytes)\n`);
      } finally {
        await client.endAsync();
      }
    });
}

function readJson(file: string): unknown {
  const text = readBoundedFile(file, {
    maxBytes: DEFAULT_MAX_REVOCATION_BYTES,
    code: 'usage',
    what: 'revocation file',
  }).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new RidergateError('usage', `${file}: not valid JSON`);
  }
}

function snapshotEntries(value: unknown): unknown {
  if (Array.isArray(value)) return value;
  return (value as { entries?: unknown } | null)?.entries;
}

function deltaParts(value: unknown): { add: unknown; remove: unknown } {
  const v = (value ?? {}) as { add?: unknown; remove?: unknown };
  return { add: v.add ?? [], remove: v.remove ?? [] };
}
