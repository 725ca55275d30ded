/** Outcome of one parsing step: a value, or a short, safe reason why not. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; detail: string };

/** A successful step. */
export function parsed<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

/** A failed step with a short detail that never contains the input. */
export function failed<T>(detail: string): Parsed<T> {
  return { ok: false, detail };
}
