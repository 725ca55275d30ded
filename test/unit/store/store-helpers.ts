import { randomFillSync } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { pino } from 'pino';
import type { EventDraft } from '../../../src/event.js';
import type { Logger } from '../../../src/log.js';

let idCounter = 0;

/** A valid event draft with a fresh id; the rider name pads the row to a realistic size. */
export function draft(overrides: Partial<EventDraft> = {}): EventDraft {
  idCounter += 1;
  return {
    id: `0190a000-0000-7000-8000-${String(idCounter).padStart(12, '0')}`,
    ts: 1_700_000_000_000 + idCounter,
    clock: 'synced',
    site: 'north',
    gate: 'g1',
    type: 'admit',
    iss: 'rider.example',
    sub: `rider-${'x'.repeat(200)}`,
    cti: 'a1b2',
    decisionUs: 850,
    ...overrides,
  };
}

/** Writes `length` random bytes into the file at `offset`, as a torn SD card write would. */
export function writeRandomBytes(path: string, offset: number, length = 40 * 1024): void {
  const bytes = randomFillSync(Buffer.alloc(length));
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

/** A debug-level logger whose JSON lines are kept for the test to read. */
export function captureLogger(): { log: Logger; lines: () => Record<string, unknown>[] } {
  const written: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => written.push(line) });
  return {
    log,
    lines: () => written.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
