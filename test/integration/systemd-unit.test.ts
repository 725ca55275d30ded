import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const UNIT = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'systemd',
  'ridergate.service',
);
const text = readFileSync(UNIT, 'utf8');

/** The unit as systemd reads it: section → key → values (a key may repeat), comments dropped. */
function parseUnit(source: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of source.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header?.[1] !== undefined) {
      current = new Map();
      sections.set(header[1], current);
      continue;
    }
    const eq = line.indexOf('=');
    if (current === undefined || eq < 0) throw new Error(`not a unit line: ${line}`);
    const key = line.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

const unit = parseUnit(text);
const service = unit.get('Service') ?? new Map<string, string[]>();
const one = (key: string) => service.get(key)?.at(-1);

describe('systemd/ridergate.service', () => {
  it('is a notify service with a watchdog the daemon pings', () => {
    expect(one('Type')).toBe('notify');
    expect(one('NotifyAccess')).toBe('main');
    expect(Number(one('WatchdogSec'))).toBeGreaterThanOrEqual(10);
  });

  it('drives the relay off after every stop and restarts with a burst limit', () => {
    expect(one('ExecStopPost')).toMatch(
      /main\.js relay off --config \/etc\/ridergate\/config\.yaml$/,
    );
    expect(one('Restart')).toBe('always');
    expect(one('RestartPreventExitStatus')).toBe('78');
    expect(Number(unit.get('Unit')?.get('StartLimitBurst')?.[0])).toBeGreaterThan(1);
    expect(Number(unit.get('Unit')?.get('StartLimitIntervalSec')?.[0])).toBeGreaterThan(0);
    expect(Number(one('TimeoutStopSec'))).toBeGreaterThan(10); // the daemon's own stop limit
  });

  it('sandboxes the daemon but leaves the JIT, /sys/class/gpio and the serial devices usable', () => {
    expect(one('NoNewPrivileges')).toBe('true');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('StateDirectory')).toBe('ridergate');
    expect(one('CapabilityBoundingSet')).toBe('');
    expect(one('SystemCallFilter')).toBe('@system-service');
    expect(one('RestrictAddressFamilies')?.split(' ')).toContain('AF_UNIX');
    expect(service.get('DeviceAllow')).toEqual(
      expect.arrayContaining(['char-ttyACM rw', 'char-ttyUSB rw', 'char-gpiochip rw']),
    );
    // Each of these would break the gate (see the unit's comments and the README).
    for (const key of [
      'MemoryDenyWriteExecute',
      'ProtectKernelTunables',
      'PrivateDevices',
      'PrivateNetwork',
    ])
      expect(service.has(key), key).toBe(false);
    expect(service.get('SupplementaryGroups')).toEqual(['dialout gpio']);
  });

  it('justifies every sandboxing option with a comment directly above it or its group', () => {
    const lines = text.split('\n');
    const start = lines.findIndex((l) => l.startsWith('# --- Sandboxing'));
    expect(start).toBeGreaterThan(0);
    for (let i = start + 1; i < lines.length && !lines[i]?.startsWith('['); i++) {
      const line = lines[i] ?? '';
      if (line === '' || line.startsWith('#')) continue;
      let above = i - 1;
      while (above > start && lines[above] !== '' && !lines[above]?.startsWith('#')) above--;
      expect(lines[above]?.startsWith('#') && above > start, line).toBe(true);
    }
  });
});

const analyzeMissing =
  spawnSync('systemd-analyze', ['--version']).status === 0
    ? undefined
    : 'systemd-analyze is not installed (Debian package systemd)';
if (analyzeMissing !== undefined) console.warn(`systemd-analyze verify skipped: ${analyzeMissing}`);

describe.skipIf(analyzeMissing !== undefined)('systemd-analyze verify', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ridergate-unit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /**
   * verify works offline (no running systemd needed) and checks that each Exec program exists:
   * the unit names /usr/bin/node as Debian installs it; where node lives elsewhere (a CI image),
   * the copy names that node instead, as scripts/install.sh does.
   */
  function verify(source: string): { code: number | null; output: string } {
    const node = existsSync('/usr/bin/node') ? '/usr/bin/node' : process.execPath;
    const file = join(dir, 'ridergate.service');
    writeFileSync(file, source.replaceAll('/usr/bin/node ', `${node} `));
    const result = spawnSync('systemd-analyze', ['verify', '--man=no', file], { encoding: 'utf8' });
    return { code: result.status, output: `${result.stdout}${result.stderr}`.trim() };
  }

  it('passes with no warning at all', () => {
    expect(verify(text)).toEqual({ code: 0, output: '' });
  });

  it('would report a misspelled option (the check can fail)', () => {
    const result = verify(text.replace('NoNewPrivileges=', 'NoNewPrivilege='));
    expect(result.output).toContain("Unknown key 'NoNewPrivilege'");
  });
});
