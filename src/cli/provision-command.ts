import { createInterface, type Interface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { describeError, RidergateError } from '../errors.js';
import { readBoundedFile } from '../files.js';
import {
  type Asker,
  answersFromFlags,
  answersFromTerminal,
  type FlagNames,
} from '../provision/answers.js';
import { lookupUser } from '../provision/checks/service-user.js';
import type { Answers } from '../provision/fields.js';
import { applyProvision, checkConfigDir, type ServiceOwner } from '../provision/provision.js';
import { runSelftestCommand } from './selftest-command.js';

/** The folder `ridergate provision` writes by default; the daemon reads config.yaml there. */
export const DEFAULT_CONFIG_DIR = '/etc/ridergate';

type ProvisionOptions = Partial<Answers> & {
  configDir: string;
  passwordFile?: string;
  serviceUser: string;
  selftest: boolean;
  yes?: boolean;
  scan: boolean;
  scanTimeout: string;
};

/** `ridergate provision`: asks on a terminal, takes flags otherwise; ends with the selftest. */
export function registerProvisionCommand(program: Command): void {
  program
    .command('provision')
    .description(
      'set up this gate: ids, broker and credentials, root key and first trust list, device profiles, device key; then run the selftest. Asks on a terminal; otherwise every answer comes from flags',
    )
    .option(
      '--config-dir <folder>',
      'where config.yaml and the key files are written',
      DEFAULT_CONFIG_DIR,
    )
    .option('--site <id>', 'site id (required)')
    .option('--gate <id>', 'gate id (required)')
    .option('--broker-url <url>', 'MQTT broker, e.g. mqtts://broker.example:8883 (required)')
    .option('--username <name>', 'broker user name')
    .option(
      '--password <text>',
      'broker password, needs --username (visible in the process list: prefer --password-file)',
    )
    .option('--password-file <file>', 'read the broker password from this file (needs --username)')
    .option('--ca-file <file>', 'CA certificate of the broker (PEM), copied in')
    .option('--cert-file <file>', 'client certificate (PEM, needs --key-file), copied in')
    .option(
      '--key-file <file>',
      'key of the client certificate (PEM, needs --cert-file), copied in as a secret: mode 0600, or 0640 with the service group when run as root',
    )
    .option(
      '--root-key <file>',
      'fleet root PUBLIC key (JWK, root.pub.json), copied to root.pub.json (required)',
    )
    .option('--trust <file>', 'first trust list, a JWS signed by the root key (required)')
    .option('--scanner-driver <driver>', 'serial, tcp or sim (default serial)')
    .option('--scanner-profile <name>', 'scanner profile (ridergate devices)')
    .option('--scanner-path <path>', 'scanner device (default: first /dev/serial/by-id link)')
    .option('--scanner-host <host>', 'network scanner host (tcp)')
    .option('--scanner-port <port>', 'network scanner port (tcp)')
    .option('--relay-driver <driver>', 'onoff or sim (default onoff)')
    .option('--relay-profile <name>', 'relay board profile (ridergate devices)')
    .option('--store-path <file>', 'event database (default /var/lib/ridergate/ridergate.db)')
    .option(
      '--service-user <name>',
      'the user the service runs as: run as root, provision gives the files to its group (secrets mode 0640, others nothing)',
      'ridergate',
    )
    .option('--no-selftest', 'do not run the selftest at the end')
    .option('-y, --yes', 'selftest: count the relay click as seen without asking')
    .option('--no-scan', 'selftest: do not wait for a QR code')
    .option('--scan-timeout <seconds>', 'selftest: how long to wait for a scan', '30')
    .action(async (opts: ProvisionOptions) => {
      process.exitCode = (await provision(opts)) ? 0 : 1;
    });
}

async function provision(opts: ProvisionOptions): Promise<boolean> {
  checkConfigDir(opts.configDir);
  const flags: Partial<Answers> = { ...opts };
  const flagNames: FlagNames = {};
  if (opts.passwordFile !== undefined) {
    if (opts.password !== undefined) {
      throw new RidergateError('usage', 'give --password or --password-file, not both');
    }
    flags.password = readPasswordFile(opts.passwordFile);
    flagNames.password = '--password-file';
  }
  const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const answers = interactive
    ? await askOnTerminal(flags, flagNames)
    : await answersFromFlags(flags, flagNames);
  const result = await applyProvision(answers, opts.configDir, serviceOwner(opts.serviceUser));
  for (const file of result.written) process.stdout.write(`wrote ${file}\n`);
  const key = result.deviceKey;
  process.stdout.write(
    `device key ${key.kid} ${key.kept ? '(kept from before)' : '(new)'}: ${key.publicFile}\n`,
  );
  if (!opts.selftest) {
    process.stdout.write(`next: ridergate selftest --config ${result.configFile}\n`);
    return true;
  }
  return runSelftestCommand({
    config: result.configFile,
    yes: opts.yes,
    scan: opts.scan,
    scanTimeout: opts.scanTimeout,
  });
}

/**
 * The ids of the service user when this runs as root and the user exists; otherwise the
 * files stay with whoever runs this, and the technician is told.
 */
function serviceOwner(name: string): ServiceOwner | undefined {
  const user = lookupUser(name, '/etc/passwd', '/etc/group');
  if (user === undefined) {
    process.stdout.write(
      `note: no user ${name} here (scripts/install.sh creates it); files stay owned by the current user\n`,
    );
    return undefined;
  }
  if (process.getuid?.() !== 0) return undefined;
  return { uid: user.uid, gid: user.gids[0] ?? user.uid };
}

function readPasswordFile(file: string): string {
  try {
    return readBoundedFile(file, { maxBytes: 4096, code: 'usage', what: 'password file' })
      .toString('utf8')
      .trim();
  } catch (err) {
    throw new RidergateError('usage', `--password-file: ${describeError(err)}`, { cause: err });
  }
}

async function askOnTerminal(
  flags: Partial<Answers>,
  flagNames: FlagNames,
): Promise<Partial<Answers>> {
  // Everything readline echoes goes through this stream, so a secret answer can be hidden.
  const screen = { muted: false };
  const output = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!screen.muted) process.stdout.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    process.stdout.write('Provisioning this gate. Press Enter to keep the value in [brackets].\n');
    return await answersFromTerminal(flags, readlineAsker(rl, screen), flagNames);
  } finally {
    rl.close();
  }
}

/** Questions through readline; a secret answer is typed with nothing shown. */
function readlineAsker(rl: Interface, screen: { muted: boolean }): Asker {
  return {
    question: async (prompt, secret) => {
      if (!secret) return rl.question(prompt);
      process.stdout.write(prompt);
      screen.muted = true;
      try {
        return await rl.question('');
      } finally {
        screen.muted = false;
        process.stdout.write('\n');
      }
    },
    say: (line) => process.stdout.write(`${line}\n`),
  };
}
