import { RidergateError } from '../errors.js';
import { type Answers, FIELDS, type Field } from './fields.js';

/** Asks one question on a terminal; `secret` answers are not echoed. */
export interface Asker {
  question(prompt: string, secret: boolean): Promise<string>;
  /** Shows one line (an error with an answer, a note). */
  say(line: string): void;
}

function isRequired(field: Field, a: Partial<Answers>): boolean {
  return typeof field.required === 'function' ? field.required(a) : field.required;
}

function applies(field: Field, a: Partial<Answers>): boolean {
  return field.applies === undefined || field.applies(a);
}

/** The flag an answer came from, where it is not the field's own (`--password-file`). */
export type FlagNames = Partial<Record<keyof Answers, string>>;

/** Whether the flag of a field was given, with some text. */
function given(flags: Partial<Answers>, field: Field): boolean {
  return (flags[field.key] ?? '').trim() !== '';
}

/** Why a given flag is not used: `--password needs --username`. */
function needsText(field: Field, flag: string): string {
  return `${flag} needs ${field.needs ?? 'other answers first'}`;
}

/**
 * The answers from command-line flags alone (no terminal): defaults for what is not given,
 * every missing required flag, every flag given without what it needs (a password without a
 * user name) and every bad value reported at once.
 * @param flagNames the flag to name for an answer that came from another flag than the field's.
 * @throws RidergateError `usage` naming each missing flag and each bad value.
 */
export async function answersFromFlags(
  flags: Partial<Answers>,
  flagNames: FlagNames = {},
): Promise<Partial<Answers>> {
  const answers: Partial<Answers> = {};
  const missing: string[] = [];
  const problems: string[] = [];
  for (const field of FIELDS) {
    const flag = flagNames[field.key] ?? field.flag;
    if (!applies(field, answers)) {
      // A flag that would be dropped without a word is refused instead.
      if (given(flags, field)) problems.push(needsText(field, flag));
      continue;
    }
    const value = (flags[field.key] ?? field.defaultValue?.(answers) ?? '').trim();
    if (value === '') {
      if (isRequired(field, answers)) missing.push(`${flag} (${field.prompt})`);
      continue;
    }
    const problem = await field.check(value, answers);
    if (problem !== undefined) problems.push(`${flag} ${shown(field, value)}: ${problem}`);
    else answers[field.key] = value;
  }
  const lines = [...missing.map((m) => `missing ${m}`), ...problems];
  if (lines.length > 0) {
    throw new RidergateError('usage', `provision: ${lines.join('; ')}`, {
      context: { missing, problems },
    });
  }
  return answers;
}

/**
 * The answers asked one by one on a terminal: each shows its default (a flag given on the
 * command line, else the usual value), is checked at once and asked again until it is fine.
 * A flag whose question does not apply (a password without a user name) is said to be unused.
 */
export async function answersFromTerminal(
  flags: Partial<Answers>,
  asker: Asker,
  flagNames: FlagNames = {},
): Promise<Partial<Answers>> {
  const answers: Partial<Answers> = {};
  for (const field of FIELDS) {
    if (!applies(field, answers)) {
      const flag = flagNames[field.key] ?? field.flag;
      if (given(flags, field)) asker.say(`  ${needsText(field, flag)}: not used`);
      continue;
    }
    const fallback = (flags[field.key] ?? field.defaultValue?.(answers) ?? '').trim();
    const choices = field.choices?.() ?? [];
    if (choices.length > 0) asker.say(choices.map((c) => `  ${c}`).join('\n'));
    for (;;) {
      const hint = fallback === '' ? '' : ` [${field.secret ? '(given)' : fallback}]`;
      const typed = (
        await asker.question(`${field.prompt}${hint}: `, field.secret === true)
      ).trim();
      const value = typed === '' ? fallback : typed;
      if (value === '') {
        if (!isRequired(field, answers)) break;
        asker.say('  an answer is needed here');
        continue;
      }
      const problem = await field.check(value, answers);
      if (problem === undefined) {
        answers[field.key] = value;
        break;
      }
      asker.say(`  ${problem}`);
    }
  }
  return answers;
}

function shown(field: Field, value: string): string {
  return field.secret ? '(hidden)' : JSON.stringify(value);
}
