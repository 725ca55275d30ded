import { createRequire } from 'node:module';
import type { UnixDgramSocket } from 'unix-dgram';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';

/** The part of the environment systemd sets for a Type=notify service with WatchdogSec=. */
export interface NotifyEnv {
  NOTIFY_SOCKET?: string | undefined;
  WATCHDOG_USEC?: string | undefined;
  WATCHDOG_PID?: string | undefined;
}

/** Longest STATUS= text sent, characters; journald and `systemctl status` show one line. */
const MAX_STATUS_CHARS = 200;

/**
 * Sends sd_notify(3) messages (READY=1, STATUS=…, STOPPING=1, WATCHDOG=1) to the socket named
 * by NOTIFY_SOCKET, one datagram each, as systemd's own sd_notify() does. Sending never throws:
 * a failed send is logged once (warn) and the daemon carries on.
 *
 * NOTIFY_SOCKET is a path for the system manager (/run/systemd/notify). An abstract address
 * (`@name`) cannot be reached through `unix-dgram`: it copies the address with strncpy, which
 * stops at the leading NUL byte of an abstract name. Such an address is logged once and no
 * notification is sent (under Type=notify systemd would then time the start out, loudly).
 */
export class SystemdNotifier {
  private socket: UnixDgramSocket | undefined;
  private warned = false;

  private constructor(
    private readonly path: string,
    private readonly log: Logger,
  ) {}

  /**
   * The notifier for this process, or undefined when NOTIFY_SOCKET is unset (not started by
   * systemd as Type=notify, or from a terminal): then nothing is ever sent.
   */
  static fromEnv(env: NotifyEnv, log: Logger): SystemdNotifier | undefined {
    const path = env.NOTIFY_SOCKET;
    if (path === undefined || path === '') return undefined;
    const child = log.child({ component: 'systemd' });
    if (path.startsWith('@')) {
      child.warn(
        { notifySocket: path },
        'abstract NOTIFY_SOCKET not supported, systemd not notified',
      );
      return undefined;
    }
    return new SystemdNotifier(path, child);
  }

  /** The gate is up: systemd marks the unit started and arms the watchdog. */
  ready(status: string): void {
    this.send(`READY=1\nSTATUS=${clip(status)}`);
  }

  /** One line shown by `systemctl status ridergate`. */
  status(text: string): void {
    this.send(`STATUS=${clip(text)}`);
  }

  /** A clean stop has begun: systemd waits for the exit instead of taking it for a crash. */
  stopping(): void {
    this.send('STOPPING=1');
  }

  /** Keep-alive: the gate is healthy. Missing for WatchdogSec, and systemd restarts it. */
  watchdog(): void {
    this.send('WATCHDOG=1');
  }

  close(): void {
    const socket = this.socket;
    this.socket = undefined;
    try {
      socket?.close();
    } catch {
      // already closed: nothing left to release
    }
  }

  private send(message: string): void {
    try {
      this.socket ??= openSocket();
      const buf = Buffer.from(message, 'utf8');
      this.socket.send(buf, 0, buf.length, this.path, (err) => {
        if (err !== undefined) this.warnOnce(err);
      });
    } catch (err) {
      this.warnOnce(err);
    }
  }

  private warnOnce(err: unknown): void {
    if (this.warned) return;
    this.warned = true;
    this.log.warn({ notifySocket: this.path, detail: describeError(err) }, 'systemd notify failed');
  }
}

/**
 * The watchdog keep-alive interval, ms: half of WATCHDOG_USEC, as sd_watchdog_enabled(3)
 * advises. Undefined when the watchdog is off, or WATCHDOG_PID names another process (the
 * variable was inherited by a child of the service's main process).
 */
export function watchdogIntervalMs(env: NotifyEnv, pid = process.pid): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isSafeInteger(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== '' && Number(env.WATCHDOG_PID) !== pid)
    return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

function clip(text: string): string {
  const line = text.replace(/[\r\n]+/g, ' ');
  return line.length > MAX_STATUS_CHARS ? `${line.slice(0, MAX_STATUS_CHARS - 1)}…` : line;
}

/** Loaded on first use only: a daemon not run by systemd never touches the native addon. */
function openSocket(): UnixDgramSocket {
  const require = createRequire(import.meta.url);
  const unix = require('unix-dgram') as typeof import('unix-dgram');
  const socket = unix.createSocket('unix_dgram');
  // send() reports through its callback; an 'error' event without a listener would throw.
  socket.on('error', () => undefined);
  return socket;
}
