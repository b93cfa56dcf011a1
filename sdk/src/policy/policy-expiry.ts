// Whether a policy's expiry passed, and the reason a device reports for it (POLICY_EXPIRED).
import type { Policy } from './policy.js';

export interface PolicyExpired {
  code: 'POLICY_EXPIRED';
  message: string;
}

/** Undefined while the policy holds; the message stays the same for as long as it is expired. */
export function policyExpired(policy: Policy, now: Date): PolicyExpired | undefined {
  if (Date.parse(policy.expires) > now.getTime()) return undefined;
  const target =
    'device' in policy.target ? `device ${policy.target.device}` : `group ${policy.target.group}`;
  const outcome =
    policy.onExpiry === 'remove'
      ? 'its programs are removed (onExpiry: remove)'
      : 'what runs stays, nothing more is applied from it until a newer policy arrives';
  return {
    code: 'POLICY_EXPIRED',
    message: `policy serial ${policy.serial} for ${target}: expired at ${policy.expires}; ${outcome}`,
  };
}
