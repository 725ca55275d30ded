import { describe, expect, it } from 'vitest';
import { decodeFrame, previewBytes } from '../../../src/scanner/decode.js';
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

  it('truncates to about 64 characters and says how many bytes were left out', () => {
    const preview = previewBytes(Buffer.alloc(500, 0x01));
    expect(preview).toBe(`${'\\x01'.repeat(16)}…(+484 bytes)`);
    expect(preview.length).toBeLessThan(90);
  });
});
