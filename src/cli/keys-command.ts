import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { RidergateError } from '../errors.js';
import { makeFolder } from '../files.js';
import { writeKeyPair } from '../token/keys.js';
import type { TokenAlg } from '../token/types.js';

export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('signing keys of issuers and operations');
  keys
    .command('gen')
    .description('write a new key pair: NAME.key.json (private, mode 0600) and NAME.pub.json')
    .requiredOption('--name <name>', 'file name stem, e.g. the issuer id')
    .option('--alg <alg>', 'EdDSA or ES256', 'EdDSA')
    .option('--kid <kid>', 'key id (default: from the key thumbprint)')
    .option('--out <folder>', 'folder to write into', '.')
    .option('--force', 'replace an existing key pair of that name (the old private key is lost)')
    .option(
      '--operator',
      'an operations key: also print its entry for the trust list operators section',
    )
    .action(
      (opts: {
        name: string;
        alg: string;
        kid?: string;
        out: string;
        force?: boolean;
        operator?: boolean;
      }) => {
        const alg = parseAlg(opts.alg);
        if (!/^[A-Za-z0-9._-]{1,64}$/.test(opts.name)) {
          throw new RidergateError(
            'usage',
            `--name ${JSON.stringify(opts.name)}: use 1-64 letters, digits, '.', '_' or '-'`,
          );
        }
        if (opts.kid !== undefined && (opts.kid.length === 0 || opts.kid.length > 64)) {
          throw new RidergateError('usage', '--kid: must be 1-64 characters');
        }
        makeFolder(opts.out, '--out');
        refuseOverwrite(opts.out, opts.name, opts.force === true);
        const written = writeKeyPair(opts.out, opts.name, alg, opts.kid);
        process.stdout.write(
          `private key ${written.privateFile} (keep it secret)\npublic key  ${written.publicFile}\nkid         ${written.kid}\n`,
        );
        if (opts.operator === true) process.stdout.write(operatorEntry(written.publicFile));
      },
    );
}

/** The trust list `operators` entry of a public key file, as YAML to paste. */
function operatorEntry(publicFile: string): string {
  const { kid, alg, ...jwk } = readPublicJwk(publicFile);
  return [
    '',
    'add to the trust list (then sign it with "ridergate trust sign"):',
    'operators:',
    `  - kid: ${JSON.stringify(kid)}`,
    `    alg: ${alg}`,
    `    jwk: ${JSON.stringify(jwk)}`,
    '    uses: [commands, revocations]',
    '',
  ].join('\n');
}

function readPublicJwk(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

/** A key pair is never replaced by accident: its tokens or lists would stop verifying. */
function refuseOverwrite(folder: string, name: string, force: boolean): void {
  const existing = [`${name}.key.json`, `${name}.pub.json`]
    .map((f) => join(folder, f))
    .filter((f) => existsSync(f));
  if (existing.length > 0 && !force) {
    throw new RidergateError(
      'usage',
      `${existing.join(' and ')} already exist; choose another --name, or add --force to replace them (the old private key is lost)`,
    );
  }
}

/** Parses an --alg value. */
export function parseAlg(value: string): TokenAlg {
  if (value === 'EdDSA' || value === 'ES256') return value;
  throw new RidergateError('usage', `--alg ${JSON.stringify(value)}: expected EdDSA or ES256`);
}
