import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../src/log.js';

/** A logger whose JSON lines the test can read. */
export function capturedLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

/** A system clock the test moves: wall = real time + offset, monotonic = real + monoOffset. */
export class FakeSystemTime {
  offsetMs: number;
  monoOffsetMs = 0;

  constructor(offsetMs = 0) {
    this.offsetMs = offsetMs;
  }

  wallMs = (): number => Date.now() + this.offsetMs;
  monoMs = (): number => performance.now() + this.monoOffsetMs;

  /** Time passing: both clocks move. */
  pass(ms: number): void {
    this.offsetMs += ms;
    this.monoOffsetMs += ms;
  }

  /** A step of the wall clock only (NTP, `date -s`). */
  jump(ms: number): void {
    this.offsetMs += ms;
  }
}
