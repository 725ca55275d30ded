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

describe('SimScanner keeps token text out of the log', () => {
  const T = 'RP1:6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEPWK G2EP4J0B';
  /** True when the line holds any 6 consecutive characters of the token after RP1:. */
  const leaksToken = (line: Record<string, unknown>) => {
    const text = JSON.stringify(line);
    const body = T.slice(4);
    for (let i = 0; i + 6 <= body.length; i += 1) {
      if (text.includes(body.slice(i, i + 6))) return true;
    }
    return false;
  };

  it('rejects a token framed by STX/ETX, logging RP1: and nothing after it (S3)', async () => {
    const { scanner, scans, lines } = await startedSim();
    scanner.feed(`\x02${T}\x03\r`);

    expect(scans).toEqual([]);
    const [rejected] = lines.filter((l) => l.msg === 'scanner line rejected');
    expect(rejected).toMatchObject({ reason: 'control_bytes', lengthBytes: 63 });
    expect(rejected?.preview).toMatch(/^\\x02RP1:…\(63 bytes, sha256 [0-9a-f]{8}\)$/);
    expect(lines.filter(leaksToken)).toEqual([]);
    expect(scanner.stats()).toMatchObject({ frames: 1, rejected: 1, suspicious: 0 });
  });

  it('passes on both halves of a token cut by a stray CR and logs the pair once (S4)', async () => {
    const { scanner, scans, lines } = await startedSim();
    scanner.feed(`${T.slice(0, 20)}\r${T.slice(20)}\r`);

    expect(scans.map((s) => s.text)).toEqual([T.slice(0, 20), T.slice(20)]);
    const suspected = lines.filter((l) => l.msg === 'scanner split read suspected');
    expect(suspected).toEqual([
      expect.objectContaining({
        level: 40,
        component: 'scanner',
        firstLengthChars: 20,
        secondLengthChars: T.length - 20,
        gapMs: 0,
      }),
    ]);
    expect(lines.filter(leaksToken)).toEqual([]);
    expect(scanner.stats()).toMatchObject({ frames: 2, rejected: 0, suspicious: 1 });
  });

  it('takes the halves in two writes a few ms apart for one suspected pair too', async () => {
    const { scanner, scans, lines } = await startedSim();
    scanner.feed(`${T.slice(0, 30)}\r`);
    scanner.feed(`${T.slice(30)}\r`);
    scanner.feed('NEXT\r');
    expect(scans).toHaveLength(3);
    expect(lines.filter((l) => l.msg === 'scanner split read suspected')).toHaveLength(1);
    expect(scanner.stats().suspicious).toBe(1);
  });

  it('counts every kind of dropped line in its stats', async () => {
    const { scanner } = await startedSim();
    scanner.feed(Buffer.from([0xc3, 0x28, 0x0d])); // invalid UTF-8
    scanner.feed('A\x1dB\r'); // control byte
    scanner.feed(`${'X'.repeat(300)}\r`); // over-long
    scanner.feed('OK\rOK\r'); // a repeat read
    expect(scanner.stats()).toEqual({
      connected: true,
      frames: 4,
      duplicates: 1,
      overlong: 1,
      rejected: 2,
      suspicious: 0,
      reconnects: 0,
    });
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
