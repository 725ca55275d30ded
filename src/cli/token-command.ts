import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { RidergateError } from '../errors.js';
import { issueToken } from '../token/issue.js';
import { readPrivateKey } from '../token/keys.js';
import { verifyToken } from '../token/verify.js';
import { loadTrustList } from '../trust/trust-list.js';
import { renderQr } from './qr-image.js';

interface IssueOptions {
  key: string;
  iss: string;
  sub: string;
  ttl: string;
  sites?: string;
  nbf?: string;
  iat?: string;
  qr?: string;
}

export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('issue and check rider tokens (RP1)');
  token
    .command('issue')
    .description('sign a rider token and print its QR text')
    .requiredOption('--key <file>', 'issuer private key (.key.json from keys gen)')
    .requiredOption('--iss <issuer>', 'issuer id, as named in the trust list')
    .requiredOption('--sub <rider>', "the rider's pseudonymous id")
    .option('--ttl <seconds>', 'lifetime: exp = iat + ttl', '120')
    .option('--sites <ids>', 'comma-separated site ids the token is valid at (default: all)')
    .option('--iat <epochSeconds>', 'issued-at time (default: now)')
    .option('--nbf <epochSeconds>', 'not-before time (default: none)')
    .option('--qr <file.png>', 'also write the QR image')
    .action(async (opts: IssueOptions) => {
      const signer = readPrivateKey(opts.key);
      const iat =
        opts.iat === undefined ? Math.floor(Date.now() / 1000) : parseSeconds('--iat', opts.iat);
      const ttl = parseSeconds('--ttl', opts.ttl);
      const claims = {
        iss: opts.iss,
        sub: opts.sub,
        iat,
        exp: iat + ttl,
        cti: new Uint8Array(randomBytes(16)),
        ...(opts.nbf === undefined ? {} : { nbf: parseSeconds('--nbf', opts.nbf) }),
        ...(opts.sites === undefined ? {} : { sites: parseSites(opts.sites) }),
      };
      const { text, cti } = issueToken({
        privateKey: signer.key,
        kid: signer.kid,
        alg: signer.alg,
        claims,
      });
      process.stdout.write(`${text}\n`);
      if (opts.qr !== undefined) {
        const image = await renderQr(text, 'M');
        writeFileSync(opts.qr, image.png);
        process.stderr.write(`cti ${cti}; QR version ${image.version}-M written to ${opts.qr}\n`);
      }
    });
  token
    .command('verify')
    .description(
      'check a token as a gate would (without revocation and replay) and print the result',
    )
    .argument('<text>', 'the QR text, RP1:...')
    .requiredOption('--trust <file>', 'trust list file')
    .requiredOption('--site <site>', 'the site id of the gate')
    .option('--at <epochSeconds>', 'verification time (default: now)')
    .option('--skew <seconds>', 'allowed clock skew', '30')
    .action((text: string, opts: { trust: string; site: string; at?: string; skew: string }) => {
      const trust = loadTrustList(opts.trust);
      const nowSec =
        opts.at === undefined ? Math.floor(Date.now() / 1000) : parseSeconds('--at', opts.at);
      const result = verifyToken(text.trim(), {
        trust: trust.view,
        nowSec,
        site: opts.site,
        skewSec: parseSeconds('--skew', opts.skew),
      });
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      process.exitCode = result.ok ? 0 : 1;
    });
}

function parseSeconds(flag: string, value: string): number {
  if (!/^\d{1,12}$/.test(value))
    throw new RidergateError('usage', `${flag} ${JSON.stringify(value)}: expected whole seconds`);
  return Number(value);
}

function parseSites(value: string): string[] {
  const sites = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (sites.length === 0) throw new RidergateError('usage', '--sites: give at least one site id');
  return sites;
}
