// Public API of @bpfleet/sdk/policy: the policy schema, parsing, and (with trust) signing and verification.

export { type EncodedMaps, encodePolicyMaps } from './map-entries.js';
export { type MergedProgram, mergePolicies } from './merge-policies.js';
export { parsePolicy, toPolicy } from './parse-policy.js';
export * from './policy.js';
export { PolicyFieldError } from './policy-error.js';
export { type PolicyExpired, policyExpired } from './policy-expiry.js';
export { signPolicy, verifyPolicy } from './sign-policy.js';
export {
  kernelVersion,
  matchSelector,
  type ProbeType,
  type SelectorVerdict,
  type TargetSelector,
  toTargetSelector,
  unmetKernel,
} from './target-selector.js';
