/**
 * Topics of the fleet as operations read them. This folder is pure (no node: imports) so the
 * same model runs in `ridergate watch` and in the ops web page.
 */

/** What a gate publishes; see DESIGN.md "MQTT contract". */
export type GateTopicKind = 'status' | 'info' | 'events' | 'telemetry' | 'result';

/** A topic a gate published on, split into its parts. */
export interface FleetTopic {
  site: string;
  gate: string;
  kind: GateTopicKind;
}

const KIND_BY_SUFFIX: Record<string, GateTopicKind> = {
  status: 'status',
  info: 'info',
  events: 'events',
  telemetry: 'telemetry',
  'cmd/result': 'result',
};

/** The subscriptions that receive everything a gate publishes under `prefix` (and nothing else). */
export function fleetFilters(prefix: string): string[] {
  return Object.keys(KIND_BY_SUFFIX).map((suffix) => `${prefix}/+/+/${suffix}`);
}

/**
 * Splits `{prefix}/{site}/{gate}/{kind}`; undefined for any other topic (fleet-wide topics,
 * commands, `_site`, a different prefix).
 */
export function parseFleetTopic(prefix: string, topic: string): FleetTopic | undefined {
  if (!topic.startsWith(`${prefix}/`)) return undefined;
  const parts = topic.slice(prefix.length + 1).split('/');
  const [site, gate, ...rest] = parts;
  if (site === undefined || gate === undefined || site === '' || gate === '') return undefined;
  if (site.startsWith('_') || gate.startsWith('_')) return undefined;
  const kind = KIND_BY_SUFFIX[rest.join('/')];
  return kind === undefined ? undefined : { site, gate, kind };
}
