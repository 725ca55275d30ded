import type { Command } from 'commander';
import { RidergateError } from '../errors.js';
import { writeOutputFile } from '../files.js';
import { MAX_TEXT_CHARS } from '../token/claims.js';
import { issueToken } from '../token/issue.js';
import { readKeyFlag } from './ops-flags.js';
import { renderQr } from './qr-image.js';
import { parseQrLevel, parseSeconds, parseSites, parseTtl } from './token-args.js';
import { registerTokenVerify } from './token-verify-command.js';

interface IssueOptions {
  key: string;
  iss: string;
  sub: string;
  ttl: string;
  sites?: string;
  nbf?: string;
  iat?: string;
  tagged?: boolean;
  qr?: string;
  qrLevel: string;
}

/** The RP1 target: a QR of this version or lower at level M (DESIGN.md "The rider token"). */
const TARGET_QR_VERSION = 8;

export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('issue and check rider tokens (RP1)');
  token
    .command('issue')
    .description('sign a rider token and print its QR text')
    .requiredOption('--key <file>', 'issuer private key (.key.json from keys gen)')
    .requiredOption('--iss <issuer>', 'issuer id, as named in the trust list')
    .requiredOption('--sub <rider>', "the rider's pseudonymous id")
    .option('--ttl <seconds>', 'lifetime in seconds, 1-86400: exp = iat + ttl', '120')
    .option('--sites <ids>', 'comma-separated site ids the token is valid at (default: all)')
    .option('--iat <epochSeconds>', 'issued-at time (default: now)')
    .option('--nbf <epochSeconds>', 'not-before time (default: none)')
    .option('--tagged', 'wrap the COSE_Sign1 in CBOR tag 18 (one byte more; default untagged)')
    .option('--qr <file.png>', 'also write the QR image')
    .option('--qr-level <level>', 'QR error-correction level: L, M, Q or H', 'M')
    .action(async (opts: IssueOptions) => {
      const level = parseQrLevel('--qr-level', opts.qrLevel);
      const signer = readKeyFlag('--key', opts.key, 'private');
      const iat =
        opts.iat === undefined ? Math.floor(Date.now() / 1000) : parseSeconds('--iat', opts.iat);
      const ttl = parseTtl('--ttl', opts.ttl);
      const claims = {
        iss: parseClaimText('--iss', opts.iss),
        sub: parseClaimText('--sub', opts.sub),
        iat,
        exp: iat + ttl,
        ...(opts.nbf === undefined ? {} : { nbf: parseSeconds('--nbf', opts.nbf) }),
        ...(opts.sites === undefined ? {} : { sites: parseSites(opts.sites) }),
      };
      const { text, cti } = issueToken({
        privateKey: signer.key,
        kid: signer.kid,
        alg: signer.alg,
        claims,
        tagged: opts.tagged === true,
      });
      // The image first: when it cannot be written, the command fails without printing a token.
      if (opts.qr !== undefined) await writeQr(opts.qr, text, cti, level);
      process.stdout.write(`${text}\n`);
    });
  registerTokenVerify(token);
}

/** `--iss` and `--sub`: text a gate accepts in those claims, checked before anything is signed. */
function parseClaimText(flag: string, value: string): string {
  if (value.length === 0 || value.length > MAX_TEXT_CHARS)
    throw new RidergateError(
      'usage',
      `${flag}: expected 1 to ${MAX_TEXT_CHARS} characters (got ${value.length})`,
    );
  return value;
}

/** Writes the QR PNG and says on stderr what it is (stdout keeps only the token text). */
async function writeQr(
  file: string,
  text: string,
  cti: string,
  level: ReturnType<typeof parseQrLevel>,
): Promise<void> {
  const image = await renderQr(text, level);
  writeOutputFile(file, image.png, '--qr');
  const size = `${image.modules}×${image.modules} modules, ${text.length} characters`;
  process.stderr.write(
    `cti ${cti}; QR version ${image.version}-${level} written to ${file} ` +
      `(version ${image.version}, error correction level ${level}, ${size})\n`,
  );
  if (level === 'M' && image.version > TARGET_QR_VERSION) {
    process.stderr.write(
      `note: above the RP1 target of version ${TARGET_QR_VERSION} at level M; ` +
        'a shorter kid, sub or site ids brings it down\n',
    );
  }
}
