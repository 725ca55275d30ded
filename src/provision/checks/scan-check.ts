import type { Logger } from '../../log.js';
import { previewScanText } from '../../scanner/decode.js';
import { createScanner } from '../../scanner/index.js';
import type { Scan, Scanner } from '../../scanner/types.js';
import { verifyToken } from '../../token/verify.js';
import { readTrustForTools } from '../../trust/read-trust.js';
import type { CheckInput, CheckResult } from '../check.js';
import { failed } from '../check.js';

const CHECK = 'scanner read';

/**
 * Waits up to `timeoutMs` for any QR code to be scanned and shows what was read with the
 * verdict a gate would give: valid for this site, or the reason. Any read passes (the point
 * is the scanner); the verdict is shown. A sim scanner is skipped.
 */
export async function checkScanRead(
  input: CheckInput,
  timeoutMs: number,
  log: Logger,
  announce: (line: string) => void,
  scanner?: Scanner,
): Promise<CheckResult> {
  const { config } = input;
  if (scanner === undefined && config.scanner.driver === 'sim')
    return { check: CHECK, status: 'skip', detail: 'scanner.driver is sim: nothing to scan' };
  let device: Scanner;
  try {
    device = scanner ?? createScanner(config.scanner, log);
  } catch (err) {
    return failed(CHECK, err, 'check the scanner settings (ridergate doctor)');
  }
  announce(`Scan any QR code within ${Math.round(timeoutMs / 1000)} s ...`);
  let scan: Scan | undefined;
  try {
    scan = await firstScan(device, timeoutMs);
  } catch (err) {
    return failed(CHECK, err, 'check scanner.path and the permissions (ridergate doctor)');
  }
  if (scan === undefined) {
    return {
      check: CHECK,
      status: 'fail',
      detail: `nothing read within ${Math.round(timeoutMs / 1000)} s on ${config.scanner.path}`,
      fix: "check the scanner's serial mode (USB CDC / UART, not keyboard), baud rate and terminator (scanner.profile)",
    };
  }
  return {
    check: CHECK,
    status: 'ok',
    detail: `read ${scan.text.length} chars "${previewScanText(scan.text)}": ${await verdict(input, scan.text)}`,
  };
}

async function firstScan(scanner: Scanner, timeoutMs: number): Promise<Scan | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<Scan | undefined>((resolve, reject) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
      scanner.start((scan) => resolve(scan)).catch(reject);
    });
  } finally {
    clearTimeout(timer);
    await scanner.stop().catch(() => undefined);
  }
}

async function verdict({ config, env }: CheckInput, text: string): Promise<string> {
  try {
    const trust = await readTrustForTools(config.trust.file, config.trust.rootKeyFile);
    const result = verifyToken(text, {
      trust: trust.view,
      nowSec: Math.floor(env.nowMs() / 1000),
      site: config.gate.site,
      skewSec: config.policy.skewSec,
    });
    return result.ok
      ? `token valid for site ${config.gate.site} (iss ${result.claims.iss}, cti ${result.claims.cti})`
      : `not admitted: ${result.reason} (${result.detail})`;
  } catch (err) {
    return `cannot verify (${(err as Error).message})`;
  }
}
