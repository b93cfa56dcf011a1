// Who may publish and subscribe to what on the fleet's MQTT topics: one rule set for every broker.
import { DEVICE_PUBLISHED_KINDS, parseTopic, rootTopic, TOPIC_ROOT } from '@bpfleet/sdk/protocol';
import { RETAINED_KINDS } from './packet-limits.js';

export type BrokerIdentity =
  | { role: 'device'; fleet: string; deviceId: string; groups: readonly string[] }
  | { role: 'controller'; fleet: string; name: string };

export type AccessDecision = { allowed: true } | { allowed: false; reason: string };

const ALLOW: AccessDecision = { allowed: true };
const deny = (reason: string): AccessDecision => ({ allowed: false, reason });

export function decidePublish(identity: BrokerIdentity, topic: string, retain = false): AccessDecision {
  // The root announcement: only the edge writes it (a hint; devices verify the root they then fetch).
  if (topic === rootTopic(identity.fleet)) {
    return identity.role === 'controller' ? ALLOW : deny('only the edge announces the root of trust');
  }
  const parsed = parseTopic(topic);
  if (!parsed) return deny(`topic ${topic} is not a bpfleet topic`);
  if (parsed.fleet !== identity.fleet) return deny(`topic ${topic} belongs to another fleet`);
  // A retained message stays in the broker's memory for good: only kinds read on (re)connect may be retained.
  if (retain && !RETAINED_KINDS.includes(parsed.kind))
    return deny(`${parsed.kind} messages are never retained`);
  if (identity.role === 'controller') {
    return parsed.kind === 'desired' ? ALLOW : deny('the controller publishes only desired state');
  }
  if (parsed.scope !== 'dev' || parsed.device !== identity.deviceId) {
    return deny(`device ${identity.deviceId} may publish only under its own name`);
  }
  if (!DEVICE_PUBLISHED_KINDS.includes(parsed.kind)) {
    return deny(`device ${identity.deviceId} may not publish ${parsed.kind}`);
  }
  return ALLOW;
}

export function decideSubscribe(identity: BrokerIdentity, filter: string): AccessDecision {
  const fleetRoot = `${TOPIC_ROOT}/${identity.fleet}/`;
  if (identity.role === 'controller') {
    return filter.startsWith(fleetRoot) || filter === `${TOPIC_ROOT}/${identity.fleet}/#`
      ? ALLOW
      : deny(`the controller of fleet ${identity.fleet} subscribes only to its fleet`);
  }
  // Devices subscribe to concrete topics only: a wildcard could read other devices' desired state.
  if (filter.includes('+') || filter.includes('#')) return deny('devices may not subscribe with wildcards');
  if (filter === rootTopic(identity.fleet)) return ALLOW;
  const parsed = parseTopic(filter);
  if (!parsed || parsed.fleet !== identity.fleet || parsed.kind !== 'desired') {
    return deny(`device ${identity.deviceId} may subscribe only to its desired topics`);
  }
  if (parsed.scope === 'dev' && parsed.device === identity.deviceId) return ALLOW;
  if (parsed.scope === 'grp' && identity.groups.includes(parsed.group)) return ALLOW;
  return deny(`device ${identity.deviceId} may not read ${filter}`);
}
