import { parse as parseYaml } from 'yaml';
import { describeError, RidergateError } from '../errors.js';
import { readPublicKey } from '../token/keys.js';
import { looksLikeJws, type SignedTrustList, verifyTrustList } from './signed-trust-list.js';
import { buildTrustList, readTrustFile, type TrustList } from './trust-list.js';

/** A trust list read by a tool, and whether its signature was checked. */
export type ToolTrustList = (TrustList & { signed: false }) | (SignedTrustList & { signed: true });

/**
 * Reads a trust list for a command-line tool: a signed JWS (verified with `rootKeyFile`, which
 * is then required) or a plain YAML/JSON document (for issuers testing before signing).
 * @throws RidergateError `trust_invalid` or `key_invalid` naming the file and the fix.
 */
export async function readTrustForTools(
  file: string,
  rootKeyFile?: string,
): Promise<ToolTrustList> {
  const text = readTrustFile(file);
  if (looksLikeJws(text)) {
    if (rootKeyFile === undefined) {
      throw new RidergateError(
        'trust_invalid',
        `${file}: a signed trust list needs the fleet root public key to check it; pass --root FILE`,
      );
    }
    const root = readPublicKey(rootKeyFile);
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
