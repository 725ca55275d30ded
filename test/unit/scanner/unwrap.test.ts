import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { ScanPipeline } from '../../../src/scanner/pipeline.js';
import { DEFAULT_LINE_SETTINGS, type UnwrapSettings } from '../../../src/scanner/settings.js';
import { unwrapFrame } from '../../../src/scanner/unwrap.js';

const T = 'RP1:6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEPWK G2EP4J0B';
const none: UnwrapSettings = DEFAULT_LINE_SETTINGS;
const bytes = (s: string) => Buffer.from(s, 'latin1');
const unwrapped = (s: string, settings: Partial<UnwrapSettings>) => {
  const result = unwrapFrame(bytes(s), { ...none, ...settings });
  return result.ok ? result.bytes.toString('latin1') : result.reason;
};

describe('unwrapFrame strips only what the profile names (S3)', () => {
  it('leaves a frame alone when the profile names nothing', () => {
    expect(unwrapped(`]Q1${T}`, {})).toBe(`]Q1${T}`);
    expect(unwrapped(`\x02${T}\x03`, {})).toBe(`\x02${T}\x03`);
    expect(unwrapped(`\xef\xbb\xbf${T}`, {})).toBe(`\xef\xbb\xbf${T}`);
  });

  it('AIM ]Q1: removed when present, other identifiers kept', () => {
    expect(unwrapped(`]Q1${T}`, { stripPrefix: ']Q1' })).toBe(T);
    expect(unwrapped(T, { stripPrefix: ']Q1' })).toBe(T);
    expect(unwrapped(`]Q2${T}`, { stripPrefix: ']Q1' })).toBe(`]Q2${T}`);
  });

  it('STX/ETX: both required and removed; a frame missing either is unframed', () => {
    const stx = { framing: 'stx-etx' } as const;
    expect(unwrapped(`\x02${T}\x03`, stx)).toBe(T);
    expect(unwrapped(`${T}\x03`, stx)).toBe('unframed');
    expect(unwrapped(`\x02${T}`, stx)).toBe('unframed');
    expect(unwrapped('\x02', stx)).toBe('unframed');
  });

  it('BOM: only a leading one', () => {
    expect(unwrapped(`\xef\xbb\xbf${T}`, { stripBom: true })).toBe(T);
    expect(unwrapped(`${T}\xef\xbb\xbf`, { stripBom: true })).toBe(`${T}\xef\xbb\xbf`);
  });

  it('edge control bytes: at either edge, never inside', () => {
    expect(unwrapped(`\x00\x00${T}\x04`, { stripControl: true })).toBe(T);
    expect(unwrapped('A\x1dB\x1eC', { stripControl: true })).toBe('A\x1dB\x1eC');
  });

  it('a fixed suffix, then a prefix, exactly', () => {
    expect(unwrapped(`${T}\t`, { stripSuffix: '\t' })).toBe(T);
    expect(unwrapped(`>>${T}<<`, { stripPrefix: '>>', stripSuffix: '<<' })).toBe(T);
    expect(unwrapped('<', { stripSuffix: '<<' })).toBe('<');
  });
});

describe('ScanPipeline with a profile', () => {
  function pipeline(settings: Partial<UnwrapSettings> & { staleLineMs?: number }) {
    return new ScanPipeline(
      { source: 'test', terminator: 'auto', maxLength: 1024, dedupeMs: 0, ...settings },
      silentLogger(),
    );
  }
  const texts = (p: ScanPipeline, chunks: [string, number][]) =>
    chunks.flatMap(([s, at]) => p.push(bytes(s), at).map((scan) => scan.text));

  it('anything the profile does not name still rejects the line', () => {
    const p = pipeline({ stripPrefix: ']Q1' });
    expect(
      texts(p, [
        [`\x02${T}\x03\r`, 0],
        ['A\x1dB\x1eC\r', 1],
        ['\xc3\x28\r', 2],
      ]),
    ).toEqual([]);
    expect(p.stats().rejected).toBe(3);
  });

  it('STX/ETX: a code with no line end after ETX is read; noise before STX is dropped', () => {
    const p = pipeline({ framing: 'stx-etx' });
    expect(texts(p, [[`\x02${T}\x03`, 0]])).toEqual([T]);
    expect(
      texts(p, [
        ['\xff\x00HALF', 1000],
        [`\x02${T}\x03\r\n`, 1001],
      ]),
    ).toEqual([T]);
    expect(p.stats()).toMatchObject({ rejected: 1 });
  });

  it('STX/ETX framing only (STX ETX) is no scan at all', () => {
    const p = pipeline({ framing: 'stx-etx' });
    expect(texts(p, [['\x02\x03\r', 0]])).toEqual([]);
    expect(p.stats().rejected).toBe(0);
  });

  it('noise left unfinished at power-up never joins the next scan once it is stale', () => {
    const p = pipeline({ staleLineMs: 500 });
    expect(
      texts(p, [
        ['\x00\xffgarbage', 0],
        [`${T}\r`, 700],
      ]),
    ).toEqual([T]);
    expect(p.stats().rejected).toBe(1);
  });

  it('a code arriving in pieces closer than staleLineMs is one scan (S1)', () => {
    const p = pipeline({ staleLineMs: 500 });
    expect(
      texts(p, [
        [T.slice(0, 10), 0],
        [T.slice(10), 3],
        ['\r', 6],
      ]),
    ).toEqual([T]);
  });

  it('staleLineMs 0 never drops a partial line', () => {
    const p = pipeline({ staleLineMs: 0 });
    expect(
      texts(p, [
        ['RP1:', 0],
        [`${T.slice(4)}\r`, 60_000],
      ]),
    ).toEqual([T]);
  });
});
