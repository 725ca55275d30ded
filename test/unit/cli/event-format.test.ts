import { describe, expect, it } from 'vitest';
import { eventFormatter } from '../../../src/cli/event-format.js';
import type { GateEvent } from '../../../src/event.js';
import type { JournalRow } from '../../../src/store/journal-reader.js';

function row(sub: string): JournalRow {
  const event: GateEvent = {
    id: '00000000-0000-7000-8000-000000000001',
    seq: 1,
    ts: Date.UTC(2026, 11, 1),
    clock: 'synced',
    site: 'north',
    gate: 'g1',
    type: 'admit',
    iss: 'eats',
    sub,
    cti: '00000000000000aa',
  };
  return { event };
}

/** The rider column of one CSV row (no field below holds a comma outside quotes). */
function csvRider(sub: string): string {
  const line = eventFormatter('csv').row(row(sub), 0).replace(/\r\n$/, '');
  const header = eventFormatter('csv').head().replace(/\r\n$/, '').split(',');
  const cells = line.match(/("([^"]|"")*"|[^,]*)(,|$)/g)?.map((c) => c.replace(/,$/, '')) ?? [];
  return cells[header.indexOf('sub')] ?? '(no sub column)';
}

describe('the CSV export of the visitor register', () => {
  it('keeps an ordinary rider id as it is', () => {
    expect(csvRider('rider-4711')).toBe('rider-4711');
    expect(csvRider('rider, "quoted"')).toBe('"rider, ""quoted"""');
  });

  it.each([
    ['=HYPERLINK("http://evil.example","x")', `"'=HYPERLINK(""http://evil.example"",""x"")"`],
    ['+1+1', "'+1+1"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
  ])('defuses %j, which a spreadsheet would run as a formula', (sub, expected) => {
    expect(csvRider(sub)).toBe(expected);
  });

  it('shows control characters as ? so printing the file cannot drive a terminal', () => {
    expect(csvRider('\u001b[31mred\u0007')).toBe('?[31mred?');
    expect(csvRider('\tTAB')).toBe("'?TAB");
  });

  it('leaves the JSON export exact', () => {
    const json = eventFormatter('json').row(row('=1+1\u001b'), 0);
    expect(JSON.parse(json).sub).toBe('=1+1\u001b');
  });
});
