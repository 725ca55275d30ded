import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, collectOutput, exited } from '../helpers/daemon.js';
import { mountNamespaceUnavailable, spawnWithFakeSysfs } from '../helpers/fake-sysfs.js';

// A Pi 4 on kernel 6.6 numbers the header's lines from 512: BCM 17 is sysfs GPIO 529.
const CHIP = { base: 512, label: 'pinctrl-bcm2711', ngpio: 58 };
const LINE = CHIP.base + 17;
const noNamespace = mountNamespaceUnavailable();

/**
 * `relay off` is the service's stop hook (ExecStopPost): after a watchdog SIGKILL mid-pulse it
 * alone returns the relay to inactive, so a mistake elsewhere in the file must not stop it;
 * when the line itself cannot be told, it says the relay was NOT driven.
 */
describe('ridergate relay off with a damaged configuration', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-relay-off-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function configFile(name: string, text: string): string {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  }

  function relayOff(config: string) {
    const run = spawnSync(process.execPath, [cliPath(), 'relay', 'off', '--config', config], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    return { code: run.status, stdout: run.stdout, stderr: run.stderr };
  }

  it.skipIf(noNamespace !== undefined)(
    'drives an active relay inactive despite an unknown relay key and a broken section',
    async () => {
      const config = configFile(
        'typo.yaml',
        'mqtt: { bogus: 1 }\nrelay:\n  driver: onoff\n  pin: 17\n  pulsems: 3\n',
      );
      // The line as a SIGKILL mid-pulse leaves it: an output, driven active (high).
      const g = `/sys/class/gpio/gpio${LINE}`;
      const child = spawnWithFakeSysfs(
        [
          'sh',
          '-c',
          `"$0" "$1" relay off --config "$2"; echo "exit=$? value=$(cat ${g}/value)"`,
          process.execPath,
          cliPath(),
          config,
        ],
        { chips: [CHIP], lines: [LINE] },
        { setup: [`echo out > ${g}/direction`, `echo 1 > ${g}/value`] },
      );
      const out = collectOutput(child);
      expect(await exited(child)).toBe(0);
      const stdout = out.lines.map((l) => l.msg).join('\n');
      expect(stdout).toContain('relay on BCM pin 17 is inactive');
      expect(stdout).toContain('exit=0 value=0');
      expect(out.stderr()).toBe(
        'ridergate: warning: relay off ignores relay.pulsems: unknown setting (got 3) (it reads only relay.driver, relay.profile, relay.pin, relay.activeLow)\n',
      );
    },
  );

  it('warns about an unknown relay key and still runs (sim driver)', () => {
    const off = relayOff(configFile('sim.yaml', 'relay: { driver: sim, pulsems: 3 }\n'));
    expect(off.code).toBe(0);
    expect(off.stdout).toBe('relay driver is sim: nothing to drive\n');
    expect(off.stderr).toContain('ridergate: warning: relay off ignores relay.pulsems');
  });

  it('exits 78 saying the relay was NOT driven when the file is not YAML', () => {
    const config = configFile('syntax.yaml', 'relay: { driver: onoff, pin: 17\n');
    const off = relayOff(config);
    expect(off.code).toBe(78);
    expect(off.stdout).toBe('');
    expect(off.stderr).toMatch(
      new RegExp(
        `^ridergate: the relay was NOT driven: cannot tell which pin to drive: ${config.replaceAll('.', '\\.')}: not valid YAML`,
      ),
    );
  });

  it('exits 78 saying the relay was NOT driven when the pin is invalid', () => {
    const config = configFile('pin.yaml', 'relay: { driver: onoff, pin: 99 }\n');
    const off = relayOff(config);
    expect(off.code).toBe(78);
    expect(off.stdout).toBe('');
    expect(off.stderr).toBe(
      `ridergate: the relay was NOT driven: ${config}: cannot tell which pin to drive: relay.pin: got 99; must be <= 63\n`,
    );
  });
});
