import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** True when socat can be run; tests that need a pty pair skip themselves otherwise. */
export function socatAvailable(): boolean {
  const probe = spawnSync('socat', ['-V'], { stdio: 'ignore' });
  return probe.error === undefined && probe.status === 0;
}

/**
 * Polls `condition` every `intervalMs` until it is true, or fails after `timeoutMs` with
 * `what` in the message. For waiting on real devices and processes instead of fixed sleeps.
 */
export async function waitUntil(
  condition: () => boolean,
  what: string,
  { timeoutMs = 5_000, intervalMs = 20 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Two pseudo-terminals joined by socat, reached through the links `a` and `b` in a directory:
 * bytes written to one end are read from the other, as through a null-modem cable.
 */
export class PtyPair {
  /** The link of the end the code under test opens. */
  readonly a: string;
  /** The link of the end the test writes to. */
  readonly b: string;
  private socat: ChildProcess | undefined;
  private writerFd: number | undefined;
  private stderr = '';

  /** Names the links in `dir`; nothing is started before {@link PtyPair.start}. */
  constructor(dir: string) {
    this.a = join(dir, 'a');
    this.b = join(dir, 'b');
  }

  /** Starts socat and waits until both links exist. Also used to bring the pair back. */
  async start(timeoutMs = 5_000): Promise<void> {
    if (this.socat !== undefined) throw new Error('pty pair already running');
    // A link left by a killed socat would point at a dead or reused pty.
    rmSync(this.a, { force: true });
    rmSync(this.b, { force: true });
    const link = (path: string) => `pty,raw,echo=0,link=${path}`;
    const child = spawn('socat', ['-d', '-d', link(this.a), link(this.b)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
    });
    this.socat = child;
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    await waitUntil(() => exited || (existsSync(this.a) && existsSync(this.b)), 'socat links', {
      timeoutMs,
    });
    if (exited) throw new Error(`socat exited early: ${this.stderr}`);
  }

  /**
   * Writes bytes to end `b`, keeping it open between writes: socat ends when the last
   * holder of one of its ptys closes it.
   */
  write(bytes: Buffer | string): void {
    if (this.writerFd === undefined) this.writerFd = openSync(this.b, 'w');
    writeSync(this.writerFd, typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** Kills socat (the "cable" is pulled) and waits for it to exit. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.writerFd !== undefined) {
      closeSync(this.writerFd);
      this.writerFd = undefined;
    }
    const child = this.socat;
    this.socat = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  }
}
