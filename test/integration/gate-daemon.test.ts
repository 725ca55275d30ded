import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { issueToken } from '../../src/token/issue.js';
import { generateKeyPair, readPrivateKey } from '../../src/token/keys.js';
import {
  cliPath,
  collectOutput,
  exited,
  type LogLine,
  writeIssuerAndTrust,
} from '../helpers/daemon.js';
import {
  gpioFile,
  mountNamespaceUnavailable,
  spawnWithFakeSysfs,
  watchLevel,
} from '../helpers/fake-sysfs.js';
import { type Mosquitto, mosquittoMissing, startMosquitto } from '../helpers/mosquitto.js';
import { PtyPair, socatAvailable, waitUntil } from '../helpers/pty.js';

// A Pi 4 on kernel 6.6 numbers the header's lines from 512: BCM 17 is sysfs GPIO 529.
const CHIP = { base: 512, label: 'pinctrl-bcm2711', ngpio: 58 };
const PIN = 17;
const LINE = CHIP.base + PIN;
const PULSE_MS = 300;
// Generous: the machines running CI are shared and noisy; this bounds "active, then back".
const PULSE_TOLERANCE_MS = 700;
const SITE = 'site-a';
const GATE = 'gate-1';

const skipReason =
  mountNamespaceUnavailable() ??
  mosquittoMissing() ??
  (socatAvailable() ? undefined : 'socat is not installed');
if (skipReason !== undefined) console.warn(`gate daemon integration test skipped: ${skipReason}`);

interface Running {
  child: ChildProcess;
  out: ReturnType<typeof collectOutput>;
}

describe.skipIf(skipReason !== undefined)(
  'ridergate run: pty scanner, sysfs relay, mosquitto',
  () => {
    let dir: string;
    let broker: Mosquitto;
    let ops: MqttClient;
    const received: { topic: string; payload: string; retain: boolean }[] = [];
    let issuer: Awaited<ReturnType<typeof writeIssuerAndTrust>>;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ridergate-daemon-'));
      broker = await startMosquitto();
      issuer = await writeIssuerAndTrust(dir);
      ops = await mqtt.connectAsync(broker.url, { clientId: 'ops-test' });
      ops.on('message', (topic, payload, packet) =>
        received.push({ topic, payload: payload.toString(), retain: packet.retain }),
      );
      await ops.subscribeAsync(`ridergate/v1/${SITE}/${GATE}/#`, { qos: 1 });
    });

    afterAll(async () => {
      await ops?.endAsync();
      await broker?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    async function startGate(
      name: string,
      activeLow: boolean,
      pulseMs = PULSE_MS,
    ): Promise<Running & { pty: PtyPair; line: string }> {
      const pty = new PtyPair(mkdtempSync(join(dir, `${name}-pty-`)));
      await pty.start();
      const configFile = join(dir, `${name}.yaml`);
      writeFileSync(
        configFile,
        stringify({
          gate: { site: SITE, id: GATE },
          scanner: {
            driver: 'serial',
            path: pty.a,
            baudRate: 9600,
            reconnectMinMs: 100,
            reconnectMaxMs: 1000,
          },
          relay: { driver: 'onoff', pin: PIN, activeLow, pulseMs },
          store: { path: join(dir, `${name}.db`) },
          mqtt: { url: broker.url },
          trust: { file: issuer.trustFile, rootKeyFile: issuer.rootKeyFile },
        }),
      );
      const child = spawnWithFakeSysfs(
        [process.execPath, cliPath(), 'run', '--config', configFile],
        {
          chips: [CHIP],
          lines: [LINE],
        },
      );
      const out = collectOutput(child);
      await waitUntil(
        () => out.lines.some((l) => l.msg === 'gate ready') || child.exitCode !== null,
        'gate ready',
        { timeoutMs: 15_000 },
      );
      if (child.exitCode !== null) throw new Error(`the gate exited early: ${out.stderr()}`);
      // biome-ignore lint/style/noNonNullAssertion: spawned processes have a pid
      return { child, out, pty, line: gpioFile(child.pid!, LINE, 'value') };
    }

    function token(
      claims: { sub: string; sites?: string[] },
      key = readPrivateKey(issuer.privateFile).key,
    ): string {
      const now = Math.floor(Date.now() / 1000);
      return issueToken({
        privateKey: key,
        kid: issuer.kid,
        alg: 'EdDSA',
        claims: { iss: 'test-eats', iat: now, exp: now + 120, sites: [SITE], ...claims },
      }).text;
    }

    function eventsOfType(type: string): Record<string, unknown>[] {
      return received
        .filter((m) => m.topic.endsWith('/events'))
        .map((m) => JSON.parse(m.payload) as Record<string, unknown>)
        .filter((e) => e.type === type);
    }

    async function stopGate(gate: Running & { pty: PtyPair }): Promise<number | null> {
      gate.child.kill('SIGTERM');
      const code = await exited(gate.child);
      await gate.pty.stop();
      return code;
    }

    it('opens the relay for a valid token, denies a forged one without moving it, and stops cleanly', async () => {
      const gate = await startGate('active-high', false);
      const levels = watchLevel(gate.line);
      try {
        // The line was set up as an output already at its inactive level, never driven active.
        expect(readFileSync(gpioFile(gate.child.pid ?? 0, LINE, 'direction'), 'utf8').trim()).toBe(
          'low',
        );
        expect(levels.changes.map((c) => c.level)).toEqual(['0']);

        const valid = token({ sub: 'rider-1' });
        const sent = performance.now();
        gate.pty.write(`${valid.slice(0, 10)}`);
        gate.pty.write(`${valid.slice(10)}\r\n`);
        await waitUntil(() => eventsOfType('admit').length === 1, 'admit event at the subscriber');
        await waitUntil(() => levels.changes.length >= 3, 'relay active and back', {
          timeoutMs: 5_000,
        });
        const [, on, off] = levels.changes;
        expect(on?.level).toBe('1');
        expect(off?.level).toBe('0');
        expect((on?.mono ?? 0) - sent).toBeLessThan(1_000);
        const activeMs = (off?.mono ?? 0) - (on?.mono ?? 0);
        expect(activeMs).toBeGreaterThanOrEqual(PULSE_MS - 20);
        expect(activeMs).toBeLessThan(PULSE_MS + PULSE_TOLERANCE_MS);
        expect(eventsOfType('admit')[0]).toMatchObject({
          site: SITE,
          gate: GATE,
          iss: 'test-eats',
          sub: 'rider-1',
        });

        const forger = generateKeyPair('EdDSA').privateKey;
        gate.pty.write(`${token({ sub: 'intruder' }, forger)}\r`);
        await waitUntil(() => eventsOfType('deny').length === 1, 'deny event at the subscriber');
        expect(eventsOfType('deny')[0]).toMatchObject({ reason: 'bad_signature' });
        expect(eventsOfType('deny')[0]?.sub).toBeUndefined();
        await new Promise((resolve) => setTimeout(resolve, PULSE_MS));
        expect(levels.changes).toHaveLength(3);
        const decided = gate.out.lines.filter((l: LogLine) => l.msg === 'scan decided');
        expect(decided.map((l) => l.decision)).toEqual(['admit', 'deny']);

        expect(await stopGate(gate)).toBe(0);
        const status = received.filter((m) => m.topic.endsWith('/status')).at(-1);
        expect(JSON.parse(status?.payload ?? '{}')).toMatchObject({ state: 'offline' });
      } finally {
        levels.stop();
        if (gate.child.exitCode === null) gate.child.kill('SIGKILL');
        await gate.pty.stop();
      }
    });

    it('holds an active-low relay high from start-up and pulses it low', async () => {
      const gate = await startGate('active-low', true);
      const levels = watchLevel(gate.line);
      try {
        expect(readFileSync(gpioFile(gate.child.pid ?? 0, LINE, 'direction'), 'utf8').trim()).toBe(
          'high',
        );
        await waitUntil(() => levels.changes.at(-1)?.level === '1', 'inactive (high) level');
        const before = eventsOfType('admit').length;
        gate.pty.write(`${token({ sub: 'rider-2' })}\r`);
        await waitUntil(() => eventsOfType('admit').length === before + 1, 'admit event');
        await waitUntil(() => levels.changes.length >= 3, 'relay low and back high');
        expect(levels.changes.slice(-2).map((c) => c.level)).toEqual(['0', '1']);
        expect(await stopGate(gate)).toBe(0);
      } finally {
        levels.stop();
        if (gate.child.exitCode === null) gate.child.kill('SIGKILL');
        await gate.pty.stop();
      }
    });

    it('on SIGTERM mid-pulse drives the relay inactive at once, keeps the event and says offline (L1)', async () => {
      const longPulseMs = 4_000;
      const gate = await startGate('sigterm', false, longPulseMs);
      const levels = watchLevel(gate.line);
      try {
        const before = eventsOfType('admit').length;
        gate.pty.write(`${token({ sub: 'rider-3' })}\r`);
        await waitUntil(() => levels.changes.at(-1)?.level === '1', 'relay active');
        const activeAt = levels.changes.at(-1)?.mono ?? 0;
        gate.child.kill('SIGTERM');
        await waitUntil(
          () => levels.changes.at(-1)?.level === '0' || gate.child.exitCode !== null,
          'relay inactive',
        );
        expect(levels.changes.at(-1)?.level).toBe('0');
        expect((levels.changes.at(-1)?.mono ?? 0) - activeAt).toBeLessThan(longPulseMs);
        expect(await exited(gate.child)).toBe(0);
        expect(eventsOfType('admit').filter((e) => e.sub === 'rider-3')).toHaveLength(1);
        expect(eventsOfType('admit').length).toBe(before + 1);
        const status = received.filter((m) => m.topic.endsWith('/status')).at(-1);
        expect(JSON.parse(status?.payload ?? '{}')).toMatchObject({ state: 'offline' });
      } finally {
        levels.stop();
        if (gate.child.exitCode === null) gate.child.kill('SIGKILL');
        await gate.pty.stop();
      }
    });
  },
);
