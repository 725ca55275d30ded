import type { CheckResult } from './check.js';

/** True when no row failed: warnings and skipped rows leave the gate fit to run. */
export function allPassed(results: readonly CheckResult[]): boolean {
  return results.every((r) => r.status !== 'fail');
}

/**
 * The results as a table a technician reads on a phone screen: one row per check, and the
 * fix under each row that needs one.
 */
export function formatTable(results: readonly CheckResult[]): string {
  const width = Math.max(5, ...results.map((r) => r.check.length));
  const lines = [`${'CHECK'.padEnd(width)}  STATUS  DETAIL`];
  for (const r of results) {
    const pad = `${' '.repeat(width)}  ${' '.repeat(6)}  `;
    const detail = r.detail
      .split('\n')
      .map((l) => l.trim())
      .join(`\n${pad}  `);
    lines.push(`${r.check.padEnd(width)}  ${r.status.toUpperCase().padEnd(6)}  ${detail}`);
    if (r.fix !== undefined && (r.status === 'fail' || r.status === 'warn'))
      lines.push(`${pad}fix: ${r.fix}`);
  }
  const failedCount = results.filter((r) => r.status === 'fail').length;
  const warned = results.filter((r) => r.status === 'warn').length;
  lines.push(
    failedCount === 0
      ? `all checks passed${warned > 0 ? ` (${warned} warning(s))` : ''}`
      : `${failedCount} check(s) failed`,
  );
  return `${lines.join('\n')}\n`;
}

/** The results as JSON for tools: `{ ok, checks: [...] }`. */
export function formatJson(results: readonly CheckResult[]): string {
  return `${JSON.stringify({ ok: allPassed(results), checks: results }, null, 2)}\n`;
}
