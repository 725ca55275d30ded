import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeFrame,
  previewBytes,
  previewScanText,
  shortSha256,
} from '../../../src/scanner/decode.js';
import { LineFramer } from '../../../src/scanner/framer.js';

describe('decodeFrame (S4, S5)', () => {
  it('decodes a plain token', () => {
    expect(decodeFrame(Buffer.from('RP1:ABC'))).toEqual({ ok: true, text: 'RP1:ABC' });
  });

  it('rejects bytes C3 28 (framed from C3 28 0D) as invalid_utf8 without throwing', () => {
    const framer = new LineFramer({ terminator: 'auto', maxLength: 64 });
    const [frame] = framer.push(Buffer.from([0xc3, 0x28, 0x0d]));
    expect(frame?.kind).toBe('line');
    const bytes = frame?.kind === 'line' ? frame.bytes : Buffer.alloc(0);
    expect(decodeFrame(bytes)).toEqual({ ok: false, reason: 'invalid_utf8', preview: '\\xc3(' });
  });

  it('rejects a GS separator inside a payload as control_bytes', () => {
    const result = decodeFrame(Buffer.from('A\x1dB'));
    expect(result).toEqual({ ok: false, reason: 'control_bytes', preview: 'A\\x1dB' });
  });

  it('rejects DEL as control_bytes', () => {
    expect(decodeFrame(Buffer.from('A\x7f'))).toMatchObject({ ok: false, reason: 'control_bytes' });
  });

  it('decodes a multi-byte character that arrived one byte at a time, whole', () => {
    const framer = new LineFramer({ terminator: 'auto', maxLength: 64 });
    const frames = [...Buffer.from('Zürich €\r', 'utf8')].flatMap((b) =>
      framer.push(Buffer.from([b])),
    );
    expect(frames).toHaveLength(1);
    const bytes = frames[0]?.kind === 'line' ? frames[0].bytes : Buffer.alloc(0);
    expect(decodeFrame(bytes)).toEqual({ ok: true, text: 'Zürich €' });
  });
});

describe('previewBytes', () => {
  it('escapes non-printable bytes and backslashes', () => {
    expect(previewBytes(Buffer.from([0x02, 0x41, 0x5c, 0x03]))).toBe('\\x02A\\\\\\x03');
  });

  it('shows a long garbage frame as at most 24 escaped characters, its length and hash', () => {
    const frame = Buffer.alloc(500, 0x01);
    const sha = createHash('sha256').update(frame).digest('hex').slice(0, 8);
    expect(previewBytes(frame)).toBe(`${'\\x01'.repeat(6)}…(500 bytes, sha256 ${sha})`);
  });

  it('never cuts an escape in half', () => {
    const preview = previewBytes(Buffer.from(`${'A'.repeat(22)}\x02BBBB`, 'latin1'));
    expect(preview.startsWith(`${'A'.repeat(22)}…(`)).toBe(true);
  });

  it('shows a short frame whole, with no note', () => {
    expect(previewBytes(Buffer.from('hello\x03'))).toBe('hello\\x03');
  });
});

describe('previewBytes never shows token text (S3)', () => {
  const T = `RP1:${'6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEPWK G2EP4J0B'.repeat(3)}`;

  it('shows what comes before RP1: and RP1: itself, nothing after', () => {
    const frame = Buffer.from(`\x02${T}\x03`, 'latin1');
    expect(previewBytes(frame)).toBe(
      `\\x02RP1:…(${frame.length} bytes, sha256 ${shortSha256(frame)})`,
    );
  });

  it('shows an AIM symbology id before the token, and nothing of the token', () => {
    const preview = previewBytes(Buffer.from(`]Q1${T}\x1d`, 'latin1'));
    expect(preview).toMatch(/^\]Q1RP1:…\(\d+ bytes, sha256 [0-9a-f]{8}\)$/);
  });

  it('cuts at 24 characters even when RP1: comes later', () => {
    const frame = Buffer.from(`${'\x00'.repeat(10)}${T}`, 'latin1');
    const preview = previewBytes(frame);
    expect(preview).toBe(
      `${'\\x00'.repeat(6)}…(${frame.length} bytes, sha256 ${shortSha256(frame)})`,
    );
    expect(preview).not.toContain('RP1');
  });

  it('gives two log lines about the same frame the same preview, other frames another', () => {
    const a = previewBytes(Buffer.from(`\x02${T}`, 'latin1'));
    const b = previewBytes(Buffer.from(`\x02${T}`, 'latin1'));
    const c = previewBytes(Buffer.from(`\x02${T.slice(0, -3)}XYZ`, 'latin1'));
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });
});

describe('previewScanText (ridergate scan)', () => {
  it('shows the first 12 characters of a token, then …', () => {
    expect(previewScanText('RP1:6BFOXN*TS0BI$ZD4N9')).toBe('RP1:6BFOXN*T…');
  });

  it('shows a short text whole, escaped', () => {
    expect(previewScanText('hello')).toBe('hello');
    expect(previewScanText('a\\b')).toBe('a\\\\b');
  });
});
