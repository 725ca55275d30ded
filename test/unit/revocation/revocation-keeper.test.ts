import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { signRevocationDoc } from '../../../src/revocation/revocation-doc.js';
import { RevocationKeeper } from '../../../src/revocation/revocation-keeper.js';
import { SqliteStore } from '../../../src/store/sqlite-store.js';
import { generateKeyPair, type LoadedKey } from '../../../src/token/keys.js';
import type { OperatorKey, OperatorUse } from '../../../src/trust/operators.js';

const pair = generateKeyPair('EdDSA');
const ops: LoadedKey = { key: pair.privateKey, kid: 'ops-1', alg: 'EdDSA' };
const NOW_SEC = 1_800_000_000;

function operatorWith(uses: OperatorUse[]): (kid: string) => OperatorKey | undefined {
  return (kid) =>
    kid === 'ops-1'
      ? { kid, alg: 'EdDSA', publicKey: pair.publicKey, uses: new Set(uses) }
      : undefined;
}

const snapshot = (seq: number, entries: unknown[]) =>
  signRevocationDoc({ kind: 'snapshot', seq, issuedAt: NOW_SEC, entries }, ops);
const delta = (seq: number, add: unknown[], remove: unknown[] = []) =>
  signRevocationDoc({ kind: 'delta', seq, issuedAt: NOW_SEC, add, remove }, ops);

describe('RevocationKeeper', () => {
  let dir: string;
  let store: SqliteStore;
  let nowMs: number;
  let alarms: string[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-revocations-'));
    store = new SqliteStore(join(dir, 'gate.db'), silentLogger());
    await store.open();
    nowMs = NOW_SEC * 1000;
    alarms = [];
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function keeper(
    uses: OperatorUse[] = ['revocations'],
    over = {},
  ): Promise<RevocationKeeper> {
    const k = new RevocationKeeper({
      store,
      operator: operatorWith(uses),
      nowMs: () => nowMs,
      skewSec: 30,
      log: silentLogger(),
      staleAfterSec: 3600,
      onStale: (detail) => {
        alarms.push(detail);
      },
      ...over,
    });
    await k.start();
    k.stop();
    return k;
  }

  it('takes a snapshot, then deltas in order; keeps them across a restart', async () => {
    const k = await keeper();
    expect(
      await k.offer(
        await snapshot(5, [
          { iss: 'eats', sub: 'r1' },
          { iss: 'eats', cti: 'AB01' },
        ]),
        't',
      ),
    ).toEqual({ taken: true, seq: 5 });
    expect(k.isRevoked('eats', 'r1', 'ff', NOW_SEC)).toBe(true);
    expect(k.isRevoked('eats', 'r9', 'ab01', NOW_SEC)).toBe(true);
    expect(
      await k.offer(
        await delta(
          6,
          [{ iss: 'eats', sub: 'r2', until: NOW_SEC + 60 }],
          [{ iss: 'eats', sub: 'r1' }],
        ),
        't',
      ),
    ).toEqual({ taken: true, seq: 6 });
    expect(k.isRevoked('eats', 'r1', 'ff', NOW_SEC)).toBe(false);
    expect(k.isRevoked('eats', 'r2', 'ff', NOW_SEC)).toBe(true);
    expect(k.isRevoked('eats', 'r2', 'ff', NOW_SEC + 60)).toBe(false);
    expect(k.status()).toMatchObject({
      seq: 6,
      entries: 2,
      waitingForSnapshot: false,
      stale: false,
    });

    await store.close();
    await store.open();
    const again = await keeper();
    expect(again.status()).toMatchObject({ seq: 6, entries: 2, lastUpdateTs: nowMs });
    expect(again.isRevoked('eats', 'r2', 'ff', NOW_SEC)).toBe(true);
    expect(again.isRevoked('eats', 'x', 'ab01', NOW_SEC)).toBe(true);
  });

  it('a gap makes it wait for the next snapshot and ignore deltas until then, across a restart', async () => {
    const k = await keeper();
    await k.offer(await snapshot(1, []), 't');
    expect(await k.offer(await delta(3, [{ iss: 'eats', sub: 'r3' }]), 't')).toMatchObject({
      taken: false,
      reason: 'gap',
    });
    expect(k.status().waitingForSnapshot).toBe(true);
    expect(await k.offer(await delta(2, [{ iss: 'eats', sub: 'r2' }]), 't')).toMatchObject({
      reason: 'waiting',
    });
    expect(k.isRevoked('eats', 'r2', 'ff', NOW_SEC)).toBe(false);

    await store.close();
    await store.open();
    const again = await keeper();
    expect(again.status().waitingForSnapshot).toBe(true);
    expect(await again.offer(await snapshot(3, [{ iss: 'eats', sub: 'r3' }]), 't')).toEqual({
      taken: true,
      seq: 3,
    });
    expect(again.status()).toMatchObject({ seq: 3, entries: 1, waitingForSnapshot: false });
    expect(await again.offer(await delta(4, [{ iss: 'eats', sub: 'r4' }]), 't')).toEqual({
      taken: true,
      seq: 4,
    });
  });

  it('refuses an older or equal snapshot, an unsigned or wrongly signed one, and a key not allowed for revocations', async () => {
    const k = await keeper();
    await k.offer(await snapshot(4, []), 't');
    expect(await k.offer(await snapshot(4, [{ iss: 'eats', sub: 'x' }]), 't')).toMatchObject({
      reason: 'not_newer',
    });
    const other = generateKeyPair('EdDSA');
    const forged = await signRevocationDoc(
      { kind: 'snapshot', seq: 9, issuedAt: 1, entries: [] },
      { key: other.privateKey, kid: 'ops-1', alg: 'EdDSA' },
    );
    expect(await k.offer(forged, 't')).toMatchObject({ taken: false, reason: 'invalid' });
    const cmdOnly = await keeper(['commands']);
    const result = await cmdOnly.offer(await snapshot(10, []), 't');
    expect(result).toMatchObject({ taken: false, reason: 'invalid' });
    if (!result.taken) expect(result.detail).toContain('no operations key for revocations');
  });

  it('refuses a document over the size limit with a clear error', async () => {
    const k = await keeper(['revocations'], { maxBytes: 2048 });
    const entries = Array.from({ length: 100 }, (_, i) => ({ iss: 'eats', sub: `rider-${i}` }));
    const result = await k.offer(await snapshot(1, entries), 't');
    expect(result).toMatchObject({ taken: false, reason: 'invalid' });
    if (!result.taken) expect(result.detail).toMatch(/bytes, over the limit of 2048/);
  });

  it('raises revocations_stale once per episode, and clears with the next update', async () => {
    const k = await keeper();
    await k.offer(await snapshot(1, []), 't');
    nowMs += 3601_000;
    k.checkStale();
    k.checkStale();
    expect(k.status().stale).toBe(true);
    expect(alarms).toHaveLength(1);
    await k.offer(await delta(2, []), 't');
    expect(k.status().stale).toBe(false);
    nowMs += 3601_000;
    k.checkStale();
    expect(alarms).toHaveLength(2);
  });
});
