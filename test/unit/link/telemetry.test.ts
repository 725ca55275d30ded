import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BOOT_ID, readCpuTempC, TelemetryBuilder } from '../../../src/link/telemetry.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ridergate-telemetry-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const NOW = 1_700_000_100_000;

describe('TelemetryBuilder', () => {
  it('reports every figure from its provider, with the age of the oldest undelivered event', async () => {
    const tempPath = join(dir, 'temp');
    writeFileSync(tempPath, '48312\n');
    const builder = new TelemetryBuilder({
      version: '1.2.3',
      nowMs: () => NOW,
      uptimeSec: () => 42.4,
      bootId: 'b0075eed-0000-4000-8000-000000000000',
      memory: () => ({ rssBytes: 50_000_000, heapUsedBytes: 20_000_000 }),
      cpuTempPath: tempPath,
      storeDir: dir,
      outboxDepth: async () => 7,
      oldestUndeliveredTs: async () => NOW - 90_000,
      setAside: async () => ({ suspected: 2, refused: 1 }),
      scanner: () => ({ connected: true, frames: 3 }),
      lastScanTs: () => NOW - 1_000,
      counts: () => ({ events: { admit: 2, deny: 1 }, denials: { expired: 1 } }),
      clockState: () => 'synced',
      trustVersion: () => 4,
      revocations: () => ({ seq: 12, entries: 3 }),
      maintenance: () => true,
      abuse: () => ({ lockouts: 2 }),
      link: () => ({ connected: true, session: 5 }),
    });
    const t = await builder.build();
    expect(t).toMatchObject({
      ts: NOW,
      uptimeSec: 42,
      version: '1.2.3',
      bootId: 'b0075eed-0000-4000-8000-000000000000',
      memory: { rssBytes: 50_000_000, heapUsedBytes: 20_000_000 },
      cpuTempC: 48.3,
      outbox: { depth: 7, oldestUndeliveredAgeSec: 90, setAside: { suspected: 2, refused: 1 } },
      scanner: { connected: true, frames: 3 },
      lastScanTs: NOW - 1_000,
      counts: { byType: { admit: 2, deny: 1 }, byReason: { expired: 1 } },
      clock: { state: 'synced', everSynced: true, floorTs: null, jumps: 0 },
      trustVersion: 4,
      revocations: { seq: 12, entries: 3, waitingForSnapshot: false, stale: false },
      maintenance: true,
      abuse: { lockedOut: false, lockouts: 2 },
      link: { connected: true, session: 5 },
    });
    expect(t.diskFreeBytes).toBeGreaterThan(0);
  });

  it('gives defaults for missing or failing providers instead of failing the message', async () => {
    const builder = new TelemetryBuilder({
      version: '1.2.3',
      nowMs: () => NOW,
      cpuTempPath: join(dir, 'no-such-file'),
      storeDir: join(dir, 'gone'),
      outboxDepth: async () => {
        throw new Error('store closed');
      },
      oldestUndeliveredTs: async () => undefined,
      scanner: () => {
        throw new Error('not started');
      },
    });
    const t = await builder.build();
    expect(t).toMatchObject({
      bootId: BOOT_ID,
      cpuTempC: null,
      diskFreeBytes: null,
      outbox: { depth: null, oldestUndeliveredAgeSec: null, setAside: null },
      scanner: { connected: false },
      lastScanTs: null,
      counts: { byType: {}, byReason: {} },
      clock: { state: 'unsynced', everSynced: false, floorTs: null, jumps: 0 },
      trustVersion: null,
      revocations: { seq: null, entries: 0, waitingForSnapshot: false, lastUpdateTs: null },
      maintenance: false,
      abuse: { lockedOut: false, lockouts: 0 },
    });
    expect(t.memory.rssBytes).toBeGreaterThan(0);
    expect(t.store).toBeUndefined();
  });

  it('takes the clock helper figures over those derived from the clock state', async () => {
    const builder = new TelemetryBuilder({
      version: '1',
      nowMs: () => NOW,
      clockState: () => 'unsynced',
      clock: () => ({ everSynced: true, floorTs: NOW - 5_000, jumps: 1 }),
    });
    expect((await builder.build()).clock).toEqual({
      state: 'unsynced',
      everSynced: true,
      floorTs: NOW - 5_000,
      jumps: 1,
    });
  });
});

describe('CPU temperature', () => {
  it('reads millidegrees, and null for a file that holds no number', async () => {
    const path = join(dir, 'temp');
    writeFileSync(path, '-5300');
    expect(await readCpuTempC(path)).toBe(-5.3);
    writeFileSync(path, 'garbage');
    expect(await readCpuTempC(path)).toBeNull();
  });
});
