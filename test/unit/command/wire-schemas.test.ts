import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../../src/command/parse-command.js';
import { signCommand } from '../../../src/command/sign-command.js';
import { readDoc, signRevocationDoc } from '../../../src/revocation/revocation-doc.js';
import { generateKeyPair } from '../../../src/token/keys.js';
import { describeErrors, loadValidators, SCHEMAS_DIR } from '../../helpers/schemas.js';

// The gate's parsers and the operations tools agree with the published contract (schemas/).
const validators = loadValidators();
const examples = (name: string) =>
  (
    JSON.parse(readFileSync(join(SCHEMAS_DIR, 'examples', `${name}.json`), 'utf8')) as {
      valid: Record<string, unknown>[];
    }
  ).valid;
const pair = generateKeyPair('EdDSA');
const key = { key: pair.privateKey, kid: 'ops-1', alg: 'EdDSA' as const };

function expectValid(name: string, value: unknown): void {
  const validate = validators.get(name);
  if (validate === undefined) throw new Error(`no schema ${name}`);
  expect(validate(value), describeErrors(validate.errors)).toBe(true);
}

describe('commands and revocation lists against schemas/', () => {
  it('every valid command example, signed, is accepted by the gate', async () => {
    for (const ex of examples('command')) {
      const { jws } = await signCommand(
        {
          cmd: ex.cmd as 'open',
          site: String(ex.site),
          gate: ex.gate as string | undefined,
          args: ex.args as Record<string, unknown> | undefined,
          jti: String(ex.jti),
          iatSec: Number(ex.iat),
          ttlSec: Number(ex.exp) - Number(ex.iat),
        },
        key,
      );
      const out = await parseCommand(jws, {
        site: String(ex.site),
        gate: (ex.gate as string | undefined) ?? 'g1',
        nowSec: Number(ex.iat),
        skewSec: 30,
        operator: () => ({
          kid: 'ops-1',
          alg: 'EdDSA',
          publicKey: pair.publicKey,
          uses: new Set(['commands']),
        }),
      });
      expect(out, JSON.stringify(ex)).toMatchObject({ ok: true });
    }
  });

  it('what ridergate cmd sign produces matches the command schema', async () => {
    const { jws } = await signCommand(
      { cmd: 'revoke', site: 'north', args: { iss: 'eats', cti: 'ab12' } },
      key,
    );
    expectValid('command', decodeJwt(jws));
  });

  it('every valid revocation example is read; what the tools sign matches the schemas', async () => {
    for (const ex of [...examples('revocation-snapshot'), ...examples('revocation-delta')]) {
      expect(readDoc(ex).seq).toBe(ex.seq);
    }
    const snapshot = {
      kind: 'snapshot',
      seq: 3,
      issuedAt: 1,
      entries: [{ iss: 'eats', sub: 'r', until: 9 }],
    };
    expectValid('revocation-snapshot', decodeJwt(await signRevocationDoc(snapshot, key)));
    const delta = {
      kind: 'delta',
      seq: 4,
      issuedAt: 1,
      add: [],
      remove: [{ iss: 'eats', cti: 'ab' }],
    };
    expectValid('revocation-delta', decodeJwt(await signRevocationDoc(delta, key)));
  });
});
