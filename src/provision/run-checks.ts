import { loadConfig } from '../config/load.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { CheckEnv, CheckInput, CheckResult } from './check.js';
import { checkBroker } from './checks/broker-check.js';
import { checkClock } from './checks/clock-check.js';
import { checkDisk } from './checks/disk-check.js';
import { checkFiles } from './checks/files-check.js';
import { checkGpio } from './checks/gpio-check.js';
import { type Confirm, checkRelayClick } from './checks/relay-check.js';
import { gateRunning, runningGateInfo, runningGateSkip } from './checks/running-check.js';
import { checkScanRead } from './checks/scan-check.js';
import { checkScannerDevice } from './checks/serial-check.js';
import { checkStore } from './checks/store-check.js';
import { checkTrust } from './checks/trust-check.js';

/**
 * Loads the configuration as the daemon would; a bad one is the first (and only) row,
 * since no other check can run without it.
 */
export function loadForChecks(
  configFile: string,
  env: CheckEnv,
  processEnv: NodeJS.ProcessEnv = process.env,
): { input?: CheckInput; row: CheckResult } {
  try {
    const { config, hash } = loadConfig(configFile, processEnv);
    return {
      input: { config, configFile, env },
      row: {
        check: 'configuration',
        status: 'ok',
        detail: `${configFile} is valid (hash ${hash})`,
      },
    };
  } catch (err) {
    // The loader lists every problem on a line of its own; the table keeps them so.
    return {
      row: {
        check: 'configuration',
        status: 'fail',
        detail: describeError(err),
        fix: 'correct each setting named above (config/example.yaml explains them all)',
      },
    };
  }
}

/**
 * `ridergate doctor`: every check that moves nothing. No relay pulse and no scan: the serial
 * device is only opened, the GPIO lines only mapped.
 */
export async function runDoctorChecks(input: CheckInput): Promise<CheckResult[]> {
  const running = gateRunning(input);
  return [
    ...(running === undefined ? [] : [runningGateInfo(input, running)]),
    checkFiles(input),
    await checkScannerDevice(input),
    checkGpio(input),
    checkClock(input),
    checkDisk(input),
    await checkStore(input),
    await checkTrust(input),
    await checkBroker(input),
  ];
}

/** What the selftest needs besides the configuration. */
export interface SelftestOptions {
  confirm: Confirm;
  scanTimeoutMs: number;
  /** Skips waiting for a scan (`--no-scan`). */
  skipScan: boolean;
  announce: (line: string) => void;
  log: Logger;
}

/**
 * `ridergate selftest`: clicks the relay and asks, waits for a scan and shows the verdict,
 * then the trust list and a broker round trip with the real credentials.
 */
export async function runSelftest(
  input: CheckInput,
  options: SelftestOptions,
): Promise<CheckResult[]> {
  // A running gate owns the relay and the scanner: a click would cut its pulse, a read fails.
  const running = gateRunning(input);
  if (running !== undefined) {
    const detail = runningGateSkip(running);
    options.announce(detail);
    return [
      { check: 'relay', status: 'skip', detail },
      { check: 'scanner read', status: 'skip', detail },
      await checkTrust(input),
      await checkBroker(input),
    ];
  }
  const results = [await checkRelayClick(input, options.confirm, options.log)];
  results.push(
    options.skipScan
      ? { check: 'scanner read', status: 'skip', detail: 'not asked for (--no-scan)' }
      : await checkScanRead(input, options.scanTimeoutMs, options.log, options.announce),
  );
  results.push(await checkTrust(input), await checkBroker(input));
  return results;
}
