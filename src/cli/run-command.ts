import type { Command } from 'commander';
import { GateApp } from '../app.js';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../config/load.js';
import { describeError, isRidergateError } from '../errors.js';
import { SystemdHealth } from '../health/systemd-health.js';
import { createLogger } from '../log.js';
import { takeRunLock } from './run-lock.js';

/** How long a clean stop may take before the process exits anyway, ms. */
const STOP_TIMEOUT_MS = 10_000;

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run the gate daemon (as the systemd service does)')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG_PATH)
    .action(async (opts: { config: string }) => {
      await runDaemon(opts.config);
    });
}

/**
 * Starts the gate and keeps it running until SIGTERM or SIGINT. The relay is driven inactive
 * on every exit path: a clean stop, a fatal error, and the process 'exit' event.
 */
async function runDaemon(configPath: string): Promise<void> {
  const { config, hash } = loadConfig(configPath);
  const log = createLogger(config.log.level, 1, config.log.format ?? 'auto');
  // Before the relay is touched: a second gate on this store exits 1 and leaves it alone.
  const lock = await takeRunLock(config.store.path, log);
  if (lock === undefined) {
    process.exitCode = 1;
    return;
  }
  const app = new GateApp(config, hash, log);
  // Type=notify under systemd: READY=1, STOPPING=1 and a health-gated watchdog; else nothing.
  const health = SystemdHealth.fromEnv(
    process.env,
    { scanner: app.scanner, probeStore: () => app.store.getSetting('watchdog_probe') },
    log,
  );

  process.on('exit', () => {
    app.relay.off();
    lock.release();
  });
  const fatal = (err: unknown) => {
    app.relay.off();
    log.fatal({ err }, 'gate stopped by an unexpected error');
    log.flush();
    process.exit(1);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'gate stopping');
    health.stopping();
    const timer = setTimeout(() => process.exit(1), STOP_TIMEOUT_MS);
    timer.unref();
    void app.stop().then(() => {
      lock.release();
      health.close();
      log.info('gate stopped');
      log.flush();
      process.exitCode = 0;
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  try {
    await app.start();
    health.ready(`gate ready: site ${config.gate.site}, gate ${config.gate.id}`);
  } catch (err) {
    const configError =
      isRidergateError(err, 'config_invalid') || isRidergateError(err, 'config_unreadable');
    // A configuration error is the technician's to fix: its message says all, a stack nothing.
    log.error(
      configError ? { code: 'config_invalid', error: describeError(err) } : { err },
      'gate could not start',
    );
    process.stderr.write(`ridergate: the gate could not start: ${describeError(err)}\n`);
    health.status(`could not start: ${describeError(err)}`);
    health.close();
    await app.stop();
    lock.release();
    log.flush();
    process.exitCode = configError ? 78 : 1;
  }
}
