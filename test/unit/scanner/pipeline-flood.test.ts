import { describe, expect, it } from 'vitest';
import {
  DROP_WARNING_WINDOW_MS,
  DROP_WARNINGS_PER_WINDOW,
  ScanPipeline,
} from '../../../src/scanner/pipeline.js';
import { capturedLogger } from '../../helpers/clock-fakes.js';

describe('a flood of garbage on the scanner line', () => {
  it('logs a few dropped lines per minute, counts the rest in one line, and still reads a scan', () => {
    const { log, lines } = capturedLogger();
    const pipeline = new ScanPipeline(
      { source: 'test', terminator: 'auto', maxLength: 64, dedupeMs: 0 },
      log,
    );
    // 1,000 lines with control bytes (rejected) and 1,000 over-long ones, all in one second.
    const garbage = Buffer.concat(
      Array.from({ length: 1000 }, (_, i) =>
        Buffer.from(`bad\u0001${i}\r${'x'.repeat(100)}\r`, 'latin1'),
      ),
    );
    expect(pipeline.push(garbage, 1_000)).toEqual([]);
    const dropped = () => lines.filter((l) => String(l.msg).startsWith('scanner line'));
    expect(dropped()).toHaveLength(DROP_WARNINGS_PER_WINDOW);
    expect(dropped().at(-1)?.moreSuppressedForMs).toBe(DROP_WARNING_WINDOW_MS);
    expect(pipeline.stats()).toMatchObject({ rejected: 1000, overlong: 1000 });

    // A valid read right after the flood is passed on at once.
    expect(pipeline.push(Buffer.from('RP1:ABC\r'), 1_001).map((s) => s.text)).toEqual(['RP1:ABC']);

    // The next window: the summary of what was left out, then single lines again.
    pipeline.push(Buffer.from('bad\u0002\r', 'latin1'), 1_000 + DROP_WARNING_WINDOW_MS);
    expect(lines.find((l) => l.msg === 'scanner dropped-line warnings suppressed')).toMatchObject({
      suppressed: 2000 - DROP_WARNINGS_PER_WINDOW,
    });
    expect(dropped()).toHaveLength(DROP_WARNINGS_PER_WINDOW + 1);
  });
});
