import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UnixDgramSocket } from 'unix-dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { cliPath, collectOutput, exited, writeIssuerAndTrust } from '../helpers/daemon.js';
import { waitUntil } from '../helpers/pty.js';

const unix = createRequire(import.meta.url)('unix-dgram') as typeof import('unix-dgram');

/** A datagram as systemd's notify socket receives it, with when it arrived. */
interface Notice {
  text: string;
  atMs: number;
}

/**
 * The daemon under Type=notify, as systemd runs it: NOTIFY_SOCKET names a unix datagram
 * socket this test binds (standing in for /run/systemd/notify), WATCHDOG_USEC asks for a
 * keep-alive every 0.5 s. The scanner's device is missing (an unplugged scanner: retrying,
 * alive) and the broker is unreachable (the link retries): neither makes the gate unhealthy.
 */
describe('ridergate run under systemd Type=notify with a watchdog', () => {
  let dir: string;
  let server: UnixDgramSocket;
  const notices: Notice[] = [];
  let child: ChildProcess;
  let out: ReturnType<typeof collectOutput>;
  const texts = (prefix: string) => notices.filter((n) => n.text.startsWith(prefix));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-notify-'));
    const socketPath = join(dir, 'notify');
    server = unix.createSocket('unix_dgram', (msg) =>
      notices.push({ text: msg.toString('utf8'), atMs: Date.now() }),
    );
    server.bind(socketPath);
    const trust = await writeIssuerAndTrust(dir);
    const config = join(dir, 'gate.yaml');
    writeFileSync(
      config,
      stringify({
        gate: { site: 'depot-7', id: 'north' },
        scanner: { driver: 'serial', path: join(dir, 'ttyACM-unplugged'), reconnectMaxMs: 1000 },
        relay: { driver: 'sim' },
        store: { path: join(dir, 'gate.db') },
        mqtt: { url: 'mqtt://127.0.0.1:1' },
        trust: { file: trust.trustFile, rootKeyFile: trust.rootKeyFile },
      }),
    );
    child = spawn(process.execPath, [cliPath(), 'run', '--config', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '1000000' },
    });
    out = collectOutput(child);
  });

  afterAll(async () => {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await exited(child);
    }
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends READY=1 with a status line once the gate is ready', async () => {
    await waitUntil(() => texts('READY=1').length > 0 || child.exitCode !== null, 'READY=1', {
      timeoutMs: 20_000,
    });
    expect(child.exitCode, out.stderr()).toBeNull();
    const [ready] = texts('READY=1');
    expect(ready?.text).toBe('READY=1\nSTATUS=gate ready: site depot-7, gate north');
    await waitUntil(() => out.lines.some((l) => l.msg === 'gate ready'), 'gate ready logged');
    const logged = out.lines.find((l) => l.msg === 'gate ready');
    expect(Date.parse(String(logged?.time))).toBeLessThanOrEqual(ready?.atMs ?? 0);
    expect(texts('READY=1')).toHaveLength(1);
  });

  it('keeps sending WATCHDOG=1 while the scanner is unplugged and retrying', async () => {
    const before = texts('WATCHDOG=1').length;
    await waitUntil(() => texts('WATCHDOG=1').length >= before + 3, 'three keep-alives', {
      timeoutMs: 20_000,
    });
    expect(out.lines.some((l) => l.msg === 'scanner not available, retrying')).toBe(true);
    expect(out.lines.some((l) => l.msg === 'gate unhealthy, watchdog not fed')).toBe(false);
  });

  it('withholds the keep-alive after the event loop was frozen, then feeds again', async () => {
    // SIGSTOP freezes the whole process for 6 s, longer than the 5 s lag limit: on SIGCONT the
    // overdue check sees the drift, feeds nothing and says why; the next check is healthy.
    child.kill('SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    child.kill('SIGCONT');
    await waitUntil(
      () => out.lines.some((l) => l.msg === 'gate healthy again, watchdog fed'),
      'healthy again',
      { timeoutMs: 20_000 },
    );
    const unhealthy = out.lines.find((l) => l.msg === 'gate unhealthy, watchdog not fed');
    expect(unhealthy?.failures).toEqual([
      expect.stringMatching(/^eventLoop: event loop \d+ ms late/),
    ]);
    expect(texts('STATUS=unhealthy: eventLoop')).toHaveLength(1);
    const resumed = texts('WATCHDOG=1').length;
    await waitUntil(() => texts('WATCHDOG=1').length > resumed, 'keep-alive resumed', {
      timeoutMs: 20_000,
    });
  });

  it('sends STOPPING=1 on SIGTERM and exits cleanly', async () => {
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    expect(texts('STOPPING=1')).toHaveLength(1);
    const stoppingAt = texts('STOPPING=1')[0]?.atMs ?? 0;
    expect(notices.filter((n) => n.atMs > stoppingAt && n.text === 'WATCHDOG=1')).toEqual([]);
  });
});
