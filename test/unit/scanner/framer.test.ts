import { describe, expect, it } from 'vitest';
import { type Frame, LineFramer, type Terminator } from '../../../src/scanner/framer.js';

const T = 'RP1:6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEPWK G2EP4J0B';

/** Feeds the chunks in order and returns every frame, lines as strings. */
function frame(chunks: (string | Buffer)[], terminator: Terminator = 'auto', maxLength = 1024) {
  const framer = new LineFramer({ terminator, maxLength });
  const frames: Frame[] = [];
  for (const chunk of chunks) {
    frames.push(...framer.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk));
  }
  return frames.map((f) => (f.kind === 'line' ? f.bytes.toString('latin1') : f));
}

function bytewise(text: string): string[] {
  return [...text];
}

describe('LineFramer, auto terminator (S2)', () => {
  it.each([
    ['CR', `${T}\r`],
    ['LF', `${T}\n`],
    ['CRLF', `${T}\r\n`],
    ['LF CR', `${T}\n\r`],
    ['CR CR', `${T}\r\r`],
  ])('gives exactly one frame for a token ended by %s', (_name, input) => {
    expect(frame([input])).toEqual([T]);
  });

  it('gives one frame when CRLF is split between the two bytes, and no leading CR or LF next', () => {
    expect(frame([`${T}\r`, `\n${T}\r`, '\n'])).toEqual([T, T]);
  });

  it.each([
    ['LF CR', '\n\r'],
    ['CR CR', '\r\r'],
    ['CRLF', '\r\n'],
  ])('never passes a leading byte of %s on to the next scan', (_name, terminator) => {
    expect(frame([`${T}${terminator}`, `T2${terminator}`])).toEqual([T, 'T2']);
  });

  it('drops empty frames made of terminators alone', () => {
    expect(frame(['\r\n\r\n', '\n', '\r'])).toEqual([]);
  });
});

describe('LineFramer, chunking (S1)', () => {
  it('gives one frame for a token in pieces: 10 bytes, the rest, then CR', () => {
    expect(frame([T.slice(0, 10), T.slice(10), '\r'])).toEqual([T]);
  });

  it('gives the same single frame when the token arrives one byte per push', () => {
    expect(frame(bytewise(`${T}\r`))).toEqual([T]);
  });

  it('gives the same frames at every split point of a two-scan stream', () => {
    const stream = `${T}\r\nT2\r\n`;
    for (let cut = 0; cut <= stream.length; cut += 1) {
      expect(frame([stream.slice(0, cut), stream.slice(cut)])).toEqual([T, 'T2']);
    }
  });

  it('frames bytes, not characters: a UTF-8 character split across pushes stays whole', () => {
    const bytes = Buffer.from('é€\r', 'utf8');
    const framer = new LineFramer({ terminator: 'auto', maxLength: 64 });
    const frames = [...bytes].flatMap((b) => framer.push(Buffer.from([b])));
    expect(frames).toEqual([{ kind: 'line', bytes: Buffer.from('é€', 'utf8') }]);
  });
});

describe('LineFramer, exact terminators', () => {
  it('cr: splits on CR and strips the LF a CRLF scanner adds', () => {
    expect(frame([`${T}\r\n`, `T2\r\n`], 'cr')).toEqual([T, 'T2']);
  });

  it('lf: splits on LF and strips the CR a CRLF scanner adds', () => {
    expect(frame([`${T}\r\n`, `T2\r\n`], 'lf')).toEqual([T, 'T2']);
  });

  it('crlf: splits only on CR LF, also when split across pushes', () => {
    expect(frame([`${T}\r`, `\nT2\r\n`], 'crlf')).toEqual([T, 'T2']);
  });

  it('crlf: keeps a lone CR inside the line for the decoder to reject (S4)', () => {
    expect(frame(['ABC\rDEF\r\n'], 'crlf')).toEqual(['ABC\rDEF']);
  });

  it('crlf: a CR before CR LF is a stray edge byte and is stripped', () => {
    expect(frame([`${T}\r\r\n`], 'crlf')).toEqual([T]);
  });
});

describe('LineFramer, length limit', () => {
  it('drops an over-long line, reports the bytes dropped, and frames the next line', () => {
    const long = 'X'.repeat(100);
    expect(frame([long.slice(0, 30), `${long.slice(30)}\r\n`, 'OK\r'], 'auto', 64)).toEqual([
      { kind: 'overlong', length: 100 },
      'OK',
    ]);
  });

  it('keeps a line of exactly maxLength bytes', () => {
    expect(frame(['Y'.repeat(64), '\r'], 'auto', 64)).toEqual(['Y'.repeat(64)]);
  });

  it('never holds more than maxLength bytes when no terminator ever comes', () => {
    const maxLength = 1024;
    const framer = new LineFramer({ terminator: 'auto', maxLength });
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    let largest = 0;
    for (let fed = 0; fed < 10 * 1024 * 1024; fed += chunk.length) {
      expect(framer.push(chunk)).toEqual([]);
      largest = Math.max(largest, framer.bufferedBytes);
    }
    expect(largest).toBeLessThanOrEqual(maxLength);
    expect(framer.push(Buffer.from('\rOK\r'))).toEqual([
      { kind: 'overlong', length: 10 * 1024 * 1024 },
      { kind: 'line', bytes: Buffer.from('OK') },
    ]);
  });

  it('forgets a half line on reset, so it never joins the next scan', () => {
    const framer = new LineFramer({ terminator: 'auto', maxLength: 64 });
    framer.push(Buffer.from('HALF'));
    framer.reset();
    expect(framer.push(Buffer.from(`${T}\r`))).toEqual([{ kind: 'line', bytes: Buffer.from(T) }]);
  });
});
