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

/**
 * The answers from command-line flags alone (no terminal): defaults for what is not given,
 * every missing required flag and every bad value reported at once.
 * @throws RidergateError `usage` naming each missing flag and each bad value.
 */
export async function answersFromFlags(flags: Partial<Answers>): Promise<Partial<Answers>> {
  const answers: Partial<Answers> = {};
  const missing: string[] = [];
  const problems: string[] = [];
  for (const field of FIELDS) {
    if (!applies(field, answers)) continue;
    const value = (flags[field.key] ?? field.defaultValue?.(answers) ?? '').trim();
    if (value === '') {
      if (isRequired(field, answers)) missing.push(`${field.flag} (${field.prompt})`);
      continue;
    }
    const problem = await field.check(value, answers);
    if (problem !== undefined) problems.push(`${field.flag} ${shown(field, value)}: ${problem}`);
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
 */
export async function answersFromTerminal(
  flags: Partial<Answers>,
  asker: Asker,
): Promise<Partial<Answers>> {
  const answers: Partial<Answers> = {};
  for (const field of FIELDS) {
    if (!applies(field, answers)) continue;
    const fallback = (flags[field.key] ?? field.defaultValue?.(answers) ?? '').trim();
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
