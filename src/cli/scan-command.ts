import type { Command } from 'commander';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../config/load.js';
import { RidergateError } from '../errors.js';
import { createLogger } from '../log.js';
import { previewScanText } from '../scanner/decode.js';
import { createScanner } from '../scanner/index.js';
import type { Scan, Scanner } from '../scanner/types.js';
import { verifyToken } from '../token/verify.js';
import { readTrustForTools } from '../trust/read-trust.js';
import { refuseWhileGateRuns } from './running-gate.js';
import { parseWholeFlag } from './whole-number.js';

export function registerScanCommand(program: Command): void {
  program
    .command('scan')
    .description(
      'read scans from the configured scanner and show what a gate would decide (no relay)',
    )
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG_PATH)
    .option('--count <n>', 'stop after this many scans', '1')
    .option('--timeout <seconds>', 'give up after this long', '60')
    .action(async (opts: { config: string; count: string; timeout: string }) => {
      const count = parseWholeFlag('--count', opts.count, 1, 1000);
      const timeoutSec = parseWholeFlag('--timeout', opts.timeout, 1, 3600, 'seconds');
      const { config } = loadConfig(opts.config);
      if (config.scanner.driver === 'sim')
        throw new RidergateError(
          'usage',
          `scan: ${opts.config} sets scanner.driver sim, which reads nothing; set serial (or tcp) to read a real scanner`,
        );
      refuseWhileGateRuns(
        opts.config,
        'read scans here; its decisions show in ridergate events and ridergate watch',
        'scanner',
      );
      const trust = await readTrustForTools(config.trust.file, config.trust.rootKeyFile);
      const scanner = createScanner(config.scanner, createLogger('warn', 2));
      const announce = () =>
        process.stdout.write(
          `waiting for ${count} scan(s) on ${config.scanner.path} (${config.scanner.driver})\n`,
        );
      const seen = await collect(
        scanner,
        { count, timeoutMs: timeoutSec * 1000, announce },
        (scan) => {
          const nowSec = Math.floor(Date.now() / 1000);
          const result = verifyToken(scan.text, {
            trust: trust.view,
            nowSec,
            site: config.gate.site,
            skewSec: config.policy.skewSec,
          });
          const verdict = result.ok
            ? `token valid (iss ${result.claims.iss}, cti ${result.claims.cti})`
            : `deny: ${result.reason} (${result.detail})`;
          process.stdout.write(
            `scan ${scan.text.length} chars "${previewScanText(scan.text)}": ${verdict}\n`,
          );
        },
      );
      if (seen < count) {
        process.stdout.write(
          `only ${seen} of ${count} scan(s) within ${timeoutSec} s: check the scanner's serial mode, baud rate and terminator\n`,
        );
        process.exitCode = 1;
      }
    });
}

/** Starts the scanner, announces once it has tried to open, and collects up to `count` scans. */
async function collect(
  scanner: Scanner,
  limits: { count: number; timeoutMs: number; announce: () => void },
  show: (scan: Scan) => void,
): Promise<number> {
  let seen = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  await scanner.start((scan) => {
    if (seen >= limits.count) return;
    show(scan);
    seen += 1;
    if (seen >= limits.count) done();
  });
  limits.announce();
  const timer = setTimeout(done, limits.timeoutMs);
  await finished;
  clearTimeout(timer);
  await scanner.stop();
  return seen;
}
