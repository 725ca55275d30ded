import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

/** How the broker as a whole is set up, beyond the lines appended to its configuration. */
export interface MosquittoOptions {
  /**
   * `per_listener_settings true`: `allow_anonymous`, `password_file` and ACLs in
   * `extraConfig` then apply to the listener they follow, and the first listener (the one
   * `url` names) stays anonymous. mosquitto refuses the setting after any other security line.
   */
  perListenerSettings?: boolean;
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
export async function startMosquitto(
  extraConfig: readonly string[] = [],
  options: MosquittoOptions = {},
): Promise<Mosquitto> {
  const port = await freePort();
  const first = options.perListenerSettings ? ['per_listener_settings true'] : [];
  const config = { first, extra: extraConfig };
  let running: Running | undefined = await launch(port, config);

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
      running = await launch(port, config);
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

/**
 * Writes a mosquitto password file for `users` (name → password) with `mosquitto_passwd`, in
 * `dir/broker/`; its path. mosquitto started as root reads it after dropping to its own user,
 * so `dir` and the file are opened to others (they hold only salted hashes).
 */
export async function writePasswordFile(
  dir: string,
  users: Readonly<Record<string, string>>,
): Promise<string> {
  const brokerDir = join(dir, 'broker');
  mkdirSync(brokerDir, { mode: 0o755, recursive: true });
  chmodSync(dir, 0o755);
  const path = join(brokerDir, 'mosquitto.passwd');
  writeFileSync(path, '');
  for (const [user, password] of Object.entries(users)) {
    const run = spawn('mosquitto_passwd', ['-b', path, user, password], { stdio: 'ignore' });
    const code = await new Promise<number | null>((resolve, reject) => {
      run.once('error', reject);
      run.once('exit', resolve);
    });
    if (code !== 0) throw new Error(`mosquitto_passwd ${user} exited with ${code}`);
  }
  chmodSync(path, 0o644);
  return path;
}

async function launch(
  port: number,
  config: { first: readonly string[]; extra: readonly string[] },
): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'ridergate-mosquitto-'));
  const confPath = join(dir, 'mosquitto.conf');
  const conf = [
    ...config.first,
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    ...config.extra,
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
