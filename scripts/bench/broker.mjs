// A real mosquitto on 127.0.0.1 at a free port, as test/helpers/mosquitto.ts starts one.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The mosquitto binary; MOSQUITTO_BIN overrides it. */
export const MOSQUITTO_BIN = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';

/** Why no broker can be started here, or undefined when mosquitto is installed. */
export function mosquittoMissing() {
  return existsSync(MOSQUITTO_BIN)
    ? undefined
    : `mosquitto not found at ${MOSQUITTO_BIN} (apt install mosquitto)`;
}

/**
 * Starts mosquitto (anonymous, no persistence) and resolves once it accepts connections.
 * @param opts.config extra mosquitto.conf lines (default: `max_queued_messages 0`)
 * @param opts.ws also listen for MQTT over WebSocket on another free port
 * @param opts.onSpawn called with `{ child, dir }` as soon as mosquitto is spawned, before it
 *   listens, so a caller stopped meanwhile (a signal) can still end it and remove its folder
 * @returns `{ url, wsUrl, port, pid, child, dir, stop() }`
 */
export async function startMosquitto({
  config = ['max_queued_messages 0'],
  ws = false,
  onSpawn,
} = {}) {
  const port = await freePort();
  const wsPort = ws ? await freePort() : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'ridergate-bench-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  const lines = [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false'];
  if (wsPort !== undefined) lines.push(`listener ${wsPort} 127.0.0.1`, 'protocol websockets');
  writeFileSync(conf, `${[...lines, ...config].join('\n')}\n`);
  const child = spawn(MOSQUITTO_BIN, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  onSpawn?.({ child, dir });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk.toString();
  });
  // A binary that cannot be run (ENOENT, EACCES) is an 'error' event; unheard, it would crash.
  child.once('error', (err) => {
    stderr += err.message;
  });
  const stop = () =>
    new Promise((resolve) => {
      const done = () => {
        rmSync(dir, { recursive: true, force: true });
        resolve();
      };
      if (child.exitCode !== null || child.signalCode !== null) return done();
      const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.once('exit', () => {
        clearTimeout(kill);
        done();
      });
      child.kill('SIGTERM');
    });
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(`mosquitto did not listen on port ${port}: ${stderr.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const wsUrl = wsPort === undefined ? undefined : `ws://127.0.0.1:${wsPort}`;
  return { url: `mqtt://127.0.0.1:${port}`, wsUrl, port, pid: child.pid, child, dir, stop };
}

/** A TCP port that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function accepts(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
