import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestGate, provision, type TestGate } from '../helpers/gate-app.js';
import {
  freePort,
  type Mosquitto,
  mosquittoMissing,
  startMosquitto,
} from '../helpers/mosquitto.js';
import { chromiumMissing, openChromium, startOps } from '../helpers/ops-page.js';

const LONG = { timeout: 30_000 };

describe.skipIf(mosquittoMissing() !== undefined || chromiumMissing())(
  'ridergate ops: the fleet page in headless Chromium over MQTT-over-WebSocket',
  () => {
    let dir: string;
    let broker: Mosquitto;
    let ops: ChildProcess;
    let browser: BrowserContext;
    let page: Page;
    let gate: TestGate;
    let publisher: MqttClient;
    let pageErrors: string[];
    /** Errors in the page's console (a CSP violation, a 404) and requests answered >= 400. */
    let consoleErrors: string[];
    let pageUrl: string;
    const evilGate = 'g2<img src=x onerror=alert(1)>';

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ridergate-ops-web-'));
      const wsPort = await freePort();
      broker = await startMosquitto([`listener ${wsPort} 127.0.0.1`, 'protocol websockets']);
      const server = await startOps(['--broker-ws', `ws://127.0.0.1:${wsPort}`]);
      ops = server.child;
      pageUrl = server.url;
      ({ browser, page, pageErrors, consoleErrors } = await openChromium(dir));
      await page.goto(pageUrl);
      await page.waitForSelector('#link.link-connected', LONG);

      publisher = await mqtt.connectAsync(broker.url, { clientId: 'ops-web-test' });
      gate = makeTestGate(dir, await provision(dir), {
        brokerUrl: broker.url,
        over: { mqtt: { telemetrySec: 5 } },
      });
      await gate.app.start();
    });

    afterAll(async () => {
      await browser?.close();
      await gate?.app.stop();
      ops?.kill('SIGTERM');
      await publisher?.endAsync();
      await broker?.stop();
      // RIDERGATE_KEEP_TEST_DIR=1 keeps the folder (and its screenshot) to look at.
      if (process.env.RIDERGATE_KEEP_TEST_DIR === undefined)
        rmSync(dir, { recursive: true, force: true });
      else console.warn(`ops page test folder kept: ${dir}`);
    });

    it('lets the page in anonymously: no login form, only the offer to log in', async () => {
      expect(await page.textContent('#link')).toMatch(/^connected to ws:\/\/127\.0\.0\.1:\d+$/);
      expect(await page.isHidden('#login-panel')).toBe(true);
      expect(await page.textContent('#login-open:visible')).toBe('Log in');
      expect(await page.isHidden('#logout')).toBe(true);
    });

    it('shows the gate online, its events in the list and the hour counts in the chart', async () => {
      await page.waitForSelector('.tile[data-gate="north/g1"][data-state="online"]', LONG);
      expect(await page.textContent('.tile[data-gate="north/g1"] .state')).toBe(
        'online · session 1',
      );

      expect((await gate.scan(gate.token()))?.type).toBe('admit');
      expect((await gate.scan('RP1:not-a-token'))?.reason).toBe('malformed');
      await page.waitForSelector('#events tr[data-type="admit"]', LONG);
      await page.waitForSelector('#events tr[data-type="deny"]', LONG);
      const deny = await page.textContent('#events tr[data-type="deny"]');
      expect(deny).toContain('north/g1');
      expect(deny).toContain('malformed');

      const bars = '#chart g[data-gate="north/g1"]';
      await page.waitForSelector(`${bars} rect[data-series="admit"][data-count="1"]`, LONG);
      await page.waitForSelector(`${bars} rect[data-series="malformed"][data-count="1"]`, LONG);
      expect(await page.textContent(`${bars} text.count`)).toBe('1 / 1');
      expect(await page.textContent('.tile[data-gate="north/g1"] .last')).toMatch(
        /^deny malformed · \d+s ago$/,
      );

      const shot = join(dir, 'ops-page.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(1000);
      expect(pageErrors).toEqual([]);
      // mqtt.js runs its timers in a blob: worker; no favicon 404 either.
      expect(consoleErrors).toEqual([]);
    });

    it('filters the event list by type and by gate', async () => {
      await page.selectOption('#filter-type', 'deny');
      // The page's policy forbids eval, so no waitForFunction: poll from the test instead.
      await expect
        .poll(async () => (await page.$$('#events tbody tr')).length, { timeout: 20_000 })
        .toBe(1);
      const types = await page.$$eval('#events tbody tr', (rows) =>
        rows.map((r) => r.getAttribute('data-type')),
      );
      expect(types).toEqual(['deny']);
      await page.selectOption('#filter-type', '');
    });

    it('shows broker text as text: markup in a payload is never run or parsed', async () => {
      const evil = '<img src=x onerror="document.title=\'pwned\'">';
      const event = { id: 'evil-1', seq: 1, ts: Date.now(), clock: 'synced', type: 'alarm' };
      await publisher.publishAsync(
        `ridergate/v1/north/${evilGate}/events`,
        JSON.stringify({
          ...event,
          site: 'north',
          gate: evilGate,
          reason: 'forced_open',
          detail: evil,
        }),
        { qos: 1 },
      );
      await page.waitForSelector(`#events tr[data-gate="north/${evilGate}"]`, LONG);
      expect(
        await page.textContent(`#events tr[data-gate="north/${evilGate}"] td:nth-child(5)`),
      ).toBe(evil);
      expect(await page.$$('#events img, .tiles img')).toHaveLength(0);
      expect(await page.title()).toBe('ridergate ops');
      expect(await page.textContent(`.tile[data-gate="north/${evilGate}"] .alarms`)).toBe(
        'forced_open',
      );
    });

    it('shows the outbox depth from telemetry on the tile', async () => {
      await expect
        .poll(() => page.textContent('.tile[data-gate="north/g1"] .outbox'), { timeout: 30_000 })
        .toMatch(/^outbox 0 · v/);
    });

    it('serves only its own files, with a policy that allows no other origin', async () => {
      const home = await fetch(pageUrl);
      expect(home.status).toBe(200);
      const csp = home.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain('worker-src blob:');
      // The login form is handled by the page's script: a plain post could go nowhere.
      expect(csp).toContain("form-action 'none'");
      expect(csp).toMatch(/connect-src 'self' ws:\/\/127\.0\.0\.1:\d+/);
      expect((await fetch(new URL('vendor/mqtt.esm.js', pageUrl))).status).toBe(200);
      expect((await fetch(new URL('fleet/fleet-state.js', pageUrl))).status).toBe(200);
      expect((await fetch(new URL('%2e%2e/package.json', pageUrl))).status).toBe(404);
      expect((await fetch(new URL('fleet/../../package.json', pageUrl))).status).toBe(404);
      expect((await fetch(pageUrl, { method: 'POST' })).status).toBe(405);
      const html = await home.text();
      expect(html).not.toMatch(/https?:\/\//);
    });

    it('shows the gate offline after a clean stop', async () => {
      await gate.app.stop();
      await page.waitForSelector('.tile[data-gate="north/g1"][data-state="offline"]', LONG);
    });
  },
);
