import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SerialScanner } from '../../src/scanner/serial-scanner.js';
import { PtyPair, socatAvailable, waitUntil } from '../helpers/pty.js';

const hasSocat = socatAvailable();
if (!hasSocat) console.warn('scanner liveness test skipped: socat is not installed');

/**
 * What the systemd watchdog asks the serial scanner: is the read loop alive? A scanner that
 * reads, one that was unplugged and retries, and one never plugged in all are; only a loop
 * that is wedged (an open that never settles, or neither port nor retry) is not.
 */
describe.skipIf(!hasSocat)('SerialScanner liveness for the watchdog', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ridergate-liveness-'));
  const pty = new PtyPair(dir);
  let scanner: SerialScanner | undefined;

  afterEach(async () => {
    await scanner?.stop();
    await pty.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is alive while reading, while unplugged and retrying, and when plugged in again', async () => {
    scanner = new SerialScanner(
      {
        path: pty.a,
        baudRate: 9600,
        terminator: 'auto',
        maxLength: 1024,
        dedupeMs: 0,
        reconnectMinMs: 50,
        reconnectMaxMs: 200,
      },
      pino({ level: 'silent' }),
    );
    const s = scanner;
    await s.start(() => undefined);
    expect(s.stats().connected).toBe(false);
    expect(s.liveness()).toBeUndefined(); // never plugged in: retrying

    await pty.start();
    await waitUntil(() => s.stats().connected, 'connected', { timeoutMs: 10_000 });
    expect(s.liveness()).toBeUndefined();

    await pty.stop(); // unplugged
    await waitUntil(() => !s.stats().connected, 'disconnected', { timeoutMs: 10_000 });
    for (let i = 0; i < 5; i++) {
      expect(s.liveness()).toBeUndefined();
      await new Promise((resolve) => setTimeout(resolve, 60));
    }

    await pty.start();
    await waitUntil(() => s.stats().connected, 'reconnected', { timeoutMs: 10_000 });
    expect(s.liveness()).toBeUndefined();
    await s.stop();
    expect(s.liveness()).toBeUndefined(); // stopped on purpose: not wedged
  });
});
