// The device's keys as one live object: a verified root is applied in place, so every verifier holding them sees it.
import { ConfigError } from '@bpfleet/sdk/errors';
import type { RootDocument, TrustedKey, TrustedRoot } from '@bpfleet/sdk/trust';

/** The trust part of the agent config (agent-config.ts), the object every verifier was given. */
export interface DeviceTrust {
  operatorKeys: TrustedKey[];
  operatorThreshold?: number;
  edgeKeys?: TrustedKey[];
  registryKeys: TrustedKey[];
  publishers: Record<string, TrustedKey[]>;
  rootKeys?: TrustedKey[];
  rootThreshold?: number;
}

/** The inline config is root version 1: its `rootKeys` (threshold `rootThreshold`) sign version 2. */
export function inlineRoot(trust: DeviceTrust): TrustedRoot | undefined {
  const keys = trust.rootKeys ?? [];
  if (keys.length === 0) return undefined;
  const threshold = trust.rootThreshold ?? 1;
  if (threshold < 1 || threshold > keys.length) {
    throw new ConfigError('CONFIG_INVALID', `config trust.rootThreshold: expected 1 to ${keys.length}`);
  }
  return { version: 1, roles: { root: { keys, threshold } } };
}

/**
 * Replaces the keys of `trust` with the root's, keeping the same arrays and objects: the index, package, channel
 * and policy verifiers were built with references to them. The swap is synchronous, so no verification sees a mix.
 */
export function applyRoot(trust: DeviceTrust, root: RootDocument): void {
  const { roles } = root;
  replace(trust.operatorKeys, roles.operators.keys);
  trust.operatorThreshold = roles.operators.threshold;
  if (trust.edgeKeys) replace(trust.edgeKeys, roles.edge.keys);
  else trust.edgeKeys = [...roles.edge.keys];
  replace(trust.registryKeys, roles.registry.keys);
  for (const ns of Object.keys(trust.publishers)) delete trust.publishers[ns];
  for (const [ns, role] of Object.entries(roles.publishers)) {
    Object.defineProperty(trust.publishers, ns, {
      value: [...role.keys],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  trust.rootKeys = [...roles.root.keys];
  trust.rootThreshold = roles.root.threshold;
}

/** An expired root verifies nothing new: every key list emptied (what runs stays; see docs/security.md). */
export function freezeTrust(trust: DeviceTrust): void {
  replace(trust.operatorKeys, []);
  if (trust.edgeKeys) replace(trust.edgeKeys, []);
  replace(trust.registryKeys, []);
  for (const ns of Object.keys(trust.publishers)) delete trust.publishers[ns];
}

function replace(target: TrustedKey[], keys: readonly TrustedKey[]): void {
  target.splice(0, target.length, ...keys);
}
