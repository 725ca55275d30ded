import { el, svg } from './dom.js';

const PALETTE = [
  '#e53e3e',
  '#dd6b20',
  '#d69e2e',
  '#805ad5',
  '#3182ce',
  '#d53f8c',
  '#319795',
  '#718096',
];
const ADMIT_COLOR = '#38a169';
const ROW_HEIGHT = 22;
const LABEL_WIDTH = 170;
const BAR_WIDTH = 420;
const COUNT_WIDTH = 90;
/** Most gates drawn; the busiest come first. */
const MAX_ROWS = 40;

/** A stable colour per deny reason, in order of first appearance. */
const colours = new Map();
function colourOf(reason) {
  if (!colours.has(reason)) colours.set(reason, PALETTE[colours.size % PALETTE.length]);
  return colours.get(reason);
}

/**
 * Draws one stacked bar per gate: admits, then denials by reason, over the last hour.
 * @param {HTMLElement} host the element replaced with the chart
 * @param {{ key: string, totals: { admits: number, denials: Record<string, number> } }[]} rows
 */
export function drawHourChart(host, rows) {
  const busy = rows
    .map((r) => ({
      ...r,
      sum: r.totals.admits + Object.values(r.totals.denials).reduce((a, b) => a + b, 0),
    }))
    .sort((a, b) => b.sum - a.sum || a.key.localeCompare(b.key))
    .slice(0, MAX_ROWS);
  const max = Math.max(1, ...busy.map((r) => r.sum));
  const height = Math.max(1, busy.length) * ROW_HEIGHT + 8;
  const width = LABEL_WIDTH + BAR_WIDTH + COUNT_WIDTH;
  const chart = svg('svg', {
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': 'admits and denials per gate, last hour',
  });
  chart.append(...busy.map((row, i) => barRow(row, i * ROW_HEIGHT + 4, max)));
  if (busy.length === 0) chart.append(svg('text', { x: 8, y: 16 }, 'no scans in the last hour'));
  const legend = el('div', { class: 'legend' }, legendItem('admit', ADMIT_COLOR));
  for (const [reason, colour] of colours) legend.append(legendItem(`deny: ${reason}`, colour));
  const more =
    rows.length > busy.length
      ? el('div', { class: 'muted' }, `${rows.length - busy.length} quieter gates not drawn`)
      : '';
  host.replaceChildren(chart, legend, more);
}

function barRow(row, y, max) {
  const g = svg('g', { 'data-gate': row.key, 'data-total': row.sum });
  g.append(
    svg('text', { x: 4, y: y + 14 }, row.key.length > 24 ? `${row.key.slice(0, 23)}…` : row.key),
  );
  let x = LABEL_WIDTH;
  const segments = [['admit', row.totals.admits, ADMIT_COLOR]];
  for (const [reason, n] of Object.entries(row.totals.denials).sort())
    segments.push([reason, n, colourOf(reason)]);
  let denied = 0;
  for (const [series, count, colour] of segments) {
    if (count === 0) continue;
    if (series !== 'admit') denied += count;
    const w = (count / max) * BAR_WIDTH;
    const label = series === 'admit' ? `${count} admitted` : `${count} denied: ${series}`;
    g.append(
      svg(
        'rect',
        {
          x,
          y,
          width: Math.max(w, 1),
          height: ROW_HEIGHT - 6,
          fill: colour,
          'data-series': series,
          'data-count': count,
        },
        svg('title', {}, label),
      ),
    );
    x += w;
  }
  g.append(
    svg(
      'text',
      { x: LABEL_WIDTH + BAR_WIDTH + 6, y: y + 14, class: 'count' },
      `${row.totals.admits} / ${denied}`,
    ),
  );
  return g;
}

function legendItem(text, colour) {
  const swatch = el('i');
  swatch.style.background = colour;
  return el('span', {}, swatch, text);
}
