// The flags of the fleet simulator (scripts/fleet-sim.mjs), checked before anything starts: a bad
// flag is one line naming the flag, the value and what was expected (exit 2), with no broker,
// worker or temporary folder left behind. Imports the built code: fleet-sim.mjs checks dist/.

import { checkUrlFlag } from '../dist/cli/ops-flags.js';
import { parsePrefix } from '../dist/cli/watch-command.js';
import { parseWholeFlag } from '../dist/cli/whole-number.js';
import { RidergateError } from '../dist/errors.js';

/** Gates one worker process runs when --workers is not given. */
export const GATES_PER_WORKER = 125;

const SCAN_RATE_MIN = 0.1;
const SCAN_RATE_MAX = 600;

export const USAGE = `usage: npm run fleet-sim -- [options]

N real gates (decision pipeline, SQLite journal and outbox, MQTT link; simulated scanner and
relay) in worker processes against one broker; reports what operations receive.

  --gates N           gates to simulate, 1 to 20000 (10)
  --workers W         worker processes, 1 to 500, at most one per gate (one per ${GATES_PER_WORKER} gates)
  --seconds S         seconds of scanning once every gate is online, 1 to 86400 (60)
  --scan-rate R       scans per gate per minute, a decimal number from ${SCAN_RATE_MIN} to ${SCAN_RATE_MAX},
                      e.g. 6 or 0.5 (6)
  --telemetry-sec S   seconds between a gate's telemetry messages, 5 to 3600 (60)
  --url URL           an external broker: mqtt, mqtts, tcp, tls, ws or wss URL (none: starts
                      mosquitto on a free port of 127.0.0.1; MOSQUITTO_BIN names the binary)
  --prefix P          topic prefix, without + # or a final / (ridergate/v1)
  --ws                the local mosquitto also listens for MQTT over WebSocket (for ridergate ops)
  --json              one JSON line instead of the table
  --short             5 gates, 5 s, 60 scans per gate per minute (CI)
  --help              this text

Exit codes: 0 done, 1 the run failed (broker unreachable, a worker failed), 2 bad flag,
130/143 interrupted (SIGINT/SIGTERM). Whatever the exit, the workers, the mosquitto it started
and its temporary folder are gone.
`;

/** Whole-number flags: option name, minimum, maximum, unit for the message. */
const WHOLE = {
  '--gates': ['gates', 1, 20_000, undefined],
  '--workers': ['workers', 1, 500, undefined],
  '--seconds': ['seconds', 1, 86_400, 'seconds'],
  '--telemetry-sec': ['telemetrySec', 5, 3600, 'seconds'],
};

/**
 * Parses the simulator's flags.
 * @returns the options, `{ help: true }` for --help.
 * @throws RidergateError `usage`: `--seconds "0": expected whole seconds from 1 to 86400`
 */
export function parseArgs(argv) {
  const opts = { gates: 10, seconds: 60, scanRate: 6, prefix: 'ridergate/v1', telemetrySec: 60 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      i += 1;
      if (i >= argv.length) throw new RidergateError('usage', `${arg}: expected a value`);
      return argv[i];
    };
    if (arg === '--help' || arg === '-h') return { help: true };
    if (arg === '--short') Object.assign(opts, { gates: 5, seconds: 5, scanRate: 60 });
    else if (arg === '--json') opts.json = true;
    else if (arg === '--ws') opts.ws = true;
    else if (arg === '--url') opts.url = checkedUrl(value());
    else if (arg === '--prefix') opts.prefix = parsePrefix(value());
    else if (arg === '--scan-rate') opts.scanRate = parseScanRate(value());
    else if (arg in WHOLE) {
      const [name, min, max, unit] = WHOLE[arg];
      opts[name] = parseWholeFlag(arg, value(), min, max, unit);
    } else throw new RidergateError('usage', `unknown option ${arg}`);
  }
  if (opts.ws && opts.url !== undefined)
    throw new RidergateError('usage', '--ws only applies to the local mosquitto, not with --url');
  opts.workers = Math.min(opts.gates, opts.workers ?? Math.ceil(opts.gates / GATES_PER_WORKER));
  return opts;
}

function checkedUrl(url) {
  checkUrlFlag(url);
  return url;
}

/** Scans per gate per minute: decimal digits with an optional fraction (0.5), never 0. */
function parseScanRate(value) {
  const n = /^\d{1,4}(\.\d{1,3})?$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= SCAN_RATE_MIN && n <= SCAN_RATE_MAX)) {
    throw new RidergateError(
      'usage',
      `--scan-rate ${JSON.stringify(value)}: expected scans per gate per minute, a decimal number from ${SCAN_RATE_MIN} to ${SCAN_RATE_MAX} (e.g. 6 or 0.5)`,
    );
  }
  return n;
}
