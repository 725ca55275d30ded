import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { issueToken } from '../../src/token/issue.js';
import { readPrivateKey } from '../../src/token/keys.js';
import { cliPath, collectOutput, exited, writeIssuerAndTrust } from '../helpers/daemon.js';
import {
  gpioFile,
  mountNamespaceUnavailable,
  spawnWithFakeSysfs,
  watchLevel,
} from '../helpers/fake-sysfs.js';
import { type Mosquitto, mosquittoMissing, startMosquitto } from '../helpers/mosquitto.js';
import { PtyPair, socatAvailable, waitUntil } from '../helpers/pty.js';

// A Pi 4 on kernel 6.6: the header's lines are numbered from 512.
const CHIP = { base: 512, label: 'pinctrl-bcm2711', ngpio: 58 };
const RELAY_PIN = 17;
const SENSOR_PIN = 22;
const BUTTON_PIN = 23;
const HELD_OPEN_SEC = 2;
const GRACE_MS = 1_500;
const SITE = 'site-i';
const GATE = 'gate-1';

const skipReason =
  mountNamespaceUnavailable() ??
  mosquittoMissing() ??
  (socatAvailable() ? undefined : 'socat is not installed');
if (skipReason !== undefined) console.warn(`inputs integration test skipped: ${skipReason}`);

/** Blocks this process for `ms`: toggles a line faster than any timer here could. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy wait
  }
}

describe.skipIf(skipReason !== undefined)(
  'ridergate run: barrier sensor and exit button on the fake sysfs tree',
  () => {
    let dir: string;
    let broker: Mosquitto;
    let ops: MqttClient;
    let pty: PtyPair;
    let child: ChildProcess;
    let out: ReturnType<typeof collectOutput>;
    let issuer: Awaited<ReturnType<typeof writeIssuerAndTrust>>;
    let relayLevels: ReturnType<typeof watchLevel>;
    const events: Record<string, unknown>[] = [];

    const line = (pin: number) => gpioFile(child.pid ?? 0, CHIP.base + pin, 'value');
    const setLevel = (pin: number, level: 0 | 1) => writeFileSync(line(pin), `${level}\n`);
    const ofType = (type: string, reason?: string) =>
      events.filter((e) => e.type === type && (reason === undefined || e.reason === reason));
    const logged = (msg: string) => out.lines.filter((l) => l.msg === msg);
    /** Relay pulses seen so far: each is a rise to 1 (the relay is active high here). */
    const pulses = () => relayLevels.changes.filter((c) => c.level === '1').length;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ridergate-inputs-'));
      broker = await startMosquitto();
      issuer = await writeIssuerAndTrust(dir);
      ops = await mqtt.connectAsync(broker.url, { clientId: 'ops-inputs' });
      ops.on('message', (topic, payload) => {
        if (topic.endsWith('/events')) events.push(JSON.parse(payload.toString()));
      });
      await ops.subscribeAsync(`ridergate/v1/${SITE}/${GATE}/events`, { qos: 1 });
      pty = new PtyPair(mkdtempSync(join(dir, 'pty-')));
      await pty.start();
      const configFile = join(dir, 'config.yaml');
      writeFileSync(
        configFile,
        stringify({
          gate: { site: SITE, id: GATE },
          scanner: { driver: 'serial', path: pty.a, reconnectMinMs: 100, reconnectMaxMs: 1000 },
          relay: { driver: 'onoff', profile: 'relay-1ch-active-high', pulseMs: 200 },
          inputs: {
            debounceMs: 30,
            pollMs: 5,
            sensor: {
              pin: SENSOR_PIN,
              openWhen: 'high',
              heldOpenSec: HELD_OPEN_SEC,
              forcedOpenGraceMs: GRACE_MS,
            },
            button: { pin: BUTTON_PIN, pressedWhen: 'high' },
          },
          store: { path: join(dir, 'gate.db') },
          mqtt: { url: broker.url },
          trust: { file: issuer.trustFile, rootKeyFile: issuer.rootKeyFile },
        }),
      );
      child = spawnWithFakeSysfs([process.execPath, cliPath(), 'run', '--config', configFile], {
        chips: [CHIP],
        lines: [RELAY_PIN, SENSOR_PIN, BUTTON_PIN].map((p) => CHIP.base + p),
      });
      out = collectOutput(child);
      await waitUntil(
        () => logged('gate ready').length > 0 || child.exitCode !== null,
        'gate ready',
        { timeoutMs: 15_000 },
      );
      if (child.exitCode !== null) throw new Error(`the gate exited early: ${out.stderr()}`);
      relayLevels = watchLevel(line(RELAY_PIN));
      await waitUntil(() => ofType('boot').length === 1, 'boot event at the subscriber');
    }, 30_000);

    afterAll(async () => {
      relayLevels?.stop();
      if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
      await pty?.stop();
      await ops?.endAsync();
      await broker?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('sets the inputs up and takes their first readings as no event (G4)', () => {
      expect(logged('barrier sensor ready')[0]).toMatchObject({ open: false });
      expect(logged('exit button ready')[0]).toMatchObject({ pressed: false });
      expect(ofType('alarm')).toEqual([]);
      expect(ofType('manual_open')).toEqual([]);
      expect(pulses()).toBe(0);
    });

    it('raises one forced_open alarm when the barrier opens with no relay pulse', async () => {
      setLevel(SENSOR_PIN, 1);
      await waitUntil(() => ofType('alarm', 'forced_open').length === 1, 'forced_open alarm');
      setLevel(SENSOR_PIN, 0);
      await waitUntil(() => logged('barrier closed').length === 1, 'barrier closed');
      expect(ofType('alarm', 'forced_open')[0]).toMatchObject({ site: SITE, gate: GATE });
      expect(ofType('alarm')).toHaveLength(1);
      expect(pulses()).toBe(0);
    });

    it('opens the barrier for the exit button: a manual_open event, then a relay pulse', async () => {
      setLevel(BUTTON_PIN, 1);
      await waitUntil(() => ofType('manual_open').length === 1, 'manual_open event');
      await waitUntil(
        () => pulses() === 1 && relayLevels.changes.at(-1)?.level === '0',
        'relay pulse',
        { timeoutMs: 5_000 },
      );
      setLevel(BUTTON_PIN, 0); // a release is no event
      expect(ofType('manual_open')[0]).toMatchObject({ site: SITE, gate: GATE });
      expect(pulses()).toBe(1);
    });

    it('takes an opening after an admit as expected, and raises held_open once when it stays open', async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = issueToken({
        privateKey: readPrivateKey(issuer.privateFile).key,
        kid: issuer.kid,
        alg: 'EdDSA',
        claims: { iss: 'test-eats', sub: 'rider-1', iat: now, exp: now + 120, sites: [SITE] },
      }).text;
      pty.write(`${token}\r\n`);
      await waitUntil(() => ofType('admit').length === 1, 'admit event');
      setLevel(SENSOR_PIN, 1);
      await waitUntil(() => logged('barrier opened').length === 2, 'barrier opened');
      expect(logged('barrier opened')[1]).toMatchObject({ expected: true });
      await waitUntil(() => ofType('alarm', 'held_open').length === 1, 'held_open alarm', {
        timeoutMs: HELD_OPEN_SEC * 1000 + 5_000,
      });
      // Once per opening: another heldOpenSec open brings no second alarm.
      await new Promise((resolve) => setTimeout(resolve, HELD_OPEN_SEC * 1000 + 500));
      setLevel(SENSOR_PIN, 0);
      await waitUntil(() => logged('barrier closed').length === 2, 'barrier closed');
      expect(ofType('alarm', 'held_open')).toHaveLength(1);
      expect(ofType('alarm', 'forced_open')).toHaveLength(1); // only the one before
    }, 20_000);

    it('takes a line bouncing 5 times in 20 ms as one change (G4)', async () => {
      const file = line(BUTTON_PIN);
      for (const level of [1, 0, 1, 0, 1]) {
        writeFileSync(file, `${level}\n`);
        spin(4);
      }
      await waitUntil(() => ofType('manual_open').length === 2, 'manual_open event');
      for (const level of [0, 1, 0, 1, 0]) {
        writeFileSync(file, `${level}\n`);
        spin(4);
      }
      await waitUntil(() => relayLevels.changes.at(-1)?.level === '0' && pulses() === 3, 'pulse');
      // Long enough for any further debounced change to have been reported.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(ofType('manual_open')).toHaveLength(2);
      expect(pulses()).toBe(3); // manual, admit, manual
      expect(logged('manual open')).toHaveLength(2);
    });

    it('stops cleanly', async () => {
      child.kill('SIGTERM');
      expect(await exited(child)).toBe(0);
    });
  },
);
