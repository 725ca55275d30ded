// The local broker of the fleet simulator: mosquitto on a free loopback port with no connection
// limit, optionally with a WebSocket listener for `ridergate ops`, and process RSS from /proc.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';

const MOSQUITTO = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';

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

/** A local mosquitto with no connection limit (`max_connections -1`) on a free port. */
export async function startMosquitto(dir, ws, children) {
  if (!existsSync(MOSQUITTO))
    throw new Error(`${MOSQUITTO} not found (apt install mosquitto) and no --url given`);
  const port = await freePort();
  const wsPort = ws ? await freePort() : undefined;
  const wsListener = ws ? [`listener ${wsPort} 127.0.0.1`, 'protocol websockets'] : [];
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'max_connections -1',
      'max_queued_messages 10000',
      ...wsListener,
      '',
    ].join('\n'),
  );
  const child = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' });
  children.push(child);
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`mosquitto did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  const wsUrl = ws ? `ws://127.0.0.1:${wsPort}` : undefined;
  return { url: `mqtt://127.0.0.1:${port}`, wsUrl, child };
}

/** Resident memory of a process from /proc, bytes (0 where /proc is not there). */
export function rssOf(pid) {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'));
    return Number(line?.split(/\s+/)[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}
