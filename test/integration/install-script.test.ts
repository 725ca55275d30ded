import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath } from '../helpers/daemon.js';

// The install script is tested in a fake root prefix (RIDERGATE_ROOT / --root), not in a
// Debian root made by debootstrap: debootstrap is not installed on the CI machines and a
// bootstrap takes minutes. useradd/groupadd/usermod --prefix write the fake root's
// /etc/passwd, /etc/group, /etc/shadow and /etc/gshadow, so users, groups, files and modes
// are all checked without touching the real system. It needs root (chown, useradd).
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCRIPT = join(REPO, 'scripts', 'install.sh');

const skipReason =
  process.getuid?.() !== 0
    ? 'the install script test needs root (chown, useradd --prefix)'
    : spawnSync('useradd', ['--help']).status !== 0
      ? 'useradd is not installed (Debian package passwd)'
      : undefined;
if (skipReason !== undefined) console.warn(`install script test skipped: ${skipReason}`);

const hasSystemctl = spawnSync('systemctl', ['--version']).status === 0;
/** The node the script finds on PATH, which the installed unit must name. */
const nodeOnPath = spawnSync('sh', ['-c', 'command -v node'], { encoding: 'utf8' }).stdout.trim();

/** A root with just the account files useradd and groupadd need; `dialout` exists as on Pi OS. */
function makeFakeRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'ridergate-root-'));
  const etc = join(root, 'etc');
  mkdirSync(etc);
  writeFileSync(
    join(etc, 'passwd'),
    'root:x:0:0:root:/root:/bin/bash\npi:x:1000:1000::/home/pi:/bin/bash\n',
  );
  writeFileSync(join(etc, 'group'), 'root:x:0:\ndialout:x:20:pi\npi:x:1000:\n');
  writeFileSync(join(etc, 'shadow'), 'root:*:19000:0:99999:7:::\npi:*:19000:0:99999:7:::\n');
  writeFileSync(join(etc, 'gshadow'), 'root:*::\ndialout:*::pi\npi:!::\n');
  chmodSync(join(etc, 'shadow'), 0o640);
  chmodSync(join(etc, 'gshadow'), 0o640);
  if (existsSync('/etc/login.defs')) copyFileSync('/etc/login.defs', join(etc, 'login.defs'));
  else
    writeFileSync(
      join(etc, 'login.defs'),
      'SYS_UID_MIN 100\nSYS_UID_MAX 999\nSYS_GID_MIN 100\nSYS_GID_MAX 999\n',
    );
  return root;
}

// Every call names a fake root (--root or RIDERGATE_ROOT): the script must never reach the
// real / from a test, not even through an option it refuses.
function install(args: string[], env: Record<string, string> = {}, cwd?: string) {
  const result = spawnSync('bash', [SCRIPT, ...args], {
    encoding: 'utf8',
    cwd,
    env: { ...process.env, RIDERGATE_SKIP_NPM: '1', ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Every path under `root`, sorted: what a refused run must leave as it found it. */
function tree(root: string): string[] {
  return (readdirSync(root, { recursive: true }) as string[]).sort();
}

/** The rows of a colon-separated account file whose first field is `name`. */
function entries(root: string, file: string, name: string): string[][] {
  return readFileSync(join(root, 'etc', file), 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .filter((fields) => fields[0] === name);
}

function mode(path: string): string {
  return (statSync(path).mode & 0o777).toString(8);
}

describe.skipIf(skipReason !== undefined)('scripts/install.sh into a fake root', () => {
  let root: string;
  let first: ReturnType<typeof install>;
  const config = 'gate:\n  site: depot-7\n  id: north\nrelay:\n  pin: 22\n  activeLow: true\n';

  beforeAll(() => {
    cliPath(); // dist/ must be built: the script installs it
    root = makeFakeRoot();
    first = install(['--root', root]);
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('installs, says what it did and prints the boot line for the default relay pin', () => {
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('created system user ridergate (no login, no home)');
    expect(first.stdout).toContain('gpio=17=op,dl');
    expect(first.stdout).toContain('Next step: sudo ridergate provision');
  });

  it('creates a system user without login or home in dialout and a new gpio group', () => {
    const [user] = entries(root, 'passwd', 'ridergate');
    expect(user?.[5]).toBe('/nonexistent');
    expect(user?.[6]).toBe('/usr/sbin/nologin');
    expect(Number(user?.[2])).toBeLessThan(1000);
    expect(entries(root, 'shadow', 'ridergate')[0]?.[1]).toBe('!');
    const members = (group: string) => entries(root, 'group', group)[0]?.[3]?.split(',');
    expect(members('dialout')).toEqual(['pi', 'ridergate']);
    expect(members('gpio')).toEqual(['ridergate']);
    expect(entries(root, 'group', 'ridergate')[0]?.[2]).toBe(user?.[3]);
  });

  it('creates /etc/ridergate and /var/lib/ridergate 0750 with the owners from the fake root', () => {
    const uid = Number(entries(root, 'passwd', 'ridergate')[0]?.[2]);
    const gid = Number(entries(root, 'group', 'ridergate')[0]?.[2]);
    const etc = statSync(join(root, 'etc/ridergate'));
    expect([mode(join(root, 'etc/ridergate')), etc.uid, etc.gid]).toEqual(['750', 0, gid]);
    const state = statSync(join(root, 'var/lib/ridergate'));
    expect([mode(join(root, 'var/lib/ridergate')), state.uid, state.gid]).toEqual([
      '750',
      uid,
      gid,
    ]);
    const example = statSync(join(root, 'etc/ridergate/config.example.yaml'));
    expect([mode(join(root, 'etc/ridergate/config.example.yaml')), example.gid]).toEqual([
      '640',
      gid,
    ]);
    expect(existsSync(join(root, 'etc/ridergate/config.yaml'))).toBe(false);
  });

  it('installs the program into /opt/ridergate owned by root, with a ridergate command', () => {
    const main = join(root, 'opt/ridergate/dist/cli/main.js');
    expect(mode(main)).toBe('755');
    expect(statSync(main).uid).toBe(0);
    for (const item of [
      'package.json',
      'package-lock.json',
      'devices',
      'config/default.yaml',
      'systemd/ridergate.service',
    ])
      expect(existsSync(join(root, 'opt/ridergate', item)), item).toBe(true);
    expect(readlinkSync(join(root, 'usr/local/bin/ridergate'))).toBe(
      '/opt/ridergate/dist/cli/main.js',
    );
  });

  it('loads the USB serial drivers at boot, so the device allow-list of the unit finds them', () => {
    const modules = readFileSync(join(root, 'etc/modules-load.d/ridergate.conf'), 'utf8');
    expect(modules.split('\n').filter((l) => l !== '' && !l.startsWith('#'))).toEqual([
      'cdc_acm',
      'usbserial',
    ]);
  });

  it('installs the unit with the node it found, and enables it', () => {
    const unit = readFileSync(join(root, 'etc/systemd/system/ridergate.service'), 'utf8');
    expect(unit).toContain('Type=notify');
    expect(unit).toContain(`ExecStart=${nodeOnPath} /opt/ridergate/dist/cli/main.js run`);
    expect(unit).toContain(`ExecStopPost=-${nodeOnPath} /opt/ridergate/dist/cli/main.js relay off`);
    expect(mode(join(root, 'etc/systemd/system/ridergate.service'))).toBe('644');
    if (hasSystemctl) {
      const wants = join(root, 'etc/systemd/system/multi-user.target.wants/ridergate.service');
      expect(lstatSync(wants).isSymbolicLink()).toBe(true);
    }
  });

  it('upgrades in place: configuration kept byte for byte, no second user, pin from the config', () => {
    writeFileSync(join(root, 'etc/ridergate/config.yaml'), config, { mode: 0o640 });
    writeFileSync(join(root, 'var/lib/ridergate/ridergate.db'), 'events');
    const passwdBefore = readFileSync(join(root, 'etc/passwd'), 'utf8');

    const second = install([], { RIDERGATE_ROOT: root });

    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('kept /etc/ridergate/config.yaml');
    expect(second.stdout).toContain('gpio=22=op,dh');
    expect(readFileSync(join(root, 'etc/ridergate/config.yaml'), 'utf8')).toBe(config);
    expect(readFileSync(join(root, 'var/lib/ridergate/ridergate.db'), 'utf8')).toBe('events');
    expect(readFileSync(join(root, 'etc/passwd'), 'utf8')).toBe(passwdBefore);
    expect(entries(root, 'group', 'gpio')).toHaveLength(1);
    expect(entries(root, 'group', 'dialout')[0]?.[3]).toBe('pi,ridergate');
    expect(existsSync(join(root, 'opt/ridergate.new'))).toBe(false);
    expect(existsSync(join(root, 'opt/ridergate.old'))).toBe(false);
  });

  it('takes the relay pin and level from options over the configuration', () => {
    const result = install(['--root', root, '--relay-pin', '5', '--active-high']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('gpio=5=op,dl');
  });

  it('refuses an old Node.js, says how to get a supported one, and installs nothing', () => {
    const fresh = makeFakeRoot();
    const bin = mkdtempSync(join(tmpdir(), 'ridergate-oldnode-'));
    writeFileSync(join(bin, 'node'), '#!/bin/sh\necho v18.19.0\n', { mode: 0o755 });
    try {
      const result = install(['--root', fresh], { PATH: `${bin}:${process.env.PATH ?? ''}` });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('is Node.js v18.19.0; ridergate needs 20 or newer');
      expect(result.stderr).toContain('https://deb.nodesource.com/setup_22.x');
      expect(result.stderr).toContain('trixie');
      expect(existsSync(join(fresh, 'opt/ridergate'))).toBe(false);
      expect(entries(fresh, 'passwd', 'ridergate')).toHaveLength(0);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it.each([
    ['flow style', 'relay: {pin: 5, activeLow: true}\n', 'gpio=5=op,dh'],
    ['4-space indentation', 'relay:\n    pin: 6\n    activeLow: true\n', 'gpio=6=op,dh'],
    ['a relay profile', 'relay:\n  profile: relay-2ch-active-low\n', 'gpio=17=op,dh'],
    [
      'a profile with relay.pin over it',
      'relay:\n  profile: relay-1ch-active-high\n  pin: 24\n',
      'gpio=24=op,dl',
    ],
  ])('prints the boot line the daemon drives for a configuration: %s', (_, yaml, line) => {
    writeFileSync(join(root, 'etc/ridergate/config.yaml'), yaml, { mode: 0o640 });
    const result = install(['--root', root]);
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(result.stdout.match(/gpio=\S+/g)).toEqual([line]);
  });

  it('ignores RIDERGATE_RELAY_ variables of the installing shell, which the service lacks', () => {
    writeFileSync(join(root, 'etc/ridergate/config.yaml'), 'relay:\n  pin: 5\n', { mode: 0o640 });
    const result = install(['--root', root], { RIDERGATE_RELAY_PIN: '6' });
    expect(result.stdout.match(/gpio=\S+/g)).toEqual(['gpio=5=op,dl']);
  });

  it('says it cannot read the relay settings and prints no pin rather than a wrong one', () => {
    const yaml = 'relay:\n  pin: 5\n  profile: relay-9ch-unknown\n';
    writeFileSync(join(root, 'etc/ridergate/config.yaml'), yaml, { mode: 0o640 });
    const result = install(['--root', root]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      'ridergate install: warning: cannot read the relay settings of /etc/ridergate/config.yaml; no boot line for the relay pin\n',
    );
    expect(result.stdout).toContain(
      'relay.profile: got "relay-9ch-unknown"; no such relay profile',
    );
    expect(result.stdout).toContain('gpio=PIN=op,dh for an active-low board');
    expect(result.stdout).not.toMatch(/gpio=\d/);
  });

  it('reads a leading zero of --relay-pin as decimal', () => {
    const result = install(['--root', root, '--relay-pin', '08', '--active-low']);
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(result.stdout.match(/gpio=\S+/g)).toEqual(['gpio=8=op,dh']);
  });

  it('takes a relative --root from the current folder', () => {
    const fresh = makeFakeRoot();
    try {
      const result = install(['--root', basename(fresh)], {}, dirname(fresh));
      expect([result.code, result.stderr]).toEqual([0, '']);
      expect(existsSync(join(fresh, 'opt/ridergate/dist/cli/main.js'))).toBe(true);
      expect(entries(fresh, 'passwd', 'ridergate')).toHaveLength(1);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it('prints its usage for --help, exit 0, and installs nothing', () => {
    const fresh = makeFakeRoot();
    const before = tree(fresh);
    try {
      const result = install(['--root', fresh, '--help']);
      expect([result.code, result.stderr]).toEqual([0, '']);
      expect(result.stdout).toMatch(/^usage: sudo scripts\/install.sh \[--root DIR\]/);
      expect(result.stdout.split('\n')).not.toContain('#');
      expect(tree(fresh)).toEqual(before);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it.each([
    [['--bogus'], "unknown option '--bogus'"],
    [['--relay-pin', '28'], "--relay-pin '28' is not a BCM pin number (0-27)"],
    [['--relay-pin', '1x'], "--relay-pin '1x' is not a BCM pin number (0-27)"],
    [['--relay-pin='], '--relay-pin needs a BCM pin number (0-27)'],
    [['--relay-pin'], '--relay-pin needs a BCM pin number (0-27)'],
    [
      ['--relay-pin', '--active-low'],
      "needs a BCM pin number (0-27), got the option '--active-low'",
    ],
    [['--active-low', '--active-high'], '--active-low and --active-high contradict each other'],
    [['--root'], '--root needs a directory'],
    [['--root='], '--root needs a directory'],
  ])('refuses %j with one line, exit 2, and writes nothing', (args, message) => {
    const fresh = makeFakeRoot();
    const before = tree(fresh);
    try {
      const result = install(['--root', fresh, ...args]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr.split('\n')).toEqual([
        expect.stringMatching(/^ridergate install: error: .*\(see --help\)$/),
        '',
      ]);
      expect(result.stderr).toContain(message);
      expect(tree(fresh)).toEqual(before);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it('refuses a --root that does not exist or lacks the account files, naming them', () => {
    const parent = mkdtempSync(join(tmpdir(), 'ridergate-badroot-'));
    try {
      const missing = install(['--root', join(parent, 'nonexist')]);
      expect([missing.code, missing.stdout]).toEqual([2, '']);
      expect(missing.stderr).toBe(
        `ridergate install: error: --root '${join(parent, 'nonexist')}' is not an existing directory (see --help)\n`,
      );

      const empty = install([], { RIDERGATE_ROOT: parent });
      expect([empty.code, empty.stdout]).toEqual([2, '']);
      expect(empty.stderr).toContain(
        `RIDERGATE_ROOT '${parent}' has no etc/passwd, etc/group, etc/shadow, etc/gshadow: a root to install into needs`,
      );
      expect(tree(parent)).toEqual([]);

      mkdirSync(join(parent, 'etc'));
      writeFileSync(join(parent, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
      writeFileSync(join(parent, 'etc/group'), 'root:x:0:\n');
      const partial = install(['--root', parent]);
      expect(partial.code).toBe(2);
      expect(partial.stderr).toContain('has no etc/shadow, etc/gshadow:');
      expect(partial.stderr.trim().split('\n')).toHaveLength(1);
      expect(tree(parent)).toEqual(['etc', join('etc', 'group'), join('etc', 'passwd')]);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});
