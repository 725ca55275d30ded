import { type Static, Type as T } from '@sinclair/typebox';
import { ConfigSchema } from '../config/schema.js';
import { LINE_SETTING_KEYS } from '../scanner/settings.js';

/** A profile's name: also its file name without `.yaml`, and what `scanner.profile` names. */
export const PROFILE_NAME_PATTERN = '^[a-z0-9][a-z0-9-]{0,63}$';

/** What every profile file starts with; checked first, so `kind` picks the rest's schema. */
export const ProfileHeaderSchema = T.Object({
  name: T.String({ pattern: PROFILE_NAME_PATTERN }),
  kind: T.Union([T.Literal('scanner'), T.Literal('relay')]),
  summary: T.String({ minLength: 1, maxLength: 120 }),
  notes: T.Optional(T.String({ maxLength: 4000 })),
});

/** A scanner family's line: every line setting of the configuration, all required. */
export const ScannerLineSchema = T.Required(
  T.Pick(ConfigSchema.properties.scanner, [...LINE_SETTING_KEYS]),
  { additionalProperties: false },
);

/** A scanner profile file. */
export const ScannerProfileSchema = T.Object(
  { ...ProfileHeaderSchema.properties, kind: T.Literal('scanner'), scanner: ScannerLineSchema },
  { additionalProperties: false },
);

/** A relay board: `relay.profile` takes its first pin and its active level (src/devices/relay-settings.ts). */
export const RelayBoardSchema = T.Object(
  {
    channels: T.Integer({ minimum: 1, maximum: 16 }),
    /** True when a channel closes on a low input level (`relay.activeLow: true`). */
    activeLow: T.Boolean(),
    /** Suggested BCM pins for IN1..INn, one per channel, all different. */
    pins: T.Array(T.Integer({ minimum: 0, maximum: 27 }), { minItems: 1, maxItems: 16 }),
    /** Coil supply voltage printed on the board, V. */
    supplyV: T.Optional(T.Number({ minimum: 3, maximum: 24 })),
  },
  { additionalProperties: false },
);

/** A relay board profile file. */
export const RelayProfileSchema = T.Object(
  { ...ProfileHeaderSchema.properties, kind: T.Literal('relay'), relay: RelayBoardSchema },
  { additionalProperties: false },
);

export type ScannerProfile = Static<typeof ScannerProfileSchema>;
export type RelayProfile = Static<typeof RelayProfileSchema>;
/** One validated file of devices/. */
export type DeviceProfile = ScannerProfile | RelayProfile;
