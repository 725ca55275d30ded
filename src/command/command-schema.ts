import { type Static, Type as T } from '@sinclair/typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import { COMMAND_NAMES, type CommandName, JTI_PATTERN } from './command-types.js';

/** The payload of a signed command, as the wire carries it (times in seconds). */
export const CommandPayloadSchema = T.Object(
  {
    cmd: T.Unsafe<CommandName>({ type: 'string', enum: [...COMMAND_NAMES] }),
    site: T.String({ minLength: 1, maxLength: 64 }),
    gate: T.Optional(T.String({ minLength: 1, maxLength: 64 })),
    iat: T.Integer({ minimum: 0 }),
    exp: T.Integer({ minimum: 0 }),
    jti: T.String({ pattern: JTI_PATTERN }),
    args: T.Optional(T.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: false },
);
export type CommandPayload = Static<typeof CommandPayloadSchema>;

const Iss = T.String({ minLength: 1, maxLength: 256 });
const Sub = T.String({ minLength: 1, maxLength: 256 });
/** A token id as lowercase or uppercase hex; RP1 cti are 16 bytes, up to 64 are accepted. */
const CTI_PATTERN = '^([0-9a-fA-F]{2}){1,64}$';
const Cti = T.String({ pattern: CTI_PATTERN });
const Until = T.Integer({ minimum: 0 });
const SubEntry = T.Object(
  { iss: Iss, sub: Sub, until: T.Optional(Until) },
  { additionalProperties: false },
);
const CtiEntry = T.Object(
  { iss: Iss, cti: Cti, until: T.Optional(Until) },
  { additionalProperties: false },
);

/** `revoke` / `unrevoke` arguments, also one entry of a revocation list: sub or cti, never both. */
export const RevocationEntrySchema = T.Union([SubEntry, CtiEntry]);
export type RevocationEntryDoc = Static<typeof RevocationEntrySchema>;

/** Arguments of each command; a command left out takes none. */
const ARG_SCHEMAS = {
  open: T.Object(
    { reason: T.Optional(T.String({ maxLength: 256 })) },
    { additionalProperties: false },
  ),
  revoke: RevocationEntrySchema,
  unrevoke: RevocationEntrySchema,
  maintenance: T.Object({ on: T.Boolean() }, { additionalProperties: false }),
  reload: T.Object({}, { additionalProperties: false }),
  selftest: T.Object({}, { additionalProperties: false }),
} as const;

const ajv = new Ajv({ allErrors: false, strict: true });

/** Validator of the command payload. */
export const validatePayload = ajv.compile<CommandPayload>(CommandPayloadSchema);

/** Validators of each command's `args`. */
export const validateArgs: Record<CommandName, ValidateFunction> = {
  open: ajv.compile(ARG_SCHEMAS.open),
  revoke: ajv.compile(ARG_SCHEMAS.revoke),
  unrevoke: ajv.compile(ARG_SCHEMAS.unrevoke),
  maintenance: ajv.compile(ARG_SCHEMAS.maintenance),
  reload: ajv.compile(ARG_SCHEMAS.reload),
  selftest: ajv.compile(ARG_SCHEMAS.selftest),
};

const validateSubEntry = ajv.compile(SubEntry);
const validateCtiEntry = ajv.compile(CtiEntry);
const CTI = new RegExp(CTI_PATTERN);

/**
 * Why `revoke` / `unrevoke` arguments failed {@link RevocationEntrySchema}, as "field:
 * message": the union's own first error would always name its first branch (`sub`).
 */
export function revocationArgsError(raw: unknown): string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return '(top level): must be an object';
  const a = raw as Record<string, unknown>;
  if ('sub' in a && 'cti' in a) return '(top level): give one of sub and cti, not both';
  if (!('sub' in a) && !('cti' in a))
    return '(top level): must have sub (a rider) or cti (one token)';
  if ('cti' in a && (typeof a.cti !== 'string' || !CTI.test(a.cti)))
    return 'cti: must be hex in whole bytes (an even number of hex digits, 2 to 128)';
  const validate = 'cti' in a ? validateCtiEntry : validateSubEntry;
  validate(a);
  return firstError(validate.errors);
}

/** The first schema error of the last validation, as "field: message". */
export function firstError(
  errors: { instancePath: string; message?: string }[] | null | undefined,
): string {
  const e = errors?.[0];
  if (e === undefined) return 'invalid';
  return `${e.instancePath === '' ? '(top level)' : e.instancePath.slice(1)}: ${e.message ?? 'invalid'}`;
}
