// The policy document: the operator's signed desired state for one device or one group.

export const POLICY_API_VERSION = 'bpfleet/v1';
export const POLICY_KIND = 'Policy';

export type ConfigScalar = string | number | boolean;
export type ConfigInput = ConfigScalar | ConfigScalar[];

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
}

export type PolicyTarget = { device: string } | { group: string };

export interface Policy {
  apiVersion: typeof POLICY_API_VERSION;
  kind: typeof POLICY_KIND;
  /** Strictly increases per target; devices refuse anything not above the last one applied. */
  serial: number;
  /** RFC 3339 instant after which devices refuse the policy. */
  expires: string;
  target: PolicyTarget;
  fleet: string;
  programs: PolicyProgram[];
}

export function isDeviceTarget(target: PolicyTarget): target is { device: string } {
  return 'device' in target;
}
