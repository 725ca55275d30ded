import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createScanner } from '../../../src/scanner/index.js';
import { SimScanner } from '../../../src/scanner/sim-scanner.js';
import type { Scan } from '../../../src/scanner/types.js';

interface FieldStream {
  id: string;
  name: string;
  chunks: string[];
  scans: string[];
  rejected?: number;
}

const fixture = JSON.parse(
  readFileSync(new URL('../../fixtures/scanner/field-streams.json', import.meta.url), 'utf8'),
) as { cases: FieldStream[] };

/** A pino logger whose lines are parsed back into objects for assertions. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

async function startedSim(dedupeMs = 1_500) {
  const { log, lines } = capturingLogger();
  const scanner = new SimScanner({ terminator: 'auto', maxLength: 256, dedupeMs }, log);
  const scans: Scan[] = [];
  await scanner.start((scan) => scans.push(scan));
  return { scanner, scans, lines };
}

describe('SimScanner on recorded field streams', () => {
  it.each(fixture.cases.map((c) => [`${c.id}: ${c.name}`, c] as const))('%s', async (_, c) => {
    const { scanner, scans, lines } = await startedSim(0);
    for (const chunk of c.chunks) scanner.feed(Buffer.from(chunk, 'hex'));

    expect(scans.map((s) => s.text)).toEqual(c.scans);
    const rejections = lines.filter((l) => l.msg === 'scanner line rejected');
    expect(rejections).toHaveLength(c.rejected ?? 0);
  });
});

describe('SimScanner', () => {
  it('logs a rejected read once, escaped, and never passes it on (S4)', async () => {
    const { scanner, scans, lines } = await startedSim();
    scanner.feed('A\x1dB\x1eC\r');
    expect(scans).toEqual([]);
    expect(lines.filter((l) => l.msg === 'scanner line rejected')).toEqual([
      expect.objectContaining({
        level: 40,
        component: 'scanner',
        reason: 'control_bytes',
        preview: 'A\\x1dB\\x1eC',
      }),
    ]);
  });

  it('gives one scan for three reads of the same code in a burst (S6)', async () => {
    const { scanner, scans } = await startedSim();
    for (let i = 0; i < 3; i += 1) scanner.feed('T\r');
    expect(scans.map((s) => s.text)).toEqual(['T']);
    expect(scanner.stats()).toMatchObject({ frames: 3, duplicates: 2 });
  });

  it('counts and logs an over-long line, then reads the next one', async () => {
    const { scanner, scans, lines } = await startedSim();
    scanner.feed(`${'X'.repeat(300)}\rOK\r`);
    expect(scans.map((s) => s.text)).toEqual(['OK']);
    expect(scanner.stats()).toMatchObject({ overlong: 1, frames: 1 });
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'scanner line too long, dropped', lengthBytes: 300 }),
    );
  });

  it('stamps a scan with its source and the monotonic time it arrived', async () => {
    const { scanner, scans } = await startedSim();
    const before = performance.now();
    scanner.feed('T\r');
    expect(scans).toEqual([
      { text: 'T', source: 'sim', receivedMono: expect.any(Number) as number },
    ]);
    expect(scans[0]?.receivedMono).toBeGreaterThanOrEqual(before);
  });

  it('reports connected only while started, and drops bytes fed while stopped', async () => {
    const { scanner, scans } = await startedSim();
    expect(scanner.stats().connected).toBe(true);
    await scanner.stop();
    scanner.feed('T\r');
    expect(scans).toEqual([]);
    expect(scanner.stats().connected).toBe(false);
  });
});

describe('createScanner', () => {
  it('builds a SimScanner for the sim driver', () => {
    const scanner = createScanner(
      {
        driver: 'sim',
        path: '/dev/null',
        baudRate: 9600,
        terminator: 'auto',
        maxLength: 1024,
        dedupeMs: 1500,
        reconnectMinMs: 250,
        reconnectMaxMs: 5000,
      },
      pino({ level: 'silent' }),
    );
    expect(scanner).toBeInstanceOf(SimScanner);
  });
});
