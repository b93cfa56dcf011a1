// How large a message each topic kind may carry, and which kinds may be retained: one table for every broker.
import { type DeviceTopicKind, parseTopic, rootTopic } from '@bpfleet/sdk/protocol';
import type { BrokerIdentity } from './access-policy.js';
import type { FrameHeader } from './frame-reader.js';

export type PacketLimits = Readonly<Record<DeviceTopicKind, number>>;

/**
 * Device kinds sit at the size the controller parses anyway (sdk MAX_MESSAGE_BYTES, 256 KiB); presence is one word.
 * Desired is written only by the controller: a signed policy with map entries reaches ~32 MB (MAX_POLICY_BUNDLE_BYTES).
 */
export const DEFAULT_PACKET_LIMITS: PacketLimits = {
  reported: 256 * 1024,
  events: 256 * 1024,
  telemetry: 256 * 1024,
  presence: 1024,
  desired: 40 * 1024 * 1024,
};

/** Packets other than PUBLISH (CONNECT with its will, SUBSCRIBE, acks) are small in this protocol. */
export const CONTROL_PACKET_LIMIT = 64 * 1024;

/** The root announcement is `{"version": N}`: a few bytes, from the edge only. */
export const ROOT_ANNOUNCE_LIMIT = 1024;

/** Retained messages only where the protocol reads them on (re)connect: desired, reported and presence. */
export const RETAINED_KINDS: readonly DeviceTopicKind[] = ['desired', 'reported', 'presence'];

/** The largest payload `identity` (unknown before its login completes) may publish to `topic`; 0 when none. */
export function payloadLimit(
  identity: BrokerIdentity | undefined,
  topic: string,
  limits: PacketLimits,
): number {
  if (identity && topic === rootTopic(identity.fleet)) {
    return identity.role === 'controller' ? ROOT_ANNOUNCE_LIMIT : 0;
  }
  const parsed = parseTopic(topic);
  if (!parsed) return 0;
  if (parsed.kind === 'desired') return identity?.role === 'controller' ? limits.desired : 0;
  return limits[parsed.kind];
}

/** A refusal for a packet from its header and topic, before any of its body is read. */
export function judgeFrame(
  header: FrameHeader,
  identity: BrokerIdentity | undefined,
  limits: PacketLimits,
): string | null {
  if (header.topic === undefined) {
    return header.remainingLength > CONTROL_PACKET_LIMIT
      ? `packet type ${header.type} of ${header.remainingLength} bytes over the ${CONTROL_PACKET_LIMIT}-byte limit`
      : null;
  }
  const limit = payloadLimit(identity, header.topic, limits);
  const size = header.payloadLength ?? 0;
  // A topic the client may not publish to at all is left to authorizePublish, which says why (small ones only).
  if (limit === 0)
    return size > CONTROL_PACKET_LIMIT ? `publish to ${header.topic}: not a topic it may write` : null;
  return size > limit ? `publish to ${header.topic}: ${size} bytes over the ${limit}-byte limit` : null;
}
