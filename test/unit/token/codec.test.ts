import { describe, expect, it } from 'vitest';
import { decodeBase45, encodeBase45 } from '../../../src/token/base45.js';
import { decodeCbor, encodeCbor } from '../../../src/token/cbor.js';

const text = (s: string) => new TextEncoder().encode(s);
const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));

describe('base45', () => {
  // RFC 9285 section 4.3 and 4.4 examples.
  it.each([
    ['AB', 'BB8'],
    ['Hello!!', '%69 VD92EX0'],
    ['base-45', 'UJCLQE7W581'],
    ['ietf!', 'QED8WEX0'],
  ])('encodes and decodes %j as %j', (plain, encoded) => {
    expect(encodeBase45(text(plain))).toBe(encoded);
    expect(decodeBase45(encoded)).toEqual({ ok: true, value: text(plain) });
  });

  it.each([
    ['GGW', 'out of range'], // RFC 9285 section 4.2: "GGW" is 65536, one above a triple's limit
    ['::', 'out of range'], // a final pair above 255
    ['BB8A', 'single trailing'],
    ['bb8', 'outside its alphabet'],
    ['BB\n', 'outside its alphabet'],
  ])('rejects %j (%s)', (input, detail) => {
    const result = decodeBase45(input);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.detail).toContain(detail);
  });

  it('accepts the largest triple and pair', () => {
    expect(decodeBase45('FGW')).toEqual({ ok: true, value: hex('ffff') });
    expect(decodeBase45('U5')).toEqual({ ok: true, value: hex('ff') });
  });
});

describe('decodeCbor on untrusted bytes', () => {
  it('keeps integer map keys as numbers', () => {
    const result = decodeCbor(hex('a1203a00011170'));
    expect(result).toEqual({ ok: true, value: new Map([[-1, -70001]]) });
  });

  it.each([
    ['empty input', ''],
    ['trailing bytes', 'a1010200'],
    ['a duplicate map key', 'a201020103'],
    ['an indefinite-length array', '9f01ff'],
    ['an indefinite-length text', '7f61616161ff'],
    ['nesting deeper than 8', '818181818181818181818101'],
    ['a truncated item', '5820aa'],
    ['a reserved additional info', '1c'],
    ['undefined', 'f7'],
  ])('rejects %s', (_name, h) => {
    expect(decodeCbor(hex(h))).toEqual({ ok: false, detail: expect.any(String) });
  });
});

describe('encoding Node Buffers', () => {
  it('encodes a Buffer as a CBOR byte string, not as a map of its fields', () => {
    const bytes = encodeCbor(new Map([[7, Buffer.from([1, 2, 3])]]));
    expect(Buffer.from(bytes).toString('hex')).toBe('a10743010203');
    const back = decodeCbor(bytes);
    expect(back.ok && (back.value as Map<number, Uint8Array>).get(7)).toEqual(
      new Uint8Array([1, 2, 3]),
    );
  });
});
