import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { checkStore } from '../../../src/provision/checks/store-check.js';
import { checkTrust } from '../../../src/provision/checks/trust-check.js';
import { SqliteDb } from '../../../src/store/sqlite.js';
import { SqliteStore } from '../../../src/store/sqlite-store.js';
import { readPrivateKey, writeKeyPair } from '../../../src/token/keys.js';
import { signTrustList } from '../../../src/trust/signed-trust-list.js';
import { TRUST_SETTING } from '../../../src/trust/trust-keeper.js';
import { writeIssuerAndTrust } from '../../helpers/daemon.js';
import { checkInput, fakeSystem } from './check-fixture.js';

describe('database check', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-store-check-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const at = (path: string) => checkInput(fakeSystem(dir), { store: { path } });

  it('accepts a store not created yet: the gate creates it at start', async () => {
    const path = join(dir, 'later', 'gate.db');
    expect(
      await checkStore({ ...at(path), env: { ...fakeSystem(dir), serviceUser: 'root' } }),
    ).toEqual({
      check: 'database',
      status: 'ok',
      detail: `${path} not created yet; the gate creates it (and its folder) at start`,
    });
  });

  it('fails a store.path that names a folder, saying to name a file in it', async () => {
    const input = { ...at(dir), env: { ...fakeSystem(dir), serviceUser: 'root' } };
    expect(await checkStore(input)).toEqual({
      check: 'database',
      status: 'fail',
      detail: `store.path ${dir} is a folder (or a device), not a database file`,
      fix: `set store.path to a file in it, e.g. ${dir}/ridergate.db`,
    });
  });

  it('passes a sound database read-only and fails a corrupt one with what the gate will do', async () => {
    const path = join(dir, 'good.db');
    const db = await SqliteDb.open(path);
    await db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1);');
    await db.close();
    const input = { ...at(path), env: { ...fakeSystem(dir), serviceUser: 'root' } };
    expect(await checkStore(input)).toMatchObject({
      status: 'ok',
      detail: `${path} passes quick_check`,
    });

    const bad = join(dir, 'bad.db');
    const bytes = readFileSync(path);
    bytes.fill(0x5a, 100, 4096 * 2); // the header survives, the schema page does not
    writeFileSync(bad, bytes);
    const result = await checkStore({ ...input, config: at(bad).config });
    expect(result.status).toBe('fail');
    expect(result.detail).toMatch(new RegExp(`^${bad}: `));
    expect(result.fix).toContain('moves a corrupt file aside');
  });

  it('fails when the service user cannot write the store folder', async () => {
    const folder = join(dir, 'locked');
    mkdirSync(folder);
    chmodSync(folder, 0o755);
    expect(await checkStore(at(join(folder, 'gate.db')))).toMatchObject({
      status: 'fail',
      detail: `user ridergate cannot write ${folder}, where ${join(folder, 'gate.db')} is kept`,
      fix: `chown ridergate ${folder}; chmod 0750 ${folder} (scripts/install.sh sets up /var/lib/ridergate)`,
    });
  });
});

describe('trust list check', () => {
  let dir: string;
  let keys: Awaited<ReturnType<typeof writeIssuerAndTrust>>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-trust-check-'));
    keys = await writeIssuerAndTrust(dir, 'eats');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const NOW = Date.UTC(2026, 5, 1);
  const input = (trust: { rootKeyFile: string; file: string }) =>
    checkInput({ ...fakeSystem(dir), nowMs: () => NOW }, { trust });

  /** A list signed by the root key of `keys`, with the issuer key's notAfter and issuedAt. */
  async function listWith(name: string, key: { notAfter?: string }, issuedAt?: string) {
    const jwk: unknown = JSON.parse(readFileSync(join(dir, 'issuer.pub.json'), 'utf8'));
    const doc = {
      version: 7,
      ...(issuedAt === undefined ? {} : { issuedAt }),
      issuers: [{ iss: 'eats', keys: [{ kid: keys.kid, alg: 'EdDSA', jwk, ...key }] }],
    };
    const file = join(dir, name);
    writeFileSync(file, await signTrustList(doc, readPrivateKey(join(dir, 'root.key.json'))));
    return { rootKeyFile: keys.rootKeyFile, file };
  }

  it('passes a list that verifies with the root key, naming its version', async () => {
    expect(
      await checkTrust(input({ rootKeyFile: keys.rootKeyFile, file: keys.trustFile })),
    ).toEqual({
      check: 'trust list',
      status: 'ok',
      detail: 'version 1, 1 key(s) of 1 issuer(s)',
    });
  });

  it('fails a root key file that holds the private key, with the rotation to do', async () => {
    const root = join(dir, 'root.key.json');
    const result = await checkTrust(input({ rootKeyFile: root, file: keys.trustFile }));
    expect(result).toMatchObject({
      check: 'trust list',
      status: 'fail',
      detail: expect.stringContaining(`${root}: holds a private key ("d")`),
      fix: 'replace the file with the public key (root.pub.json), and have operations rotate the fleet root key',
    });
  });

  it('judges the newer list the gate received over MQTT, saying it is the one in force', async () => {
    const fromFile = await listWith('v7.jws', {});
    const jwk: unknown = JSON.parse(readFileSync(join(dir, 'issuer.pub.json'), 'utf8'));
    const newer = await signTrustList(
      { version: 9, issuers: [{ iss: 'eats', keys: [{ kid: keys.kid, alg: 'EdDSA', jwk }] }] },
      readPrivateKey(join(dir, 'root.key.json')),
    );
    const storePath = join(dir, 'stored.db');
    const store = new SqliteStore(storePath, silentLogger());
    await store.open();
    await store.setSetting(TRUST_SETTING, newer);
    await store.close();
    const result = await checkTrust(
      checkInput(
        { ...fakeSystem(dir), nowMs: () => NOW },
        { trust: fromFile, store: { path: storePath, retentionDays: 90 } },
      ),
    );
    expect(result).toEqual({
      check: 'trust list',
      status: 'ok',
      detail:
        "version 9 in force (received by the gate, newer than the file's version 7), 1 key(s) of 1 issuer(s)",
    });
  });

  it('fails a list signed by another root key', async () => {
    mkdirSync(join(dir, 'other'));
    const other = writeKeyPair(join(dir, 'other'), 'root', 'EdDSA');
    const result = await checkTrust(input({ rootKeyFile: other.publicFile, file: keys.trustFile }));
    expect(result).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('ridergate trust sign'),
    });
    expect(result.detail).toContain('the signature does not verify with the fleet root key');
  });

  it('warns of a key expiring within 30 days and of an old list; fails when every key expired', async () => {
    const soon = await checkTrust(
      input(await listWith('soon.jws', { notAfter: '2026-06-20T00:00:00Z' })),
    );
    expect(soon).toMatchObject({
      status: 'warn',
      detail: `version 7, 1 key(s) of 1 issuer(s); key eats/${keys.kid} expires 2026-06-20`,
    });
    const old = await checkTrust(input(await listWith('old.jws', {}, '2025-12-01T00:00:00Z')));
    expect(old).toMatchObject({
      status: 'warn',
      detail: 'version 7, 1 key(s) of 1 issuer(s); issued 182 days ago',
    });
    const gone = await checkTrust(
      input(await listWith('gone.jws', { notAfter: '2026-05-01T00:00:00Z' })),
    );
    expect(gone).toMatchObject({
      status: 'fail',
      detail:
        'version 7, 1 key(s) of 1 issuer(s); every key has expired, so every token is refused',
    });
  });
});
