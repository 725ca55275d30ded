/**
 * The rule for a site or gate id, shared by the configuration, provisioning, trust lists and
 * the operations tools: each id is one MQTT topic level, so it holds no `/`, `+`, `#` or space,
 * and it never starts with `_` (the reserved `_site` and `_fleet` levels).
 */
export const ID_PATTERN = '^[a-z0-9][a-z0-9_-]{0,63}$';

/** {@link ID_PATTERN} in words, for messages. */
export const ID_RULE = "1-64 of a-z, 0-9, '_' and '-', starting with a letter or digit";

const ID = new RegExp(ID_PATTERN);

/** True when `value` is a valid site or gate id. */
export function isId(value: string): boolean {
  return ID.test(value);
}
