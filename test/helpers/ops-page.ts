import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { cliPath } from './daemon.js';
import { waitUntil } from './pty.js';

/** Debian's chromium; `CHROMIUM_BIN` overrides it. CI installs it. */
export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

/** True (with the reason printed) when chromium is not installed. */
export function chromiumMissing(): boolean {
  if (existsSync(CHROMIUM)) return false;
  console.warn(`chromium not found at ${CHROMIUM} (apt install chromium): ops page test skipped`);
  return true;
}

/** A running `ridergate ops`. */
export interface OpsServer {
  child: ChildProcess;
  /** The page's URL, as `ops` printed it. */
  url: string;
  /** Everything `ops` wrote to stdout and stderr so far. */
  output(): string;
}

/** Starts `ridergate ops --port 0 …args` and resolves once it prints the page's URL. */
export async function startOps(args: readonly string[]): Promise<OpsServer> {
  const child = spawn(process.execPath, [cliPath(), 'ops', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const collect = (chunk: Buffer) => {
    out += chunk.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  await waitUntil(() => /ops page on http:\/\/\S+/.test(out), 'ops page listening', {
    timeoutMs: 20_000,
  });
  return { child, url: /ops page on (http:\/\/\S+)/.exec(out)?.[1] ?? '', output: () => out };
}

/** Headless chromium with one page, and what went wrong in it. */
export interface OpsBrowser {
  browser: BrowserContext;
  page: Page;
  /** Uncaught exceptions in the page. */
  pageErrors: string[];
  /** Errors in the page's console (a CSP violation, a 404) and requests answered >= 400. */
  consoleErrors: string[];
}

/** Launches chromium with a fresh profile in `dir` (playwright passes it as --user-data-dir). */
export async function openChromium(dir: string): Promise<OpsBrowser> {
  const browser = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
    executablePath: CHROMIUM,
    viewport: { width: 1200, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('response', (res) => {
    if (res.status() >= 400) consoleErrors.push(`${res.status()} ${res.url()}`);
  });
  return { browser, page, pageErrors, consoleErrors };
}
