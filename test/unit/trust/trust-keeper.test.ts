import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompactSign } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { SqliteStore } from '../../../src/store/sqlite-store.js';
import { issueToken } from '../../../src/token/issue.js';
import { generateKeyPair, type LoadedKey } from '../../../src/token/keys.js';
import { verifyToken } from '../../../src/token/verify.js';
import { signTrustList, TRUST_JWS_TYPE } from '../../../src/trust/signed-trust-list.js';
import { TrustKeeper } from '../../../src/trust/trust-keeper.js';

const NOW = 1_780_000_000;

function rootKey(): LoadedKey & { publicKey: LoadedKey['key'] } {
  const pair = generateKeyPair('EdDSA');
  return { key: pair.privateKey, publicKey: pair.publicKey, kid: 'root-1', alg: 'EdDSA' };
}

function issuerKey(kid: string) {
  const pair = generateKeyPair('EdDSA');
  return { kid, ...pair, jwk: pair.publicKey.export({ format: 'jwk' }) };
}

type IssuerKey = ReturnType<typeof issuerKey>;

function doc(version: number, keys: (IssuerKey & { notBefore?: number; notAfter?: number })[]) {
  return {
    version,
    issuers: [
      {
        iss: 'eats',
        keys: keys.map((k) => ({
          kid: k.kid,
          alg: 'EdDSA',
          jwk: k.jwk,
          ...(k.notBefore === undefined ? {} : { notBefore: k.notBefore }),
          ...(k.notAfter === undefined ? {} : { notAfter: k.notAfter }),
        })),
      },
    ],
  };
}

describe('the gate keeps the last valid signed trust list', () => {
  let dir: string;
  let store: SqliteStore;
  const root = rootKey();
  const keyA = issuerKey('a');

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-trust-'));
    store = new SqliteStore(join(dir, 'gate.db'), silentLogger());
    await store.open();
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const keeper = () => new TrustKeeper({ store, rootKey: root.publicKey, log: silentLogger() });
  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it('takes a list signed by the root key from the file and keeps it across restarts', async () => {
    const file = write('trust.jws', await signTrustList(doc(1, [keyA]), root));
    const first = keeper();
    await first.start(file);
    expect(first.version()).toBe(1);
    expect(first.key('eats', 'a')).toBeDefined();

    rmSync(file);
    const restarted = keeper();
    await restarted.start(file);
    expect(restarted.version()).toBe(1);
    expect(restarted.issuer('eats')?.maxLifetimeSec).toBe(300);
  });

  it('refuses a list signed by another key and keeps the one in force', async () => {
    const gate = keeper();
    await gate.start(write('v1.jws', await signTrustList(doc(1, [keyA]), root)));
    const other = rootKey();
    const forged = await signTrustList(doc(9, [issuerKey('evil')]), other);
    const offer = await gate.offer(forged, 'mqtt');
    expect(offer).toMatchObject({ accepted: false, reason: 'invalid' });
    expect(offer.accepted === false && offer.detail).toContain(
      'does not verify with the fleet root key',
    );
    expect(gate.version()).toBe(1);
    expect(gate.key('eats', 'evil')).toBeUndefined();
  });

  it('refuses a list whose version is not newer, so a retired key cannot come back', async () => {
    const gate = keeper();
    await gate.start(write('v2.jws', await signTrustList(doc(2, [keyA]), root)));
    const older = await signTrustList(doc(1, [keyA, issuerKey('old')]), root);
    expect(await gate.offer(older, 'file')).toMatchObject({ accepted: false, reason: 'not_newer' });
    const same = await signTrustList(doc(2, [keyA, issuerKey('old')]), root);
    expect(await gate.offer(same, 'file')).toMatchObject({ accepted: false, reason: 'not_newer' });
    expect(gate.key('eats', 'old')).toBeUndefined();
    expect(await gate.offer(await signTrustList(doc(3, [keyA]), root), 'file')).toEqual({
      accepted: true,
      version: 3,
    });
  });

  it('refuses a root-signed list whose version is beyond 2^53 - 1, and still takes the next one', async () => {
    const gate = keeper();
    await gate.start(write('v2.jws', await signTrustList(doc(2, [keyA]), root)));
    // Signed without the checks of signTrustList, as an older tool would have.
    const sign = (body: unknown) =>
      new CompactSign(new TextEncoder().encode(JSON.stringify(body)))
        .setProtectedHeader({ alg: 'EdDSA', kid: 'root-1', typ: TRUST_JWS_TYPE })
        .sign(root.key);
    for (const version of [1e300, 2 ** 53]) {
      const offer = await gate.offer(await sign(doc(version, [keyA, issuerKey('x')])), 'mqtt');
      expect(offer).toMatchObject({ accepted: false, reason: 'invalid' });
      expect(offer.accepted === false && offer.detail).toContain(
        `version: ${String(version)} is over the largest allowed, 9007199254740991`,
      );
    }
    expect(gate.version()).toBe(2);
    expect(await gate.offer(await signTrustList(doc(3, [keyA]), root), 'mqtt')).toEqual({
      accepted: true,
      version: 3,
    });
  });

  it('refuses a JWS of another type signed by the root key (a command is not a trust list)', async () => {
    const payload = new TextEncoder().encode(JSON.stringify(doc(5, [keyA])));
    const command = await new CompactSign(payload)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'ridergate-cmd+jws' })
      .sign(root.key);
    const offer = await keeper().offer(command, 'mqtt');
    expect(offer.accepted === false && offer.detail).toContain(`expected "${TRUST_JWS_TYPE}"`);
  });

  it('runs with no list at all, denying every token as unknown_key', async () => {
    const gate = keeper();
    await gate.start(join(dir, 'absent.jws'));
    expect(gate.version()).toBeUndefined();
    const text = issueToken({
      privateKey: keyA.privateKey,
      kid: 'a',
      alg: 'EdDSA',
      claims: { iss: 'eats', sub: 'r', iat: NOW, exp: NOW + 60 },
    }).text;
    expect(verifyToken(text, { trust: gate, nowSec: NOW, site: 's', skewSec: 30 })).toMatchObject({
      ok: false,
      reason: 'unknown_key',
    });
  });

  it('accepts tokens of the old and the new key during a rotation, and only the new one after', async () => {
    const keyB = issuerKey('b');
    const gate = keeper();
    const rotation = doc(2, [
      { ...keyA, notAfter: NOW + 3600 },
      { ...keyB, notBefore: NOW - 60 },
    ]);
    await gate.start(write('rotation.jws', await signTrustList(rotation, root)));
    const tokenOf = (k: IssuerKey, at: number) =>
      issueToken({
        privateKey: k.privateKey,
        kid: k.kid,
        alg: 'EdDSA',
        claims: { iss: 'eats', sub: 'r', iat: at, exp: at + 120 },
      }).text;
    const check = (text: string, at: number) =>
      verifyToken(text, { trust: gate, nowSec: at, site: 's', skewSec: 30 });

    expect(check(tokenOf(keyA, NOW), NOW).ok).toBe(true);
    expect(check(tokenOf(keyB, NOW), NOW).ok).toBe(true);
    const later = NOW + 3600;
    expect(check(tokenOf(keyA, later), later)).toMatchObject({ ok: false, reason: 'unknown_key' });
    expect(check(tokenOf(keyB, later), later).ok).toBe(true);
  });
});
