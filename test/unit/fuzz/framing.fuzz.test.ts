import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { type Frame, LineFramer, type Terminator } from '../../../src/scanner/framer.js';
import { ScanPipeline } from '../../../src/scanner/pipeline.js';

/** Byte streams rich in the bytes framing cares about: CR, LF, STX, ETX, and token text. */
const stream = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 0, max: 255 }).map((b) => [b]) },
      { weight: 2, arbitrary: fc.constantFrom([0x0d], [0x0a], [0x0d, 0x0a], [0x02], [0x03]) },
      {
        weight: 2,
        arbitrary: fc.string({ maxLength: 30 }).map((s) => [...Buffer.from(`RP1:${s}`)]),
      },
    ),
    { maxLength: 60 },
  )
  .map((parts) => Buffer.from(parts.flat()));

/** Cut points of a stream: the chunk sizes, cycled until the stream is used up. */
const chunkSizes = fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 10 });

function chunksOf(bytes: Buffer, sizes: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i += 1) {
    const size = sizes[i % sizes.length] ?? 1;
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

const framerOptions = fc.record({
  terminator: fc.constantFrom<Terminator>('auto', 'cr', 'lf', 'crlf'),
  maxLength: fc.integer({ min: 1, max: 48 }),
  stxEtx: fc.boolean(),
});

function frameAll(options: Parameters<typeof newFramer>[0], chunks: Buffer[]): Frame[] {
  const framer = newFramer(options);
  const frames: Frame[] = [];
  for (const chunk of chunks) {
    frames.push(...framer.push(chunk));
    expect(framer.bufferedBytes).toBeLessThanOrEqual(options.maxLength);
  }
  return frames;
}

function newFramer(options: { terminator: Terminator; maxLength: number; stxEtx: boolean }) {
  return new LineFramer(options);
}

describe('LineFramer (property)', () => {
  it('any chunking of any stream: never throws, never holds more than maxLength', () => {
    fc.assert(
      fc.property(framerOptions, stream, chunkSizes, (options, bytes, sizes) => {
        for (const frame of frameAll(options, chunksOf(bytes, sizes))) {
          if (frame.kind === 'line') {
            expect(frame.bytes.length).toBeGreaterThan(0);
            expect(frame.bytes.length).toBeLessThanOrEqual(options.maxLength);
          } else {
            expect(frame.length).toBeGreaterThan(0);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('the frames of a stream are the same whatever the chunking', () => {
    fc.assert(
      fc.property(framerOptions, stream, chunkSizes, (options, bytes, sizes) => {
        const whole = frameAll(options, [bytes]);
        expect(frameAll(options, chunksOf(bytes, sizes))).toEqual(whole);
        expect(frameAll(options, chunksOf(bytes, [1]))).toEqual(whole);
      }),
      { numRuns: 2000 },
    );
  });

  it('a line without framing bytes comes back as sent, whatever the terminator', () => {
    const plain = fc
      .uint8Array({ minLength: 1, maxLength: 48 })
      .filter((b) => !b.some((x) => x <= 0x03 || x === 0x0a || x === 0x0d));
    fc.assert(
      fc.property(
        plain,
        fc.constantFrom<Terminator>('auto', 'cr', 'lf', 'crlf'),
        chunkSizes,
        (line, terminator, sizes) => {
          const end = { auto: '\r\n', cr: '\r', lf: '\n', crlf: '\r\n' }[terminator];
          const bytes = Buffer.concat([
            Buffer.from(line),
            Buffer.from(end),
            Buffer.from(line),
            Buffer.from(end),
          ]);
          const frames = frameAll(
            { terminator, maxLength: 48, stxEtx: false },
            chunksOf(bytes, sizes),
          );
          expect(frames).toEqual([
            { kind: 'line', bytes: Buffer.from(line) },
            { kind: 'line', bytes: Buffer.from(line) },
          ]);
        },
      ),
      { numRuns: 500 },
    );
  });
});

const pipelineOptions = fc.record({
  terminator: fc.constantFrom<Terminator>('auto', 'cr', 'lf', 'crlf'),
  maxLength: fc.integer({ min: 1, max: 64 }),
  framing: fc.constantFrom('none' as const, 'stx-etx' as const),
  stripPrefix: fc.constantFrom('', 'RP', ']Q1'),
  stripSuffix: fc.constantFrom('', '#'),
  stripBom: fc.boolean(),
  stripControl: fc.boolean(),
});

type PipelineOptions = typeof pipelineOptions extends fc.Arbitrary<infer T> ? T : never;

function scanTexts(options: PipelineOptions, chunks: Buffer[]) {
  const pipeline = new ScanPipeline(
    { ...options, source: 'fuzz', staleLineMs: 0, dedupeMs: 0 },
    silentLogger(),
  );
  const texts = chunks.flatMap((chunk) => pipeline.push(chunk, 1000).map((scan) => scan.text));
  return { texts, stats: pipeline.stats() };
}

describe('ScanPipeline (property)', () => {
  it('any chunking: never throws, same scans and counts, no scan longer than maxLength', () => {
    fc.assert(
      fc.property(pipelineOptions, stream, chunkSizes, (options, bytes, sizes) => {
        const whole = scanTexts(options, [bytes]);
        expect(scanTexts(options, chunksOf(bytes, sizes))).toEqual(whole);
        for (const text of whole.texts) {
          expect(text.length).toBeGreaterThan(0);
          expect(Buffer.byteLength(text)).toBeLessThanOrEqual(options.maxLength);
        }
      }),
      { numRuns: 1500 },
    );
  });
});
