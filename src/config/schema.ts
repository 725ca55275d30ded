import { type Static, Type as T } from '@sinclair/typebox';
import { ID_PATTERN } from './ids.js';

const Id = T.String({ pattern: ID_PATTERN });

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
        driver: T.Union([T.Literal('serial'), T.Literal('sim'), T.Literal('tcp')]),
        /** A scanner profile in devices/ (`ridergate devices`); the fields below override it. */
        profile: T.Optional(T.String({ pattern: '^[a-z0-9][a-z0-9-]{0,63}$' })),
        path: T.String({ minLength: 1, maxLength: 4096 }),
        /** driver `tcp`: the network scanner or serial-to-network bridge to connect to. */
        host: T.Optional(T.String({ minLength: 1, maxLength: 253 })),
        port: T.Optional(T.Integer({ minimum: 1, maximum: 65_535 })),
        // Line settings: from the profile (or src/devices/scanner-settings.ts) unless set here.
        baudRate: T.Optional(T.Integer({ minimum: 1200, maximum: 4_000_000 })),
        dataBits: T.Optional(T.Integer({ minimum: 5, maximum: 8 })),
        parity: T.Optional(
          T.Union([
            T.Literal('none'),
            T.Literal('even'),
            T.Literal('odd'),
            T.Literal('mark'),
            T.Literal('space'),
          ]),
        ),
        stopBits: T.Optional(T.Union([T.Literal(1), T.Literal(1.5), T.Literal(2)])),
        terminator: T.Optional(
          T.Union([T.Literal('auto'), T.Literal('cr'), T.Literal('lf'), T.Literal('crlf')]),
        ),
        framing: T.Optional(T.Union([T.Literal('none'), T.Literal('stx-etx')])),
        stripPrefix: T.Optional(T.String({ maxLength: 16 })),
        stripSuffix: T.Optional(T.String({ maxLength: 16 })),
        stripBom: T.Optional(T.Boolean()),
        stripControl: T.Optional(T.Boolean()),
        maxLength: T.Integer({ minimum: 16, maximum: 8192 }),
        dedupeMs: T.Integer({ minimum: 0, maximum: 60_000 }),
        /** An unfinished line with no byte for this long is dropped (power-up noise); 0: never. */
        staleLineMs: T.Optional(T.Integer({ minimum: 0, maximum: 60_000 })),
        reconnectMinMs: T.Integer({ minimum: 50, maximum: 60_000 }),
        reconnectMaxMs: T.Integer({ minimum: 100, maximum: 600_000 }),
      },
      { additionalProperties: false },
    ),
    relay: T.Object(
      {
        driver: T.Union([T.Literal('onoff'), T.Literal('sim')]),
        /** A relay board profile in devices/ giving pin and active level; the fields below override it. */
        profile: T.Optional(T.String({ pattern: '^[a-z0-9][a-z0-9-]{0,63}$' })),
        /** BCM pin; from the profile, else 17 (src/devices/relay-settings.ts), unless set. */
        pin: T.Optional(T.Integer({ minimum: 0, maximum: 63 })),
        /** From the profile, else false, unless set. */
        activeLow: T.Optional(T.Boolean()),
        pulseMs: T.Integer({ minimum: 50, maximum: 5_000 }),
      },
      { additionalProperties: false },
    ),
    /**
     * Optional inputs: a barrier-position sensor and an exit push-button. An input left out is
     * not fitted. Defaults of the per-input fields live in src/gpio/input-settings.ts.
     */
    inputs: T.Optional(
      T.Object(
        {
          driver: T.Optional(T.Union([T.Literal('onoff'), T.Literal('sim')])),
          /** A level must stay this long to count as a change, ms. */
          debounceMs: T.Integer({ minimum: 0, maximum: 5_000 }),
          /** How often the lines are read, ms. */
          pollMs: T.Integer({ minimum: 5, maximum: 1_000 }),
          sensor: T.Optional(
            T.Object(
              {
                pin: T.Integer({ minimum: 0, maximum: 63 }),
                /** The level the sensor shows while the barrier is open; default `high`. */
                openWhen: T.Optional(T.Union([T.Literal('high'), T.Literal('low')])),
                /** Open longer than this raises one `held_open` alarm per opening; default 60. */
                heldOpenSec: T.Optional(T.Integer({ minimum: 1, maximum: 86_400 })),
                /** An opening this long after a relay pulse is expected; default 3000. */
                forcedOpenGraceMs: T.Optional(T.Integer({ minimum: 0, maximum: 600_000 })),
                debounceMs: T.Optional(T.Integer({ minimum: 0, maximum: 5_000 })),
              },
              { additionalProperties: false },
            ),
          ),
          button: T.Optional(
            T.Object(
              {
                pin: T.Integer({ minimum: 0, maximum: 63 }),
                /** The level while the button is pressed; default `low` (a button to ground). */
                pressedWhen: T.Optional(T.Union([T.Literal('high'), T.Literal('low')])),
                debounceMs: T.Optional(T.Integer({ minimum: 0, maximum: 5_000 })),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
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
        /** Telemetry period, seconds (1 is for tests; 60 on a gate). */
        telemetrySec: T.Integer({ minimum: 1, maximum: 3600 }),
        /**
         * Time without a connection after which the MQTT client is torn down and built again,
         * seconds; default 120.
         */
        rebuildAfterSec: T.Optional(T.Integer({ minimum: 1, maximum: 86_400 })),
        /** Most outbox events published per second while a backlog drains; default 200. */
        drainPerSec: T.Optional(T.Integer({ minimum: 1, maximum: 10_000 })),
        /**
         * Largest event payload published, bytes; a larger event is set aside as refused with
         * an `event_undeliverable` alarm, and delivered after a start with a limit it fits.
         * Keep it at or below the broker's limit; default 16384.
         */
        maxEventBytes: T.Optional(T.Integer({ minimum: 1024, maximum: 268_435_455 })),
        caFile: T.Optional(T.String({ minLength: 1 })),
        certFile: T.Optional(T.String({ minLength: 1 })),
        keyFile: T.Optional(T.String({ minLength: 1 })),
        /** true turns broker certificate verification OFF (logged as an error at every start). */
        tlsInsecure: T.Optional(T.Boolean()),
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
    /** The fleet revocation list; defaults in src/command/fleet-ops.ts. */
    revocations: T.Optional(
      T.Object(
        {
          /** No snapshot or delta for this long raises `revocations_stale`, seconds; 0: never. */
          staleAfterSec: T.Optional(T.Integer({ minimum: 0, maximum: 31_536_000 })),
          /** Largest snapshot or delta accepted (the JWS as received), bytes; default 64 MiB. */
          maxBytes: T.Optional(T.Integer({ minimum: 1024, maximum: 268_435_455 })),
        },
        { additionalProperties: false },
      ),
    ),
    policy: T.Object(
      {
        skewSec: T.Integer({ minimum: 0, maximum: 3600 }),
        reopenGraceSec: T.Integer({ minimum: 0, maximum: 600 }),
        /** Token times while the clock is not NTP-synchronised (src/clock/unsynced-policy.ts). */
        unsyncedClock: T.Optional(T.Union([T.Literal('lenient'), T.Literal('strict')])),
        /** Skew for nbf/iat while unsynced under `lenient`, seconds; default 300. */
        unsyncedSkewSec: T.Optional(T.Integer({ minimum: 0, maximum: 86_400 })),
        /** Scan abuse limits (src/gate/abuse-guard.ts); defaults there. */
        abuse: T.Optional(
          T.Object(
            {
              /** More denials than this within `windowSec` start a lockout. */
              maxDenials: T.Optional(T.Integer({ minimum: 1, maximum: 10_000 })),
              windowSec: T.Optional(T.Integer({ minimum: 1, maximum: 86_400 })),
              /** How long denials are slowed after a lockout starts. */
              lockoutSec: T.Optional(T.Integer({ minimum: 1, maximum: 86_400 })),
              /** During a lockout, denials are answered at most one per this many ms. */
              delayMs: T.Optional(T.Integer({ minimum: 0, maximum: 60_000 })),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    log: T.Object(
      {
        level: T.Union(
          ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => T.Literal(l)),
        ),
        /** json (journald), pretty (readable), auto: pretty on a terminal, else json; default auto. */
        format: T.Optional(T.Union([T.Literal('auto'), T.Literal('json'), T.Literal('pretty')])),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
