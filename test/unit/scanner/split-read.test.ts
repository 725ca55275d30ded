import { describe, expect, it } from 'vitest';
import { looksLikeToken, SplitReadDetector } from '../../../src/scanner/split-read.js';

/** A token-shaped text: the prefix and 120 base45 characters (as long as a small real token). */
const TOKEN = `RP1:${'6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEPWK G2EP4J0B'.repeat(3).slice(0, 120)}`;

describe('looksLikeToken', () => {
  it('takes a long base45 text after RP1: for a token', () => {
    expect(looksLikeToken(TOKEN)).toBe(true);
  });

  it('does not take a fragment, another prefix, a foreign character or a stray length', () => {
    expect(looksLikeToken(TOKEN.slice(0, 60))).toBe(false);
    expect(looksLikeToken(`XP1:${TOKEN.slice(4)}`)).toBe(false);
    expect(looksLikeToken(`${TOKEN.slice(0, -1)}a`)).toBe(false);
    expect(looksLikeToken(`${TOKEN}A`)).toBe(false); // 121 base45 characters: mod 3 = 1
  });
});

describe('SplitReadDetector', () => {
  it('reports a token cut in two within one chunk, with lengths only', () => {
    const detector = new SplitReadDetector();
    expect(detector.observe(TOKEN.slice(0, 50), 1000)).toBeUndefined();
    expect(detector.observe(TOKEN.slice(50), 1000)).toEqual({
      firstLengthChars: 50,
      secondLengthChars: TOKEN.length - 50,
      gapMs: 0,
    });
  });

  it('reports a pair once, not again with the frame after it', () => {
    const detector = new SplitReadDetector();
    detector.observe('RP1:ABC', 0);
    expect(detector.observe('DEF', 10)).toBeDefined();
    expect(detector.observe('GHI', 20)).toBeUndefined();
  });

  it('ignores two frames more than 50 ms apart', () => {
    const detector = new SplitReadDetector();
    detector.observe('RP1:ABC', 0);
    expect(detector.observe('DEF', 51)).toBeUndefined();
  });

  it('reports any read cut in two (S4: "ABC\\rDEF\\r"), but not the same text read twice', () => {
    const detector = new SplitReadDetector();
    detector.observe('ABC', 0);
    expect(detector.observe('DEF', 0)).toEqual({
      firstLengthChars: 3,
      secondLengthChars: 3,
      gapMs: 0,
    });
    detector.observe('https://x', 0);
    expect(detector.observe('https://x', 10)).toBeUndefined();
  });

  it('ignores a whole token followed by anything, and anything followed by a whole token', () => {
    const detector = new SplitReadDetector();
    detector.observe(TOKEN, 0);
    expect(detector.observe('DEF', 0)).toBeUndefined();
    detector.observe('RP1:ABC', 0);
    expect(detector.observe(TOKEN, 0)).toBeUndefined();
  });

  it('forgets the last frame on reset', () => {
    const detector = new SplitReadDetector();
    detector.observe('RP1:ABC', 0);
    detector.reset();
    expect(detector.observe('DEF', 0)).toBeUndefined();
  });
});
