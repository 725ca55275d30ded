import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LoadedKey, readPrivateKey, writeKeyPair } from '../../src/token/keys.js';
import type { TokenAlg } from '../../src/token/types.js';
import { signTrustList } from '../../src/trust/signed-trust-list.js';
import { type Provisioned, provision } from './gate-app.js';

/** A provisioned gate whose trust list also names an operations key. */
export interface ProvisionedOps extends Provisioned {
  /** The operations private key (signs commands and revocation lists). */
  ops: LoadedKey;
  opsFile: string;
}

/**
 * Provisions `dir` as {@link provision} does, then re-signs its trust list (version 1) with an
 * `operators` section holding a fresh operations key `ops-1`.
 */
export async function provisionWithOperators(
  dir: string,
  alg: TokenAlg = 'EdDSA',
  operatorExtra: Record<string, unknown> = {},
): Promise<ProvisionedOps> {
  const provisioned = await provision(dir);
  const opsPair = writeKeyPair(dir, 'ops', alg, 'ops-1');
  const issuerJwk: unknown = JSON.parse(
    readFileSync(provisioned.privateFile.replace('.key.json', '.pub.json'), 'utf8'),
  );
  const opsJwk = JSON.parse(readFileSync(opsPair.publicFile, 'utf8')) as Record<string, unknown>;
  delete opsJwk.kid;
  delete opsJwk.alg;
  const doc = {
    version: 1,
    issuers: [{ iss: 'eats', keys: [{ kid: provisioned.kid, alg: 'EdDSA', jwk: issuerJwk }] }],
    operators: [{ kid: 'ops-1', alg, jwk: opsJwk, ...operatorExtra }],
  };
  const root = readPrivateKey(join(dir, 'root.key.json'));
  writeFileSync(provisioned.trustFile, await signTrustList(doc, root));
  return { ...provisioned, ops: readPrivateKey(opsPair.privateFile), opsFile: opsPair.privateFile };
}
