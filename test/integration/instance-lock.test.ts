import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { cliPath, collectOutput, exited, writeIssuerAndTrust } from '../helpers/daemon.js';
import { type Mosquitto, mosquittoMissing, startMosquitto } from '../helpers/mosquitto.js';
import { waitUntil } from '../helpers/pty.js';

interface Gate {
  child: ChildProcess;
  out: ReturnType<typeof collectOutput>;
}

/** The start time of a process in clock ticks, as the lock records it. */
function startTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

/** The `nobody` user, when this test runs as root and can become it (setpriv). */
const asNobody = (() => {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) =>
    spawnSync('id', [flag, 'nobody'], { encoding: 'utf8' }).stdout.trim();
  const probe = spawnSync('setpriv', ['--version'], { stdio: 'ignore' });
  const uid = Number(id('-u'));
  const gid = Number(id('-g'));
  return probe.status === 0 && uid > 0 && gid > 0 ? { uid, gid } : undefined;
})();

const skipReason = mosquittoMissing();
if (skipReason !== undefined) console.warn(`instance lock test skipped: ${skipReason}`);

/**
 * One gate per store: a second `ridergate run` on the same store exits 1 without touching
 * the relay, the broker session or the journal; a lock left by a dead gate is taken over.
 */
describe.skipIf(skipReason !== undefined)('ridergate run: single instance per store', () => {
  let dir: string;
  let broker: Mosquitto;
  let config: string;
  let storePath: string;
  const gates: Gate[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-lock-'));
    broker = await startMosquitto();
    const trust = await writeIssuerAndTrust(dir);
    storePath = join(dir, 'state', 'gate.db');
    config = join(dir, 'gate.yaml');
    writeFileSync(
      config,
      stringify({
        gate: { site: 'depot-7', id: 'north' },
        scanner: { driver: 'serial', path: join(dir, 'ttyACM-unplugged'), reconnectMaxMs: 1000 },
        relay: { driver: 'sim' },
        store: { path: storePath },
        mqtt: { url: broker.url },
        trust: { file: trust.trustFile, rootKeyFile: trust.rootKeyFile },
      }),
    );
  });

  afterAll(async () => {
    for (const gate of gates) {
      if (gate.child.exitCode === null && gate.child.signalCode === null) {
        gate.child.kill('SIGKILL');
        await exited(gate.child);
      }
    }
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function run(): Gate {
    const child = spawn(process.execPath, [cliPath(), 'run', '--config', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const gate = { child, out: collectOutput(child) };
    gates.push(gate);
    return gate;
  }

  async function ready(gate: Gate): Promise<void> {
    await waitUntil(
      () => gate.out.lines.some((l) => l.msg === 'gate ready') || gate.child.exitCode !== null,
      'gate ready',
      { timeoutMs: 20_000 },
    );
    expect(gate.child.exitCode, gate.out.stderr()).toBeNull();
  }

  async function stop(gate: Gate): Promise<void> {
    gate.child.kill('SIGTERM');
    expect(await exited(gate.child)).toBe(0);
  }

  function literal(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }

  function bootCount(): number {
    const events = spawnSync(
      process.execPath,
      [cliPath(), 'events', '--config', config, '--type', 'boot', '--format', 'csv'],
      { encoding: 'utf8' },
    );
    expect(events.status, events.stderr).toBe(0);
    return events.stdout.trim().split('\n').length - 1;
  }

  it('refuses a second run on the same store: exit 1, the first keeps running', async () => {
    const first = run();
    await ready(first);
    expect(bootCount()).toBe(1);
    const lock = JSON.parse(readFileSync(`${storePath}.lock`, 'utf8')) as { pid: number };
    expect(lock.pid).toBe(first.child.pid);

    const second = run();
    expect(await exited(second.child)).toBe(1);
    expect(second.out.stderr()).toBe(
      `ridergate: another ridergate (pid ${first.child.pid}) is running on this store ${storePath}; stop it first (systemctl stop ridergate)\n`,
    );
    // It never touched the relay, the broker or the journal.
    const msgs = second.out.lines.map((l) => l.msg);
    expect(msgs).not.toContain('relay ready');
    expect(msgs).not.toContain('gate ready');
    expect(first.child.exitCode).toBeNull();
    expect(bootCount()).toBe(1);
    expect(first.out.lines.map((l) => l.msg)).not.toContain('gate stopping');

    await stop(first);
    expect(existsSync(`${storePath}.lock`)).toBe(false);
  });

  it('selftest leaves the relay and the scanner to a running gate, doctor says it runs', async () => {
    const gate = run();
    await ready(gate);
    const pid = gate.child.pid;
    const boots = bootCount();
    const cli = (args: string[]) =>
      spawnSync(process.execPath, [cliPath(), ...args, '--config', config], {
        encoding: 'utf8',
        timeout: 60_000,
      });
    const selftest = cli(['selftest', '--yes', '--scan-timeout', '5']);
    const skipped = `the gate is running (pid ${pid}): stop it to click the relay and read a scan`;
    expect(selftest.stdout).toMatch(new RegExp(`^relay +SKIP +${literal(skipped)}`, 'm'));
    expect(selftest.stdout).toMatch(new RegExp(`^scanner read +SKIP +${literal(skipped)}`, 'm'));
    // The other checks still ran.
    expect(selftest.stdout).toMatch(/^broker +OK +/m);
    expect(selftest.stdout).toMatch(/^trust list +/m);
    expect(selftest.status, selftest.stdout).toBe(0);

    const doctor = cli(['doctor']);
    expect(doctor.stdout).toMatch(
      new RegExp(`^gate service +OK +the gate is running \\(pid ${pid}, since `, 'm'),
    );
    expect(gate.child.exitCode).toBeNull();
    expect(bootCount()).toBe(boots);
    await stop(gate);
    // Stopped: the selftest clicks the relay again.
    const after = cli(['selftest', '--yes', '--no-scan']);
    expect(after.stdout).toMatch(/^relay +OK +pulsed /m);
  });

  it('takes over a lock left by a gate that died (SIGKILL), with a warning', async () => {
    const dead = run();
    await ready(dead);
    dead.child.kill('SIGKILL');
    await exited(dead.child);
    expect(existsSync(`${storePath}.lock`)).toBe(true);

    const next = run();
    await ready(next);
    const warning = next.out.lines.find((l) => l.msg === 'stale store lock taken over');
    expect(warning?.stalePid).toBe(dead.child.pid);
    const lock = JSON.parse(readFileSync(`${storePath}.lock`, 'utf8')) as { pid: number };
    expect(lock.pid).toBe(next.child.pid);
    await stop(next);
  });

  it('takes over a lock whose pid now belongs to another process (pid reuse)', async () => {
    // This test runner is alive, but it is not the gate that wrote the lock: its start time differs.
    const ticks = startTicks(process.pid);
    writeFileSync(
      `${storePath}.lock`,
      JSON.stringify({
        pid: process.pid,
        startTicks: ticks + 1,
        startedAt: '2026-01-01T00:00:00Z',
      }),
    );
    const next = run();
    await ready(next);
    expect(next.out.lines.find((l) => l.msg === 'stale store lock taken over')?.stalePid).toBe(
      process.pid,
    );
    await stop(next);
  });

  it('takes over a lock whose gate was killed but not yet reaped (a zombie)', async () => {
    // The short sleep outlives the shell, which `sleep 60` replaces and which never reaps it:
    // once it ends, it stays a zombie.
    const holder = spawn('sh', ['-c', 'sleep 0.5 & echo $!; exec sleep 60'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let printed = '';
    holder.stdout?.on('data', (chunk: Buffer) => {
      printed += chunk.toString('utf8');
    });
    try {
      await waitUntil(() => printed.includes('\n'), 'zombie pid');
      const zombie = Number(printed.trim());
      await waitUntil(() => {
        try {
          return readFileSync(`/proc/${zombie}/stat`, 'utf8').includes(') Z ');
        } catch {
          return false;
        }
      }, 'zombie state');
      mkdirSync(join(dir, 'state'), { recursive: true });
      writeFileSync(
        `${storePath}.lock`,
        JSON.stringify({ pid: zombie, startTicks: startTicks(zombie), startedAt: 'x' }),
      );
      const next = run();
      await ready(next);
      expect(next.out.lines.find((l) => l.msg === 'stale store lock taken over')?.stalePid).toBe(
        zombie,
      );
      await stop(next);
    } finally {
      holder.kill('SIGKILL');
      await exited(holder);
    }
  });

  it.skipIf(asNobody === undefined)(
    "takes over its own user's lock whose pid now belongs to another user (as the service runs)",
    async () => {
      // A gate running as `nobody` cannot signal pid 1 (EPERM) nor, under the unit's
      // ProtectProc=invisible, read its /proc entry: the recorded uid tells it is not a gate.
      const own = mkdtempSync(join(tmpdir(), 'ridergate-lock-user-'));
      try {
        chmodSync(own, 0o777);
        const trust = await writeIssuerAndTrust(own);
        const ownStore = join(own, 'gate.db');
        const ownConfig = join(own, 'gate.yaml');
        writeFileSync(
          ownConfig,
          stringify({
            gate: { site: 'depot-7', id: 'south' },
            scanner: { driver: 'serial', path: join(own, 'ttyACM-unplugged') },
            relay: { driver: 'sim' },
            store: { path: ownStore },
            mqtt: { url: broker.url },
            trust: { file: trust.trustFile, rootKeyFile: trust.rootKeyFile },
          }),
        );
        writeFileSync(
          `${ownStore}.lock`,
          JSON.stringify({ pid: 1, uid: asNobody?.uid, startedAt: '2026-01-01T00:00:00Z' }),
        );
        chmodSync(`${ownStore}.lock`, 0o666);
        const child = spawn(
          'setpriv',
          [
            `--reuid=${asNobody?.uid}`,
            `--regid=${asNobody?.gid}`,
            '--clear-groups',
            process.execPath,
            cliPath(),
            'run',
            '--config',
            ownConfig,
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        const gate = { child, out: collectOutput(child) };
        gates.push(gate);
        await ready(gate);
        expect(gate.out.lines.find((l) => l.msg === 'stale store lock taken over')?.stalePid).toBe(
          1,
        );
        await stop(gate);
      } finally {
        rmSync(own, { recursive: true, force: true });
      }
    },
  );

  it('refuses run, relay pulse and scan when the lock names a live process with its own start time', async () => {
    writeFileSync(
      `${storePath}.lock`,
      JSON.stringify({
        pid: process.pid,
        startTicks: startTicks(process.pid),
        startedAt: '2026-01-01T00:00:00Z',
      }),
    );
    const second = run();
    expect(await exited(second.child)).toBe(1);
    expect(second.out.stderr()).toContain(`another ridergate (pid ${process.pid}) is running`);
    const pulse = spawnSync(process.execPath, [cliPath(), 'relay', 'pulse', '--config', config], {
      encoding: 'utf8',
    });
    expect(pulse.status).toBe(1);
    expect(pulse.stderr).toBe(
      `ridergate: the gate is running (pid ${process.pid}) and drives the relay: stop it to pulse the relay by hand (systemctl stop ridergate)\n`,
    );
    const scan = spawnSync(process.execPath, [cliPath(), 'scan', '--config', config], {
      encoding: 'utf8',
    });
    expect(scan.status).toBe(1);
    expect(scan.stderr).toBe(
      `ridergate: the gate is running (pid ${process.pid}) and reads the scanner: stop it to read scans here; its decisions show in ridergate events and ridergate watch (systemctl stop ridergate)\n`,
    );
    expect(existsSync(`${storePath}.lock`)).toBe(true);
    rmSync(`${storePath}.lock`);
  });
});
