import type { Command } from 'commander';
import { isRidergateError, RidergateError } from '../errors.js';
import { readBoundedFile } from '../files.js';
import { fleetTopics } from '../link/topics.js';
import {
  DEFAULT_MAX_REVOCATION_BYTES,
  readDoc,
  signRevocationDoc,
} from '../revocation/revocation-doc.js';
import { publishUrl, readKeyFlag } from './ops-flags.js';
import { PASSWORD_FILE_HELP } from './ops-password.js';
import { connectBroker } from './ops-publish.js';
import { parsePrefix } from './watch-command.js';
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
    .option('--delta <file>', 'JSON: { add: [entry], remove: [entry] }, at least one entry')
    .requiredOption('--seq <n>', 'sequence number (a delta applies on top of seq - 1)')
    .option('--publish', 'publish it (a snapshot retained) on {prefix}/_fleet/revocations/…')
    .option('--url <url>', 'broker URL, with --publish only')
    .option('--prefix <prefix>', 'topic prefix', 'ridergate/v1')
    .option('--username <name>', 'broker user')
    .option('--password-file <file>', PASSWORD_FILE_HELP)
    .option('--wait <sec>', 'seconds to wait for the broker', '10')
    .action(async (opts: SignOptions) => {
      // Every flag and the input file are checked before the key is read and anything signed.
      if ((opts.snapshot === undefined) === (opts.delta === undefined)) {
        throw new RidergateError('usage', 'give exactly one of --snapshot FILE or --delta FILE');
      }
      const snapshot = opts.snapshot !== undefined;
      // A delta applies on top of seq - 1, so its seq is at least 1 (revocation-delta schema).
      const seq = parseWholeFlag('--seq', opts.seq, snapshot ? 0 : 1, Number.MAX_SAFE_INTEGER);
      const prefix = parsePrefix(opts.prefix);
      const waitSec = parseWholeFlag('--wait', opts.wait, 1, 600, 'seconds');
      const url = publishUrl(opts);
      const issuedAt = Math.floor(Date.now() / 1000);
      const doc =
        opts.snapshot !== undefined
          ? snapshotDoc(opts.snapshot, seq, issuedAt)
          : deltaDoc(opts.delta ?? '', seq, issuedAt);
      const jws = await signRevocationDoc(doc, readKeyFlag('--key', opts.key, 'private'));
      if (url === undefined) {
        process.stdout.write(`${jws}\n`);
        return;
      }
      const topics = fleetTopics(prefix);
      const client = await connectBroker({ ...opts, url, waitSec });
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

type Doc = Record<string, unknown> & { kind: 'snapshot' | 'delta' };

/**
 * The snapshot document of `--snapshot FILE`: an array of entries, or `{ entries }` with no
 * other field.
 * @throws RidergateError `usage` naming the file and the field.
 */
function snapshotDoc(file: string, seq: number, issuedAt: number): Doc {
  const value = readJson(file);
  if (Array.isArray(value))
    return checked(file, { kind: 'snapshot', seq, issuedAt, entries: value });
  // A delta's fields in a snapshot file fall here too: "add": unknown field.
  const fields = inputObject(
    file,
    value,
    ['entries'],
    'an array of entries or { "entries": [...] }',
  );
  if (fields.entries === undefined) throw usage(file, 'entries: missing; add it');
  return checked(file, { kind: 'snapshot', seq, issuedAt, entries: fields.entries });
}

/**
 * The delta document of `--delta FILE`: `{ add?, remove? }` with no other field and at least
 * one entry, so a misspelt field can never publish an empty delta and use up its seq.
 * @throws RidergateError `usage` naming the file and the field.
 */
function deltaDoc(file: string, seq: number, issuedAt: number): Doc {
  const value = readJson(file);
  if (Array.isArray(value)) {
    throw usage(
      file,
      'an array is a snapshot (give it with --snapshot); a delta is { "add": [...], "remove": [...] }',
    );
  }
  const fields = inputObject(file, value, ['add', 'remove'], '{ "add": [...], "remove": [...] }');
  const add = fields.add ?? [];
  const remove = fields.remove ?? [];
  const doc = checked(file, { kind: 'delta', seq, issuedAt, add, remove });
  if ((add as unknown[]).length === 0 && (remove as unknown[]).length === 0)
    throw usage(file, 'add and remove are both empty; a delta must change something');
  return doc;
}

/** The input as an object holding only `allowed` fields. */
function inputObject(
  file: string,
  value: unknown,
  allowed: string[],
  expected: string,
): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw usage(file, `expected ${expected}`);
  const fields = value as Record<string, unknown>;
  const extra = Object.keys(fields).find((k) => !allowed.includes(k));
  if (extra !== undefined) {
    throw usage(
      file,
      `${JSON.stringify(extra.slice(0, 40))}: unknown field; expected ${allowed.join(' or ')}`,
    );
  }
  return fields;
}

/** Checks the document as a gate would (every entry), with the file named in the error. */
function checked(file: string, doc: Doc): Doc {
  try {
    readDoc(doc);
  } catch (err) {
    if (!isRidergateError(err, 'revocation_invalid')) throw err;
    throw usage(file, String(err.context.detail ?? err.message));
  }
  return doc;
}

function usage(file: string, detail: string): RidergateError {
  return new RidergateError('usage', `${file}: ${detail}`);
}
