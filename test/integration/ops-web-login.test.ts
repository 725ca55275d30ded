import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath } from '../helpers/daemon.js';
import { makeTestGate, provision, type TestGate } from '../helpers/gate-app.js';
import {
  freePort,
  type Mosquitto,
  mosquittoMissing,
  startMosquitto,
  writePasswordFile,
} from '../helpers/mosquitto.js';
import { chromiumMissing, type OpsServer, openChromium, startOps } from '../helpers/ops-page.js';

const LONG = { timeout: 30_000 };
const PASSWORD = 'hunter2-ops';

/** Runs the CLI to its end. */
function ridergate(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath(), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.once('exit', (code) => resolve({ code, out }));
  });
}

describe('ridergate ops: the broker password is never the server’s', () => {
  it('takes --username to pre-fill, and refuses --password-file saying why', async () => {
    const help = await ridergate(['ops', '--help']);
    expect(help.out).toContain('--username <name>');
    expect(help.out).not.toContain('--password-file');
    const refused = await ridergate([
      ...['ops', '--port', '0', '--broker-ws', 'ws://127.0.0.1:9001'],
      ...['--password-file', '/nonexistent'],
    ]);
    expect(refused.code).toBe(2);
    expect(refused.out).toContain(
      '--password-file: ops holds no broker password: the page asks for it in the browser',
    );
    const badName = await ridergate([
      ...['ops', '--port', '0', '--broker-ws', 'ws://127.0.0.1:9001'],
      ...['--username', 'ops\nroot'],
    ]);
    expect(badName.code).toBe(2);
    expect(badName.out).toContain('--username: expected 1 to 256 printable characters');
  });
});

describe.skipIf(mosquittoMissing() !== undefined || chromiumMissing())(
  'ridergate ops: logging in to a broker that refuses anonymous clients, in headless Chromium',
  () => {
    let dir: string;
    let broker: Mosquitto;
    let wsUrl: string;
    let ops: OpsServer;
    let browser: BrowserContext;
    let page: Page;
    let pageErrors: string[];
    let gate: TestGate | undefined;
    /** Every request the page made to the ops server: method, URL and body. */
    const toOps: string[] = [];

    const message = () => page.textContent('#login-message');
    const link = () => page.textContent('#link');
    const logIn = async (password: string, remember = false) => {
      await page.fill('#login-password', password);
      if (remember) await page.check('#login-remember');
      await page.click('#login button[type="submit"]');
    };

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ridergate-ops-login-'));
      const passwords = await writePasswordFile(dir, { ops: PASSWORD });
      const wsPort = await freePort();
      wsUrl = `ws://127.0.0.1:${wsPort}`;
      // Gates on the first listener, anonymous; the page's WebSocket listener wants a password.
      broker = await startMosquitto(
        [
          ...[`listener ${wsPort} 127.0.0.1`, 'protocol websockets'],
          ...['allow_anonymous false', `password_file ${passwords}`],
        ],
        { perListenerSettings: true },
      );
      ops = await startOps(['--broker-ws', wsUrl, '--username', 'ops']);
      ({ browser, page, pageErrors } = await openChromium(dir));
      page.on('request', (req) => {
        if (req.url().startsWith(ops.url))
          toOps.push(`${req.method()} ${req.url()} ${req.postData() ?? ''}`);
      });
      await page.goto(ops.url);
    });

    afterAll(async () => {
      await browser?.close();
      await gate?.app.stop();
      ops?.child.kill('SIGTERM');
      await broker?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('asks for a user name and password when the broker refuses the anonymous page', async () => {
      await page.waitForSelector('#login-panel:visible', LONG);
      expect(await message()).toBe(
        `The broker at ${wsUrl} refused an anonymous connection (not authorised): log in with a broker user name and password.`,
      );
      expect(await link()).toBe('the broker needs a user name and password');
      expect(await page.inputValue('#login-username')).toBe('ops');
      expect(await page.inputValue('#login-password')).toBe('');
      // The address is on this machine: no warning about an unencrypted password.
      expect(await page.isHidden('#login-plain')).toBe(true);
    });

    it('says plainly that a wrong password was refused, and asks again', async () => {
      await logIn('not-the-password');
      await expect
        .poll(message, LONG)
        .toBe(
          'Wrong user name or password, or user “ops” may not connect: the broker refused the login (not authorised).',
        );
      expect(await link()).toBe('the broker refused user ops');
      expect(await page.inputValue('#login-password')).toBe('');
      expect(await page.isVisible('#login-panel')).toBe(true);
    });

    it('says the broker cannot be reached, not that the password is wrong, while it is down', async () => {
      await broker.stop();
      await logIn(PASSWORD, true);
      await expect
        .poll(message, LONG)
        .toBe(
          `Cannot reach the broker at ${wsUrl}: no answer to the connection. The user name and password have not been checked yet. Retrying every 2 s…`,
        );
      expect(await link()).toBe(`cannot reach the broker at ${wsUrl}; retrying…`);

      await broker.restart();
      await expect.poll(link, LONG).toBe(`connected to ${wsUrl} as ops`);
      expect(await page.isHidden('#login-panel')).toBe(true);
      expect(await page.textContent('#account-user')).toBe('user ops');
      expect(await page.isVisible('#logout')).toBe(true);
    });

    it('shows the gates once logged in', async () => {
      gate = makeTestGate(dir, await provision(dir), { brokerUrl: broker.url });
      await gate.app.start();
      await page.waitForSelector('.tile[data-gate="north/g1"][data-state="online"]', LONG);
      expect((await gate.scan(gate.token()))?.type).toBe('admit');
      await page.waitForSelector('#events tr[data-type="admit"]', LONG);
      expect(await page.textContent('#events tr[data-type="admit"]')).toContain('north/g1');
    });

    it('stays logged in across a reload when "remember for this tab" was ticked', async () => {
      await page.reload();
      await expect.poll(link, LONG).toBe(`connected to ${wsUrl} as ops`);
      expect(await page.isHidden('#login-panel')).toBe(true);
      await page.waitForSelector('.tile[data-gate="north/g1"][data-state="online"]', LONG);
    });

    it('logs out: the fleet is gone and the password forgotten', async () => {
      await page.click('#logout');
      await expect.poll(message, LONG).toBe('You are logged out. Log in again to watch the fleet.');
      expect(await link()).toBe('logged out');
      expect(await page.$$('#tiles .tile')).toHaveLength(0);
      expect(await page.inputValue('#login-password')).toBe('');
      // Nothing remembered: a reload is an anonymous page again, and refused.
      await page.reload();
      await expect.poll(link, LONG).toBe('the broker needs a user name and password');
      expect(await page.isVisible('#login-panel')).toBe(true);
    });

    it('never sent the password to the ops server, which never printed it', async () => {
      expect(toOps.length).toBeGreaterThan(0);
      expect(toOps.filter((r) => !r.startsWith('GET '))).toEqual([]);
      expect(toOps.join('\n')).not.toContain(PASSWORD);
      expect(ops.output()).not.toContain(PASSWORD);
      const config = await (await fetch(new URL('config.json', ops.url))).json();
      expect(config).toEqual({
        brokerWs: wsUrl,
        prefix: 'ridergate/v1',
        maxGates: 2000,
        username: 'ops',
      });
      expect(pageErrors).toEqual([]);
    });
  },
);
