import { readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { isRidergateError, RidergateError } from '../errors.js';
import { type CheckLine, explainCoseSign1, explainToken } from '../token/explain.js';
import { type LoadedKey, readPublicKey } from '../token/keys.js';
import type { TrustView } from '../token/types.js';
import { readTrustForTools } from '../trust/read-trust.js';
import { DEFAULT_MAX_LIFETIME_SEC } from '../trust/trust-list.js';
import { decodeQrPngChecked } from './qr-image.js';
import { parseHex, parseSeconds } from './token-args.js';

interface VerifyFlags {
  image?: string;
  coseHex?: string;
  trust?: string;
  root?: string;
  jwk?: string;
  site?: string;
  at?: string;
  skew: string;
  maxLifetime?: string;
  json?: boolean;
}

/** Largest --image file read, bytes. */
const MAX_IMAGE_BYTES = 32 * 1024 * 1024;

/** Exit codes of `token verify`: 0 pass, 1 deny (a usage error is 2, set by main). */
const EXIT_PASS = 0;
const EXIT_DENY = 1;

/** Registers `ridergate token verify`. */
export function registerTokenVerify(token: Command): void {
  token
    .command('verify')
    .description(
      'check a token as a gate would (without revocation and replay) and explain every check; ' +
        'exit 0 pass, 1 deny, 2 usage error',
    )
    .argument('[text]', 'the QR text, RP1:...')
    .option('--image <file.png>', 'read the QR text from a PNG image instead')
    .option('--cose-hex <hex>', 'check a bare COSE_Sign1 (hex) with --jwk instead of a token')
    .option('--trust <file>', 'trust list file: signed (with --root) or a plain YAML/JSON document')
    .option('--root <file>', 'fleet root public key, to check a signed trust list')
    .option('--jwk <file>', "one public JWK (from keys gen), trusted for the token's own iss")
    .option('--site <site>', "the gate's site id (default: the site check is skipped)")
    .option('--at <epochSeconds>', 'verification time (default: now)')
    .option('--skew <seconds>', 'allowed clock skew', '30')
    .option('--max-lifetime <seconds>', `with --jwk: the issuer's maximum lifetime`)
    .option('--json', 'print {ok, reason, claims} as JSON instead of the table')
    .action(async (text: string | undefined, flags: VerifyFlags) => {
      const source = checkFlags(text, flags);
      process.exitCode =
        source.kind === 'cose'
          ? verifyCose(source.bytes, flags)
          : await verifyText(source.text, flags);
    });
}

type Source = { kind: 'text'; text: string } | { kind: 'cose'; bytes: Uint8Array };

/** Checks the combination of flags; returns what to verify. */
function checkFlags(text: string | undefined, flags: VerifyFlags): Source {
  const given = [text, flags.image, flags.coseHex].filter((v) => v !== undefined).length;
  if (given !== 1) {
    throw usage('give the token as TEXT, --image FILE.png or --cose-hex HEX (exactly one)');
  }
  if (flags.trust !== undefined && flags.jwk !== undefined) {
    throw usage('--trust and --jwk: give one of them, not both');
  }
  if (flags.coseHex !== undefined) {
    if (flags.jwk === undefined) throw usage('--cose-hex needs --jwk FILE (the public key)');
    for (const [flag, value] of [
      ['--site', flags.site],
      ['--at', flags.at],
      ['--max-lifetime', flags.maxLifetime],
    ] as const) {
      if (value !== undefined)
        throw usage(`${flag} does not apply to --cose-hex, which checks the signature only`);
    }
    return { kind: 'cose', bytes: parseHex('--cose-hex', flags.coseHex) };
  }
  if (flags.trust === undefined && flags.jwk === undefined) {
    throw usage('give --trust FILE (a trust list) or --jwk FILE (one public key)');
  }
  if (flags.maxLifetime !== undefined && flags.jwk === undefined) {
    throw usage("--max-lifetime applies to --jwk only; a trust list sets each issuer's maximum");
  }
  if (flags.image !== undefined) return { kind: 'text', text: readImage(flags.image) };
  return { kind: 'text', text: (text ?? '').trim() };
}

async function verifyText(text: string, flags: VerifyFlags): Promise<number> {
  const nowSec =
    flags.at === undefined ? Math.floor(Date.now() / 1000) : parseSeconds('--at', flags.at);
  const skewSec = parseSeconds('--skew', flags.skew);
  const trust = await trustFromFlags(flags);
  const { result, checks } = explainToken(text, { trust, nowSec, skewSec, site: flags.site });
  const claims = result.claims ?? null;
  if (flags.json === true) {
    const out = result.ok
      ? { ok: true, reason: null, claims }
      : { ok: false, reason: result.reason, detail: result.detail, claims };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    const verdict = result.ok
      ? 'pass: every check passed (revocation and replay are checked at the gate only)'
      : `deny: ${result.reason} (${result.detail})`;
    process.stdout.write(`${table(checks)}\n\n${verdict}\n`);
  }
  return result.ok ? EXIT_PASS : EXIT_DENY;
}

function verifyCose(bytes: Uint8Array, flags: VerifyFlags): number {
  const key = readKey(flags.jwk ?? '');
  const explained = explainCoseSign1(bytes, { publicKey: key.key, alg: key.alg, kid: key.kid });
  if (flags.json === true) {
    const { ok, reason = null, claims = null } = explained;
    process.stdout.write(`${JSON.stringify({ ok, reason, claims }, null, 2)}\n`);
  } else {
    const verdict = explained.ok
      ? 'pass: the COSE_Sign1 signature verifies with the key'
      : `fail: ${explained.reason ?? 'malformed'}`;
    process.stdout.write(`${table(explained.checks)}\n\n${verdict}\n`);
  }
  return explained.ok ? EXIT_PASS : EXIT_DENY;
}

/** The trust view from --trust, or a one-key view from --jwk for whatever iss the token names. */
async function trustFromFlags(flags: VerifyFlags): Promise<TrustView> {
  if (flags.trust !== undefined) {
    try {
      return (await readTrustForTools(flags.trust, flags.root, '--trust')).view;
    } catch (err) {
      // A file or key that cannot be read already names its flag.
      if (isRidergateError(err, 'usage')) throw err;
      if (isRidergateError(err)) throw usage(`--trust: ${err.message}`, err);
      throw err;
    }
  }
  const key = readKey(flags.jwk ?? '');
  const maxLifetimeSec =
    flags.maxLifetime === undefined
      ? DEFAULT_MAX_LIFETIME_SEC
      : parseSeconds('--max-lifetime', flags.maxLifetime);
  if (maxLifetimeSec < 1) throw usage('--max-lifetime: expected at least 1 second');
  return jwkTrustView(key, maxLifetimeSec);
}

/**
 * A trust view holding one key, trusted for any iss (the token's own), at every site, with
 * the given maximum lifetime. The kid must still match: a gate looks keys up by iss and kid.
 */
export function jwkTrustView(key: LoadedKey, maxLifetimeSec: number): TrustView {
  return {
    issuer: (iss) => ({ iss, maxLifetimeSec }),
    key: (iss, kid) =>
      kid === key.kid ? { iss, kid, alg: key.alg, publicKey: key.key } : undefined,
  };
}

function readKey(file: string): LoadedKey {
  try {
    return readPublicKey(file);
  } catch (err) {
    if (isRidergateError(err)) throw usage(`--jwk: ${err.message}`, err);
    throw err;
  }
}

/** Reads the QR text from a PNG file; every problem is a usage error naming --image. */
function readImage(file: string): string {
  let png: Buffer;
  try {
    const stat = statSync(file);
    // A FIFO or a device would block or never end.
    if (!stat.isFile())
      throw usage(
        `--image ${file}: not a regular file (a folder, FIFO or device); expected a PNG image`,
      );
    const size = stat.size;
    if (size > MAX_IMAGE_BYTES) {
      throw usage(`--image ${file}: ${size} bytes; at most ${MAX_IMAGE_BYTES}`);
    }
    png = readFileSync(file);
  } catch (err) {
    if (isRidergateError(err)) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw usage(`--image ${file}: cannot read the file (${code}); expected a PNG image`, err);
  }
  const decoded = decodeQrPngChecked(png);
  if (!decoded.ok) throw usage(`--image ${file}: ${decoded.detail}`);
  return decoded.value.trim();
}

/** Check lines as an aligned text table. */
function table(lines: Array<Pick<CheckLine, 'outcome' | 'detail'> & { check: string }>): string {
  const rows = [['check', 'outcome', 'found'], ...lines.map((l) => [l.check, l.outcome, l.detail])];
  const width = (col: number) => Math.max(...rows.map((r) => (r[col] ?? '').length));
  const [w0, w1] = [width(0), width(1)];
  return rows
    .map((r) => `${(r[0] ?? '').padEnd(w0)}  ${(r[1] ?? '').padEnd(w1)}  ${r[2] ?? ''}`.trimEnd())
    .join('\n');
}

function usage(message: string, cause?: unknown): RidergateError {
  return new RidergateError('usage', message, cause === undefined ? {} : { cause });
}
