import { parse as parseYaml } from 'yaml';
import { describeError, isRidergateError, RidergateError } from '../errors.js';
import { type LoadedKey, readPublicKey } from '../token/keys.js';
import { looksLikeJws, type SignedTrustList, verifyTrustList } from './signed-trust-list.js';
import { buildTrustList, readTrustFile, type TrustList } from './trust-list.js';

/** A trust list read by a tool, and whether its signature was checked. */
export type ToolTrustList = (TrustList & { signed: false }) | (SignedTrustList & { signed: true });

/**
 * Reads a trust list for a command-line tool: a signed JWS (verified with `rootKeyFile`, which
 * is then required) or a plain YAML/JSON document (for issuers testing before signing).
 * @param fileFlag the flag that named `file` (`--trust`), for messages; none for an argument.
 * @throws RidergateError `trust_invalid` for a list that is invalid or does not verify; `usage`
 * when the file cannot be read or the root key is missing or unusable, naming the flag.
 */
export async function readTrustForTools(
  file: string,
  rootKeyFile?: string,
  fileFlag?: string,
): Promise<ToolTrustList> {
  const text = asUsage(fileFlag, () => readTrustFile(file));
  if (looksLikeJws(text)) {
    if (rootKeyFile === undefined) {
      throw new RidergateError(
        'usage',
        `${file}: a signed trust list needs the fleet root public key to check it; pass --root FILE`,
      );
    }
    const root: LoadedKey = asUsage('--root', () => readPublicKey(rootKeyFile));
    return { ...(await verifyTrustList(text, root.key, file)), signed: true };
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new RidergateError(
      'trust_invalid',
      `${file}: neither a compact JWS nor valid YAML/JSON (${describeError(err).split('\n')[0]})`,
      { cause: err },
    );
  }
  return { ...buildTrustList(doc, file), signed: false };
}

/** Runs `read`; its RidergateError becomes a usage error (exit 2), prefixed with the flag. */
function asUsage<T>(flag: string | undefined, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (!isRidergateError(err)) throw err;
    const message = flag === undefined ? err.message : `${flag}: ${err.message}`;
    throw new RidergateError('usage', message, { cause: err });
  }
}
