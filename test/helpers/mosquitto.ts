import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The mosquitto binary; `MOSQUITTO_BIN` overrides it. */
export const MOSQUITTO_BIN = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';

/** Why mosquitto tests are skipped, or undefined when mosquitto is installed. */
export function mosquittoMissing(): string | undefined {
  if (existsSync(MOSQUITTO_BIN)) return undefined;
  const reason = `mosquitto not found at ${MOSQUITTO_BIN} (apt install mosquitto): tests skipped`;
  console.warn(reason);
  return reason;
}

/** A real mosquitto on 127.0.0.1 at a free port. */
export interface Mosquitto {
  /** `mqtt://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Stops the broker (SIGTERM, SIGKILL after 5 s) and waits for it to exit. Idempotent. */
  stop(): Promise<void>;
  /** Stops the broker if running, starts it again on the same port, waits until it listens. */
  restart(): Promise<void>;
}

interface Running {
  child: ChildProcess;
  dir: string;
}

/**
 * Starts mosquitto with anonymous access and no persistence (retained messages are lost on
 * restart) and resolves once it accepts TCP connections.
 * @param extraConfig lines appended to mosquitto.conf, e.g. `['message_size_limit 1024']`;
 * kept across restarts.
 */
export async function startMosquitto(extraConfig: readonly string[] = []): Promise<Mosquitto> {
  const port = await freePort();
  let running: Running | undefined = await launch(port, extraConfig);

  const stop = async (): Promise<void> => {
    const current = running;
    running = undefined;
    if (current === undefined) return;
    await terminate(current.child);
    rmSync(current.dir, { recursive: true, force: true });
  };
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    stop,
    restart: async () => {
      await stop();
      running = await launch(port, extraConfig);
    },
  };
}

/** A TCP port that was free a moment ago: listen on port 0, read it, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function launch(port: number, extraConfig: readonly string[]): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'ridergate-mosquitto-'));
  const confPath = join(dir, 'mosquitto.conf');
  const conf = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    ...extraConfig,
  ];
  writeFileSync(confPath, `${conf.join('\n')}\n`);
  const child = spawn(MOSQUITTO_BIN, ['-c', confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (exited || Date.now() > deadline) {
      await terminate(child);
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`mosquitto did not listen on port ${port}: ${stderr.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return { child, dir };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killTimer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(killTimer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
