import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPrivateKey, writeKeyPair } from '../../src/token/keys.js';
import { signTrustList } from '../../src/trust/signed-trust-list.js';

/** The built command line, dist/cli/main.js; `npm test` builds it first. */
export function cliPath(): string {
  const path = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli', 'main.js');
  if (!existsSync(path))
    throw new Error(`${path} is missing: run "npm run build" before the integration tests`);
  return path;
}

/** What a finished CLI run printed and how it exited. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI without a terminal (stdin closed) and without blocking the test's event loop,
 * so a broker or server the test runs in-process keeps answering.
 * @param options.env the child's whole environment when given (else the test's).
 */
export function runCli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath(), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      ...(options.env === undefined ? {} : { env: options.env }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A parsed pino line of the daemon's output. */
export type LogLine = { msg?: string; level?: number } & Record<string, unknown>;

/** Collects the JSON log lines a child writes to stdout, and its stderr as text. */
export function collectOutput(child: ChildProcess): { lines: LogLine[]; stderr: () => string } {
  const lines: LogLine[] = [];
  let pending = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const part of parts) {
      try {
        lines.push(JSON.parse(part) as LogLine);
      } catch {
        lines.push({ msg: part });
      }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  return { lines, stderr: () => stderr };
}

/** Resolves with the exit code once the child has exited. */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/**
 * An issuer key pair, a fleet root key pair and a trust list naming the issuer, signed by the
 * root key, written into `dir` as a gate is provisioned.
 */
export async function writeIssuerAndTrust(
  dir: string,
  iss = 'test-eats',
): Promise<{ privateFile: string; kid: string; trustFile: string; rootKeyFile: string }> {
  const issuer = writeKeyPair(dir, 'issuer', 'EdDSA');
  const root = writeKeyPair(dir, 'root', 'EdDSA');
  const jwk: unknown = JSON.parse(readFileSync(issuer.publicFile, 'utf8'));
  const doc = { version: 1, issuers: [{ iss, keys: [{ kid: issuer.kid, alg: 'EdDSA', jwk }] }] };
  const trustFile = join(dir, 'trust.jws');
  writeFileSync(trustFile, await signTrustList(doc, readPrivateKey(root.privateFile)));
  return {
    privateFile: issuer.privateFile,
    kid: issuer.kid,
    trustFile,
    rootKeyFile: root.publicFile,
  };
}
