// The MQTT topic tree of design.md: bpfleet/v1/{fleet}/dev/{device}/{kind} and bpfleet/v1/{fleet}/grp/{group}/desired.

export const TOPIC_ROOT = 'bpfleet/v1';

export type DeviceTopicKind = 'desired' | 'reported' | 'presence' | 'events' | 'telemetry';
export const DEVICE_TOPIC_KINDS: readonly DeviceTopicKind[] = [
  'desired',
  'reported',
  'presence',
  'events',
  'telemetry',
];
/** What a device itself publishes; everything else under its name is written by the edge. */
export const DEVICE_PUBLISHED_KINDS: readonly DeviceTopicKind[] = [
  'reported',
  'presence',
  'events',
  'telemetry',
];

export type ParsedTopic =
  | { fleet: string; scope: 'dev'; device: string; kind: DeviceTopicKind }
  | { fleet: string; scope: 'grp'; group: string; kind: 'desired' };

// Fleet, device and group names become topic levels: no wildcards, no separators, bounded.
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isValidTopicName(name: string): boolean {
  return NAME.test(name);
}

export function assertTopicName(kind: string, name: string): void {
  if (!isValidTopicName(name)) {
    throw new TypeError(
      `${kind} name ${JSON.stringify(name)}: expected 1-128 characters of letters, digits, '.', '_' or '-'`,
    );
  }
}

export function deviceTopic(fleet: string, device: string, kind: DeviceTopicKind): string {
  assertTopicName('fleet', fleet);
  assertTopicName('device', device);
  return `${TOPIC_ROOT}/${fleet}/dev/${device}/${kind}`;
}

export function groupDesiredTopic(fleet: string, group: string): string {
  assertTopicName('fleet', fleet);
  assertTopicName('group', group);
  return `${TOPIC_ROOT}/${fleet}/grp/${group}/desired`;
}

/**
 * The fleet's root-of-trust announcement (retained, written by the edge): `{"version": N}`, a hint only — devices
 * fetch and verify the root itself over HTTP. Four levels, so parseTopic (device and group topics) never matches it.
 */
export function rootTopic(fleet: string): string {
  assertTopicName('fleet', fleet);
  return `${TOPIC_ROOT}/${fleet}/root`;
}

/** Subscription filter for one kind of message from every device of a fleet. */
export function fleetDeviceFilter(fleet: string, kind: DeviceTopicKind): string {
  assertTopicName('fleet', fleet);
  return `${TOPIC_ROOT}/${fleet}/dev/+/${kind}`;
}

/** Parses a concrete topic (no wildcards); null when it is not one of bpfleet's. */
export function parseTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 6 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT) return null;
  const [, , fleet, scope, id, kind] = parts as [string, string, string, string, string, string];
  if (!isValidTopicName(fleet) || !isValidTopicName(id)) return null;
  if (scope === 'dev' && (DEVICE_TOPIC_KINDS as readonly string[]).includes(kind)) {
    return { fleet, scope, device: id, kind: kind as DeviceTopicKind };
  }
  if (scope === 'grp' && kind === 'desired') return { fleet, scope, group: id, kind };
  return null;
}
