// The policy document: the operator's signed desired state for one device or one group.
import type { TargetSelector } from './target-selector.js';

export const POLICY_API_VERSION = 'bpfleet/v1';
export const POLICY_KIND = 'Policy';

export type ConfigScalar = string | number | boolean;
export type ConfigInput = ConfigScalar | ConfigScalar[];

/** A map key or value in its layout's JSON form: a scalar, or an object of struct fields. */
export type MapEntryInput = ConfigScalar | { [field: string]: ConfigScalar };

/** One entry of a policy-managed map. */
export interface PolicyMapEntry {
  key: MapEntryInput;
  value: MapEntryInput;
}

/** Bounds that keep a policy small enough for a device to hold and apply. */
export const POLICY_LIMITS = {
  /** Entries of one map (xdp-firewall's blocklists hold 65,536 prefixes). */
  maxMapEntries: 65_536,
  /** Entries of all maps of all programs of one policy. */
  maxPolicyMapEntries: 262_144,
  maxMapsPerProgram: 64,
  maxEntryFields: 32,
  /** Characters of one string in an entry (`bytes` of up to 1,024 bytes as hex). */
  maxEntryString: 2_048,
} as const;

export interface PolicyAttach {
  interface?: string;
  direction?: 'ingress' | 'egress';
  cgroup?: string;
  mode?: string;
}

/** One wanted deployment. Exactly one of `version` (exact or semver range) and `channel` is set. */
export interface PolicyProgram {
  /** Deployment name, unique within the policy; pins and reports are keyed by it. */
  id: string;
  /** `namespace/name`. */
  package: string;
  version?: string;
  channel?: string;
  attach?: PolicyAttach;
  config?: Record<string, ConfigInput>;
  /** The whole contents of the package's policy-managed maps, by map name (an absent map is empty). */
  maps?: Record<string, PolicyMapEntry[]>;
}

export type PolicyOnExpiry = 'keep' | 'remove';
export const POLICY_ON_EXPIRY: readonly PolicyOnExpiry[] = ['keep', 'remove'];

/**
 * Who the policy is for. `where` narrows it by device inventory: a device it excludes deploys nothing from the
 * policy and says why; the edge says the same before publishing (it predicts, the device decides).
 */
export type PolicyTarget = ({ device: string } | { group: string }) & { where?: TargetSelector };

/** What the operators let the edge's policy key do for a package: move it to an exact version in `versions`. */
export interface PolicyAllowance {
  package: string;
  /** A semver range; rollout waves and their completion may pin any exact version inside it. */
  versions: string;
}

/** Most allowances per policy and most operator policies an edge-signed policy may carry as its grants. */
export const POLICY_MAX_ALLOWANCES = 64;
export const POLICY_MAX_GRANTS = 4;

export interface Policy {
  apiVersion: typeof POLICY_API_VERSION;
  kind: typeof POLICY_KIND;
  /** Strictly increases per target; devices refuse anything not above the last one applied. */
  serial: number;
  /** RFC 3339 instant after which devices refuse the policy, and apply nothing more from the one they hold. */
  expires: string;
  /**
   * What a device does with this policy's programs once it expired: `keep` (the default) leaves what runs
   * running and reports POLICY_EXPIRED, so an attacker who blocks renewals cannot remove a firewall by waiting;
   * `remove` detaches them, for programs that must not outlive their authorization.
   */
  onExpiry?: PolicyOnExpiry;
  target: PolicyTarget;
  fleet: string;
  programs: PolicyProgram[];
  /** Operator policies only: what the edge key may pin in rollouts of this target (see edge-bound.ts). */
  allow?: PolicyAllowance[];
  /**
   * Edge-signed policies only: the operators' threshold-signed policy bundles (as published) that authorize it;
   * devices accept an edge-signed policy only for what these allow, so the edge key alone can push nothing new.
   */
  grants?: unknown[];
}

export function isDeviceTarget(target: PolicyTarget): target is { device: string } {
  return 'device' in target;
}
