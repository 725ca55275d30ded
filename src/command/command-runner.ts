import { describeError } from '../errors.js';
import type { MessageMeta } from '../link/subscriptions.js';
import type { Logger } from '../log.js';
import type { OperatorKey } from '../trust/operators.js';
import type { CommandIds } from './command-ids.js';
import type {
  CommandArgs,
  CommandRefusal,
  CommandResult,
  RevocationEntry,
  VerifiedCommand,
} from './command-types.js';
import { parseCommand } from './parse-command.js';

/** What each command does; the gate app provides them. Each resolves with a detail line. */
export interface CommandActions {
  /**
   * Journals `remote_open` (the operator's reason, a detail naming the command), then pulses;
   * rejects when the relay did not move.
   */
  open(reason: string | undefined, detail: string): Promise<string>;
  revoke(entry: RevocationEntry): Promise<string>;
  unrevoke(entry: RevocationEntry): Promise<string>;
  maintenance(on: boolean): Promise<string>;
  reload(): Promise<string>;
  /** Non-moving checks; resolves `{ ok: false }` when one fails. */
  selftest(): Promise<{ ok: boolean; detail: string }>;
}

export interface CommandRunnerOptions {
  site: string;
  gate: string;
  skewSec: number;
  operator: (kid: string) => OperatorKey | undefined;
  ids: Pick<CommandIds, 'take'>;
  actions: CommandActions;
  /**
   * Whether the broker holds `payload` retained on `topic` (MqttLink.heldRetained): asked
   * before a command that arrived without the retain flag is carried out, since MQTT 3.1.1
   * delivers a retained publication to connected subscribers without the flag. Rejects when
   * it cannot tell; the command is then not run.
   */
  heldRetained: (topic: string, payload: Buffer) => Promise<boolean>;
  /** Publishes a result on the gate's `cmd/result` topic. */
  publishResult: (result: CommandResult) => Promise<void>;
  nowMs: () => number;
  log: Logger;
  maxBytes?: number;
}

/**
 * Receives signed commands from the broker: checks it (signature, target, times), refuses a
 * retained one, takes its jti (never twice), asks the broker whether it holds the command
 * retained all the same (field case M2), carries it out and answers every command once on
 * `cmd/result`, refused ones too. Commands run one at a time in arrival order.
 */
export class CommandRunner {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly log: Logger;

  constructor(private readonly opts: CommandRunnerOptions) {
    this.log = opts.log.child({ component: 'command' });
  }

  /** Handles one message of a command topic. Never rejects. */
  handle(payload: Buffer, meta: MessageMeta): Promise<CommandResult | undefined> {
    const run = this.queue.then(() => this.run(payload, meta));
    this.queue = run.catch(() => undefined);
    return run.catch((err: unknown) => {
      this.log.error({ err }, 'command not handled');
      return undefined;
    });
  }

  /** A payload over the size limit: answered `too_large`, never read. */
  async tooLarge(bytes: number, topic: string): Promise<void> {
    await this.answer({ ok: false, id: null, error: 'too_large', detail: `${bytes} bytes` }, topic);
  }

  private async run(payload: Buffer, meta: MessageMeta): Promise<CommandResult | undefined> {
    // An empty message is how a retained message is cleared (MQTT 3.1.1 §3.3.1.3): no command.
    if (payload.length === 0) return undefined;
    const nowMs = this.opts.nowMs();
    const parsed = await parseCommand(payload, {
      site: this.opts.site,
      gate: this.opts.gate,
      operator: this.opts.operator,
      nowSec: Math.floor(nowMs / 1000),
      skewSec: this.opts.skewSec,
      maxBytes: this.opts.maxBytes,
    });
    if (!parsed.ok) return this.answer(parsed, meta.topic);
    const command = parsed.command;
    // A retained command would run again at every reconnect (field case M2): never run one,
    // and burn its jti so no later copy of it runs either.
    if (meta.retain) {
      await this.opts.ids
        .take(command.jti, command.expSec, Math.floor(nowMs / 1000))
        .catch(() => false);
      const detail = 'arrived with the retain flag; publish commands without retain, and clear it';
      return this.answer(refusal(command, 'retained', detail), meta.topic);
    }
    let fresh: boolean;
    try {
      fresh = await this.opts.ids.take(command.jti, command.expSec, Math.floor(nowMs / 1000));
    } catch (err) {
      return this.answer(
        refusal(command, 'failed', `jti not recorded: ${describeError(err)}`),
        meta.topic,
      );
    }
    if (!fresh)
      return this.answer(
        refusal(command, 'replayed_command', 'this jti was seen before'),
        meta.topic,
      );
    const held = await this.retainedRefusal(command, payload, meta.topic);
    if (held !== undefined) return this.answer(held, meta.topic);
    return this.execute(command, meta.topic);
  }

  /**
   * Asks the broker for a retained copy of a live command: a refusal when it holds one
   * (`retained`) or cannot tell (`failed`: never run unchecked), else undefined. The jti is
   * taken already, so a later copy never runs.
   */
  private async retainedRefusal(
    command: VerifiedCommand,
    payload: Buffer,
    topic: string,
  ): Promise<CommandRefusal | undefined> {
    try {
      if (!(await this.opts.heldRetained(topic, payload))) return undefined;
      const detail =
        'published with the retain flag (the broker holds it retained); clear it, and publish commands without retain';
      return refusal(command, 'retained', detail);
    } catch (err) {
      const detail = `not run: no answer whether the broker holds it retained (${describeError(err)}); sign and send it again`;
      return refusal(command, 'failed', detail);
    }
  }

  private async execute(command: VerifiedCommand, topic: string): Promise<CommandResult> {
    const cmd = command.args.cmd;
    this.log.info({ id: command.jti, cmd, kid: command.kid, topic }, 'command accepted');
    try {
      if (command.args.cmd === 'selftest') {
        const test = await this.opts.actions.selftest();
        if (!test.ok) return this.answer(refusal(command, 'failed', test.detail), topic);
        return this.answer({ ok: true, id: command.jti, cmd, detail: test.detail }, topic);
      }
      const detail = await this.act(command.args, command.jti);
      return this.answer({ ok: true, id: command.jti, cmd, detail }, topic);
    } catch (err) {
      return this.answer(refusal(command, 'failed', describeError(err)), topic);
    }
  }

  private act(args: CommandArgs, jti: string): Promise<string> {
    const a = this.opts.actions;
    switch (args.cmd) {
      case 'open':
        return a.open(args.reason, `command ${jti}`);
      case 'revoke':
        return a.revoke(args.entry);
      case 'unrevoke':
        return a.unrevoke(args.entry);
      case 'maintenance':
        return a.maintenance(args.on);
      default:
        return a.reload();
    }
  }

  private async answer(
    outcome: CommandRefusal | { ok: true; id: string; cmd: CommandResult['cmd']; detail: string },
    topic: string,
  ): Promise<CommandResult> {
    const result: CommandResult = { ...outcome, ts: this.opts.nowMs() };
    const level = result.ok ? 'info' : 'warn';
    this.log[level](
      { id: result.id, cmd: result.cmd, error: result.error, detail: result.detail, topic },
      result.ok ? 'command done' : 'command refused',
    );
    try {
      await this.opts.publishResult(result);
    } catch (err) {
      this.log.warn({ err, id: result.id }, 'command result not published');
    }
    return result;
  }
}

function refusal(
  command: VerifiedCommand,
  error: CommandRefusal['error'],
  detail: string,
): CommandRefusal {
  return { ok: false, id: command.jti, cmd: command.args.cmd, error, detail };
}
