import { type Static, Type as T } from '@sinclair/typebox';

const Id = T.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' });

/** Configuration schema. Units are in the names; defaults live in config/default.yaml. */
export const ConfigSchema = T.Object(
  {
    gate: T.Object(
      {
        site: Id,
        id: Id,
        name: T.Optional(T.String({ maxLength: 200 })),
      },
      { additionalProperties: false },
    ),
    scanner: T.Object(
      {
        driver: T.Union([T.Literal('serial'), T.Literal('sim')]),
        path: T.String({ minLength: 1, maxLength: 4096 }),
        baudRate: T.Integer({ minimum: 1200, maximum: 4_000_000 }),
        terminator: T.Union([
          T.Literal('auto'),
          T.Literal('cr'),
          T.Literal('lf'),
          T.Literal('crlf'),
        ]),
        maxLength: T.Integer({ minimum: 16, maximum: 8192 }),
        dedupeMs: T.Integer({ minimum: 0, maximum: 60_000 }),
        reconnectMinMs: T.Integer({ minimum: 50, maximum: 60_000 }),
        reconnectMaxMs: T.Integer({ minimum: 100, maximum: 600_000 }),
      },
      { additionalProperties: false },
    ),
    relay: T.Object(
      {
        driver: T.Union([T.Literal('onoff'), T.Literal('sim')]),
        pin: T.Integer({ minimum: 0, maximum: 63 }),
        activeLow: T.Boolean(),
        pulseMs: T.Integer({ minimum: 50, maximum: 5_000 }),
      },
      { additionalProperties: false },
    ),
    store: T.Object(
      {
        path: T.String({ minLength: 1 }),
        retentionDays: T.Integer({ minimum: 1, maximum: 3650 }),
      },
      { additionalProperties: false },
    ),
    mqtt: T.Object(
      {
        url: T.String({ pattern: '^(mqtts?|tcp|tls|wss?)://' }),
        clientId: T.Optional(T.String({ minLength: 1, maxLength: 128 })),
        username: T.Optional(T.String({ maxLength: 256 })),
        passwordFile: T.Optional(T.String({ minLength: 1 })),
        prefix: T.String({ pattern: '^[^#+]+$', maxLength: 128 }),
        telemetrySec: T.Integer({ minimum: 5, maximum: 3600 }),
        caFile: T.Optional(T.String({ minLength: 1 })),
        certFile: T.Optional(T.String({ minLength: 1 })),
        keyFile: T.Optional(T.String({ minLength: 1 })),
      },
      { additionalProperties: false },
    ),
    trust: T.Object(
      {
        rootKeyFile: T.String({ minLength: 1 }),
        file: T.String({ minLength: 1 }),
      },
      { additionalProperties: false },
    ),
    policy: T.Object(
      {
        skewSec: T.Integer({ minimum: 0, maximum: 3600 }),
        reopenGraceSec: T.Integer({ minimum: 0, maximum: 600 }),
      },
      { additionalProperties: false },
    ),
    log: T.Object(
      {
        level: T.Union(
          ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => T.Literal(l)),
        ),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
