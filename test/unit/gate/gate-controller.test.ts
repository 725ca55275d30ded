import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/clock.js';
import { GateController } from '../../../src/gate/gate-controller.js';
import { SimRelay } from '../../../src/gpio/sim-relay.js';
import type { Pulse, Relay } from '../../../src/gpio/types.js';
import { silentLogger } from '../../../src/log.js';
import { SqliteStore } from '../../../src/store/sqlite-store.js';
import type { Store } from '../../../src/store/types.js';
import { issueToken } from '../../../src/token/issue.js';
import { NOW_SEC, type TestKey, testKey, trustOf } from '../token/support.js';

const SITE = 'site-a';
const GRACE_SEC = 20;

/** A clock the test moves by hand. */
function manualClock(startMs: number): Clock & { advance(ms: number): void } {
  let now = startMs;
  return {
    nowMs: () => now,
    monoMs: () => performance.now(),
    state: () => 'synced',
    advance: (ms) => {
      now += ms;
    },
  };
}

describe('the decision pipeline with the simulated relay and a store on disk', () => {
  let dir: string;
  let store: SqliteStore;
  let relay: SimRelay;
  let key: TestKey;
  let clock: ReturnType<typeof manualClock>;
  let gate: GateController;
  let notified: number;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-gate-'));
    store = new SqliteStore(join(dir, 'gate.db'), silentLogger());
    await store.open();
    relay = new SimRelay(silentLogger());
    await relay.init();
    key = testKey('EdDSA');
    clock = manualClock(NOW_SEC * 1000);
    notified = 0;
    gate = makeGate(store, relay);
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function makeGate(s: Store, r: Relay): GateController {
    return new GateController(
      { site: SITE, gate: 'gate-1', skewSec: 30, reopenGraceSec: GRACE_SEC, pulseMs: 60 },
      {
        relay: r,
        store: s,
        clock,
        trust: trustOf([{ iss: 'demo-eats', keys: [key] }]),
        notifyOutbox: () => {
          notified += 1;
        },
        log: silentLogger(),
      },
    );
  }

  function token(sub = 'rider-1', cti?: Uint8Array): string {
    return issueToken({
      privateKey: key.privateKey,
      kid: key.kid,
      alg: 'EdDSA',
      claims: {
        iss: 'demo-eats',
        sub,
        iat: NOW_SEC - 5,
        exp: NOW_SEC + 115,
        sites: [SITE],
        ...(cti ? { cti } : {}),
      },
    }).text;
  }

  const scan = (text: string) =>
    gate.handleScan({ text, receivedMono: performance.now(), source: 'test' });
  const pulses = () => relay.changes.filter((c) => c.active).length;

  it('admits a valid token: journals the event, then pulses the relay once, then tells the outbox', async () => {
    const outcome = await scan(token());
    expect(outcome?.event).toMatchObject({
      type: 'admit',
      site: SITE,
      iss: 'demo-eats',
      sub: 'rider-1',
      clock: 'synced',
    });
    expect(outcome?.pulse).toBeDefined();
    expect(pulses()).toBe(1);
    expect(notified).toBe(1);
    const journal = await store.undelivered(10);
    expect(journal.map((e) => e.type)).toEqual(['admit']);
    expect(journal[0]?.id).toBe(outcome?.event.id);
  });

  it('writes the journal row before the relay moves', async () => {
    const order: string[] = [];
    const watchingStore: Store = Object.create(store, {
      record: {
        value: async (...args: Parameters<Store['record']>) => {
          const event = await store.record(...args);
          order.push('journal');
          return event;
        },
      },
    });
    const watchingRelay: Relay = Object.create(relay, {
      pulse: {
        value: (ms: number): Promise<Pulse> => {
          order.push('relay');
          return relay.pulse(ms);
        },
      },
    });
    gate = makeGate(watchingStore, watchingRelay);
    await scan(token());
    expect(order).toEqual(['journal', 'relay']);
  });

  it('denies a forged token with bad_signature and never moves the relay', async () => {
    const forger = testKey('EdDSA', key.kid);
    const forged = issueToken({
      privateKey: forger.privateKey,
      kid: key.kid,
      alg: 'EdDSA',
      claims: { iss: 'demo-eats', sub: 'rider-1', iat: NOW_SEC, exp: NOW_SEC + 60, sites: [SITE] },
    }).text;
    const outcome = await scan(forged);
    expect(outcome?.event).toMatchObject({ type: 'deny', reason: 'bad_signature' });
    expect(pulses()).toBe(0);
    // The forger named a real rider: an unverified claim is never put in the journal.
    expect(outcome?.event.sub).toBeUndefined();
    expect(outcome?.event.cti).toBeUndefined();
  });

  it('names the rider of a validly signed but expired token', async () => {
    clock.advance(200_000);
    const outcome = await scan(token('rider-5'));
    expect(outcome?.event).toMatchObject({
      type: 'deny',
      reason: 'expired',
      sub: 'rider-5',
      iss: 'demo-eats',
    });
  });

  it('denies a revoked rider with revoked', async () => {
    await store.revoke({ iss: 'demo-eats', kind: 'sub', value: 'rider-9' });
    const outcome = await scan(token('rider-9'));
    expect(outcome?.event).toMatchObject({ type: 'deny', reason: 'revoked', sub: 'rider-9' });
    expect(pulses()).toBe(0);
  });

  it('denies a revoked token id with revoked', async () => {
    const cti = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    await store.revoke({ iss: 'demo-eats', kind: 'cti', value: '0102030405060708' });
    const outcome = await scan(token('rider-1', cti));
    expect(outcome?.event).toMatchObject({
      type: 'deny',
      reason: 'revoked',
      cti: '0102030405060708',
    });
  });

  it('re-opens for the same token within the grace, and denies it as replayed after', async () => {
    const text = token();
    await scan(text);
    clock.advance((GRACE_SEC - 1) * 1000);
    expect((await scan(text))?.event.type).toBe('reopen');
    clock.advance(2000);
    expect((await scan(text))?.event).toMatchObject({ type: 'deny', reason: 'replayed' });
    expect(pulses()).toBe(2);
  });

  it('keys replay on iss + cti, not on the scanned text', async () => {
    const cti = new Uint8Array([9, 9, 9, 9, 9, 9, 9, 9]);
    await scan(token('rider-1', cti));
    clock.advance((GRACE_SEC + 1) * 1000);
    // A second, differently encoded token with the same identity is the same token.
    const outcome = await scan(token('rider-1-other-form', cti));
    expect(outcome?.event).toMatchObject({ type: 'deny', reason: 'replayed' });
  });

  it('denies garbage as malformed, giving each scan its own increasing seq', async () => {
    const a = await scan('hello');
    const b = await scan('RP1:!!!');
    expect([a?.event.reason, b?.event.reason]).toEqual(['malformed', 'malformed']);
    expect((b?.event.seq ?? 0) - (a?.event.seq ?? 0)).toBe(1);
  });

  it('still admits a valid rider when the store cannot be read', async () => {
    const unreadable: Store = Object.create(store, {
      isRevoked: { value: async () => Promise.reject(new Error('SQLITE_CORRUPT')) },
      findReplay: { value: async () => Promise.reject(new Error('SQLITE_CORRUPT')) },
    });
    gate = makeGate(unreadable, relay);
    const outcome = await scan(token());
    expect(outcome?.event.type).toBe('admit');
    expect(pulses()).toBe(1);
  });

  it('still admits a valid rider when the journal write fails', async () => {
    const broken: Store = Object.create(store, {
      record: { value: async () => Promise.reject(new Error('disk I/O error')) },
    });
    gate = makeGate(broken, relay);
    const outcome = await scan(token());
    expect(outcome?.event.type).toBe('admit');
    expect(pulses()).toBe(1);
  });
});
