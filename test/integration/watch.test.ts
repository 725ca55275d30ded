import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, exited } from '../helpers/daemon.js';
import { makeTestGate, provision, type TestGate } from '../helpers/gate-app.js';
import { type Mosquitto, mosquittoMissing, startMosquitto } from '../helpers/mosquitto.js';
import { waitUntil } from '../helpers/pty.js';

const LONG = { timeoutMs: 20_000 };

describe.skipIf(mosquittoMissing() !== undefined)('ridergate watch (not a terminal)', () => {
  let dir: string;
  let broker: Mosquitto;
  let gate: TestGate;
  let watch: ChildProcess;
  let ops: MqttClient;
  let out = '';
  const lines = () => out.split('\n');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-watch-'));
    broker = await startMosquitto();
    watch = spawn(process.execPath, [cliPath(), 'watch', '--url', broker.url], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    watch.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    watch.stderr?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    await waitUntil(() => out.includes('connected mqtt://'), 'watch connected', LONG);
    ops = await mqtt.connectAsync(broker.url, { clientId: 'ops-test' });
    gate = makeTestGate(dir, await provision(dir), { brokerUrl: broker.url });
    await gate.app.start();
  });

  afterAll(async () => {
    await gate?.app.stop();
    watch?.kill('SIGTERM');
    await ops?.endAsync();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints one line per change: the gate online, its boot and an admit', async () => {
    await waitUntil(() => lines().includes('north/g1 status online session=1'), 'online', LONG);
    await waitUntil(() => lines().includes('north/g1 event boot'), 'boot event', LONG);
    await gate.scan(gate.token());
    await waitUntil(() => lines().includes('north/g1 event admit'), 'admit event', LONG);
    await gate.scan('RP1:garbage');
    await waitUntil(() => lines().includes('north/g1 event deny reason=malformed'), 'deny', LONG);
  });

  it('says why a bad payload is ignored and keeps running', async () => {
    await ops.publishAsync('ridergate/v1/north/g9/status', 'not json', { qos: 1 });
    await ops.publishAsync('ridergate/v1/north/g9/events', 'x'.repeat(100_000), { qos: 1 });
    await waitUntil(
      () => lines().includes('north/g9 status rejected: payload is not JSON'),
      'rejected status',
      LONG,
    );
    await waitUntil(
      () =>
        lines().includes(
          'north/g9 events rejected: payload of 100000 bytes is over the 16384 limit',
        ),
      'rejected event',
      LONG,
    );
    expect(watch.exitCode).toBeNull();
  });

  it('ends quietly with exit code 0 when its reader goes away (watch | head -1)', async () => {
    const piped = spawn(process.execPath, [cliPath(), 'watch', '--url', broker.url], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let first = '';
    let errors = '';
    piped.stderr?.on('data', (chunk: Buffer) => {
      errors += chunk.toString('utf8');
    });
    piped.stdout?.on('data', (chunk: Buffer) => {
      first += chunk.toString('utf8');
    });
    const exit = exited(piped);
    await waitUntil(() => first.includes('\n'), 'first line', LONG);
    // `head -1` has its line and exits: the read end of the pipe closes.
    piped.stdout?.destroy();
    let code: number | null | undefined;
    void exit.then((c) => {
      code = c;
    });
    // Each message is one more line to write into the closed pipe.
    let n = 0;
    const publisher = setInterval(() => {
      n += 1;
      void ops.publishAsync(`ridergate/v1/north/p${n}/status`, 'not json', { qos: 1 });
    }, 100);
    try {
      await waitUntil(() => code !== undefined, 'watch exited', LONG);
    } finally {
      clearInterval(publisher);
    }
    expect(first).toMatch(/^connected mqtt:\/\//);
    expect(errors).toBe('');
    expect(code).toBe(0);
  });

  it('on a terminal, draws a table of gates in place with ANSI redraws', async () => {
    // script(1) gives the watch a pseudo-terminal as stdout, as an operator's shell would.
    const tty = spawn(
      'script',
      ['-qfec', `${process.execPath} ${cliPath()} watch --url ${broker.url}`, '/dev/null'],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let screen = '';
    tty.stdout?.on('data', (chunk: Buffer) => {
      screen += chunk.toString('utf8');
    });
    try {
      // The status is retained, so a new watch shows the gate at once; events are not.
      await waitUntil(() => /north\/g1 +online #1 +- +- /.test(screen), 'g1 row', LONG);
      expect(screen).toContain('\x1b[H');
      expect(screen).toMatch(/GATE +STATE +LAST EVENT +AGE +OUTBOX +1H ADMIT\/DENY +ALARMS/);
      await gate.scan(gate.token('rider-tty'));
      const admitRow = /north\/g1 +online #1 +admit +\d+s +- +1\/0 +-/;
      await waitUntil(() => admitRow.test(screen), 'admit row', LONG);
    } finally {
      tty.kill('SIGTERM');
      await exited(tty);
    }
  });

  it('shows the gate offline after a clean stop, and exits 0 at SIGTERM', async () => {
    await gate.app.stop();
    await waitUntil(() => lines().includes('north/g1 status offline session=1'), 'offline', LONG);
    watch.kill('SIGTERM');
    expect(await exited(watch)).toBe(0);
  });
});
