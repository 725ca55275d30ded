import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** A pseudo-terminal pair made by socat: the gate opens `gatePath`, the demo writes `feedPath`. */
export interface PtyPair {
  gatePath: string;
  feedPath: string;
  close(): void;
}

/** True when socat is on the PATH. */
export function hasSocat(): boolean {
  return spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
}

/** Starts `socat` linking two raw pseudo-terminals under `dir`; resolves once both exist. */
export async function openPtyPair(dir: string, timeoutMs = 5000): Promise<PtyPair> {
  const gatePath = join(dir, 'scanner-tty');
  const feedPath = join(dir, 'feed-tty');
  const child: ChildProcess = spawn(
    'socat',
    [`pty,raw,echo=0,link=${gatePath}`, `pty,raw,echo=0,link=${feedPath}`],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + timeoutMs;
  while (!(existsSync(gatePath) && existsSync(feedPath))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill();
      throw new Error('socat did not create the pseudo-terminal pair');
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { gatePath, feedPath, close: () => child.kill() };
}
