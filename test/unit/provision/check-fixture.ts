import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateConfig } from '../../../src/config/load.js';
import type { CheckEnv, CheckInput } from '../../../src/provision/check.js';

/** Ids of the fake system the checks see: a `ridergate` user, `dialout` and `gpio` groups. */
export const FAKE = { uid: 990, dialout: 20, gpio: 997, other: 4242 } as const;

/**
 * Writes fake /etc/passwd and /etc/group into `dir`: user `ridergate` (uid 990) in the given
 * supplementary groups. The files are what the checks read; the real ones are never touched.
 */
export function fakeSystem(dir: string, groups: ('dialout' | 'gpio')[] = []): CheckEnv {
  const passwdFile = join(dir, 'passwd');
  const groupFile = join(dir, 'group');
  writeFileSync(
    passwdFile,
    `root:x:0:0:root:/root:/bin/sh\nridergate:x:${FAKE.uid}:${FAKE.uid}::/var/lib/ridergate:/usr/sbin/nologin\n`,
  );
  const member = (g: 'dialout' | 'gpio') => (groups.includes(g) ? 'ridergate' : '');
  writeFileSync(
    groupFile,
    `root:x:0:\ndialout:x:${FAKE.dialout}:${member('dialout')}\ngpio:x:${FAKE.gpio}:${member('gpio')}\nridergate:x:${FAKE.uid}:\n`,
  );
  return {
    gpioRoot: join(dir, 'class', 'gpio'),
    passwdFile,
    groupFile,
    serviceUser: 'ridergate',
    timesyncFlag: join(dir, 'synchronized'),
    ntpSynchronized: () => undefined,
    nowMs: () => Date.UTC(2026, 5, 1),
  };
}

/** A valid configuration with sim devices, `over` merged section by section. */
export function checkInput(
  env: CheckEnv,
  over: Record<string, Record<string, unknown>> = {},
): CheckInput {
  const base: Record<string, Record<string, unknown>> = {
    gate: { site: 'north', id: 'g1' },
    scanner: {
      driver: 'sim',
      path: 'sim',
      maxLength: 1024,
      dedupeMs: 0,
      reconnectMinMs: 100,
      reconnectMaxMs: 1000,
    },
    relay: { driver: 'sim', pulseMs: 300 },
    store: { path: '/tmp/ridergate-none/gate.db', retentionDays: 90 },
    mqtt: { url: 'mqtt://127.0.0.1:1', prefix: 'ridergate/v1', telemetrySec: 60 },
    trust: { rootKeyFile: '/nonexistent/root.pub.json', file: '/nonexistent/trust.jws' },
    policy: { skewSec: 30, reopenGraceSec: 20 },
    log: { level: 'silent' },
  };
  for (const [section, values] of Object.entries(over))
    base[section] = { ...base[section], ...values };
  return { config: validateConfig(base, 'test'), configFile: 'test.yaml', env };
}
