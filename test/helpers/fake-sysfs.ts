import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A gpiochip folder for the fake tree. */
export interface FakeChip {
  /** Folder name suffix and sysfs base, e.g. 512 for gpiochip512. */
  base: number;
  label: string;
  ngpio: number;
}

/**
 * Why a private mount namespace cannot be made here, or undefined when it can: mounting a tmpfs
 * over /sys/class needs root (CAP_SYS_ADMIN) and `unshare` from util-linux.
 */
export function mountNamespaceUnavailable(): string | undefined {
  if (process.getuid?.() !== 0)
    return 'not root: a private mount namespace with a fake /sys/class needs root';
  const probe = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs none /sys/class'], {
    stdio: 'ignore',
  });
  if (probe.status !== 0)
    return 'unshare -m or mounting a tmpfs over /sys/class failed on this machine';
  return undefined;
}

/**
 * Runs `command` in a private mount namespace where /sys/class is a tmpfs holding a fake GPIO
 * sysfs tree: the given chips and, for each line, a gpioN folder already exported (as the
 * kernel would show it), with value 0. The real /sys of the machine is never touched.
 * `options.setup` are more shell commands run in the namespace before the command starts
 * (e.g. `mount -t tmpfs -o size=512k none /some/dir` for a small store); any failure aborts.
 */
export function spawnWithFakeSysfs(
  command: string[],
  tree: { chips: FakeChip[]; lines: number[] },
  options: { env?: NodeJS.ProcessEnv; setup?: string[] } = {},
): ChildProcess {
  const steps = [
    'set -e',
    'mount -t tmpfs -o size=1m ridergate-fake-sysfs /sys/class',
    'g=/sys/class/gpio',
    'mkdir -p $g',
    ': > $g/export',
    ': > $g/unexport',
    ...tree.chips.map(
      (c) =>
        `mkdir $g/gpiochip${c.base} && echo ${c.label} > $g/gpiochip${c.base}/label && ` +
        `echo ${c.base} > $g/gpiochip${c.base}/base && echo ${c.ngpio} > $g/gpiochip${c.base}/ngpio`,
    ),
    ...tree.lines.map(
      (n) =>
        `mkdir $g/gpio${n} && echo in > $g/gpio${n}/direction && echo 0 > $g/gpio${n}/value && ` +
        `echo 0 > $g/gpio${n}/active_low && echo none > $g/gpio${n}/edge`,
    ),
    ...(options.setup ?? []),
    'exec "$@"',
  ];
  // unshare without --fork execs in place, and sh execs the command: the child's pid is the
  // command's, so /proc/<pid>/root shows its view of the fake tree.
  return spawn(
    'unshare',
    ['-m', '--propagation', 'private', 'sh', '-c', steps.join('\n'), 'sh', ...command],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ?? process.env,
    },
  );
}

/**
 * Runs a shell command inside the mount namespace of process `pid` (nsenter), e.g. to remount
 * a filesystem only that process sees. Resolves with the exit status and stderr.
 */
export function inNamespaceOf(pid: number, command: string): { status: number; stderr: string } {
  const run = spawnSync('nsenter', ['-t', String(pid), '-m', 'sh', '-c', command], {
    encoding: 'utf8',
  });
  return { status: run.status ?? -1, stderr: run.stderr ?? '' };
}

/** Path of a file of line `n` as the process `pid` sees it. */
export function gpioFile(
  pid: number,
  line: number,
  name: 'value' | 'direction' | 'active_low',
): string {
  return `/proc/${pid}/root/sys/class/gpio/gpio${line}/${name}`;
}

/** One observed level of a GPIO value file. `mono` is performance.now() in ms. */
export interface LevelSample {
  level: string;
  mono: number;
}

/**
 * Samples a value file every `intervalMs` and records each change, until stop() is called.
 * This is how the test sees the relay move, as a multimeter on the pin would.
 */
export function watchLevel(file: string, intervalMs = 2): { changes: LevelSample[]; stop(): void } {
  const changes: LevelSample[] = [];
  let last: string | undefined;
  const sample = () => {
    let level: string;
    try {
      level = readFileSync(file, 'utf8').trim().slice(0, 1);
    } catch {
      return;
    }
    if (level !== last) {
      changes.push({ level, mono: performance.now() });
      last = level;
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return { changes, stop: () => clearInterval(timer) };
}

/**
 * Writes a fake GPIO sysfs tree into `classDir` (a host folder that stands for /sys/class):
 * `gpio/export`, `gpio/unexport`, the given chips, and each line already exported with
 * direction `in` and value 0, as {@link spawnWithFakeSysfs} makes it on its tmpfs.
 * @returns the folder, for {@link spawnWithBoundSysfs}.
 */
export function writeFakeSysfsTree(
  classDir: string,
  tree: { chips: FakeChip[]; lines: number[] },
): string {
  const g = join(classDir, 'gpio');
  mkdirSync(g, { recursive: true });
  writeFileSync(join(g, 'export'), '');
  writeFileSync(join(g, 'unexport'), '');
  for (const c of tree.chips) {
    const chip = join(g, `gpiochip${c.base}`);
    mkdirSync(chip, { recursive: true });
    writeFileSync(join(chip, 'label'), `${c.label}\n`);
    writeFileSync(join(chip, 'base'), `${c.base}\n`);
    writeFileSync(join(chip, 'ngpio'), `${c.ngpio}\n`);
  }
  for (const n of tree.lines) {
    const line = join(g, `gpio${n}`);
    mkdirSync(line, { recursive: true });
    writeFileSync(join(line, 'direction'), 'in\n');
    writeFileSync(join(line, 'value'), '0\n');
    writeFileSync(join(line, 'active_low'), '0\n');
    writeFileSync(join(line, 'edge'), 'none\n');
  }
  return classDir;
}

/**
 * Runs `command` in a private mount namespace where the host folder `classDir` (made by
 * {@link writeFakeSysfsTree}) is bind-mounted over /sys/class. Unlike
 * {@link spawnWithFakeSysfs}, the tree lives on the host: it outlives the process, so a
 * restarted process finds the levels the killed one left, and the test reads the value file
 * directly (`<classDir>/gpio/gpioN/value`) with one sampler across every restart. Needs root.
 * The child's pid is the command's (unshare and sh exec in place).
 */
export function spawnWithBoundSysfs(
  command: string[],
  classDir: string,
  options: { env?: NodeJS.ProcessEnv } = {},
): ChildProcess {
  const script = 'set -e\nmount --bind "$1" /sys/class\nshift\nexec "$@"';
  return spawn(
    'unshare',
    ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', classDir, ...command],
    { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env },
  );
}
