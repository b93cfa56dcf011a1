// Public API of @bpfleet/sdk/policy: the policy schema, parsing, and (with trust) signing and verification.

export { assertWithinGrants } from './edge-bound.js';
export { type PolicyTrust, type TrustedPolicy, verifyTrustedPolicy } from './fleet-policy-trust.js';
export { type EncodedMaps, encodePolicyMaps } from './map-entries.js';
export { type MergedProgram, mergePolicies } from './merge-policies.js';
export { parsePolicy, toPolicy } from './parse-policy.js';
export * from './policy.js';
export { PolicyFieldError } from './policy-error.js';
export { type PolicyExpired, policyExpired } from './policy-expiry.js';
export {
  cosignPolicy,
  readPolicyPayload,
  signPolicy,
  type VerifiedPolicySigners,
  verifyPolicy,
  verifyPolicySigners,
} from './sign-policy.js';
export {
  kernelVersion,
  matchSelector,
  type ProbeType,
  type SelectorVerdict,
  type TargetSelector,
  toTargetSelector,
  unmetKernel,
} from './target-selector.js';
