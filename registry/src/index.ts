// Public API of @bpfleet/registry (bpfleet-edge).

export * from './broker/access-policy.js';
export * from './broker/credentials.js';
export * from './broker/embedded-broker.js';
export * from './broker/mosquitto-config.js';
export * from './broker/mosquitto-dynsec.js';
export * from './fleet/fleet-authenticator.js';
export * from './fleet/fleet-controller.js';
export * from './fleet/fleet-store.js';
export * from './fleet/policies/policy-service.js';
export * from './fleet/policies/policy-store.js';
export * from './fleet/rollouts/rollout.js';
export * from './fleet/rollouts/rollout-runner.js';
export * from './fleet/rollouts/rollout-store.js';
export * from './fleet/sqlite-fleet-store.js';
export { type RunningEdge, startEdge } from './testing/edge-launcher.js';
export * from './testing/postgres-server.js';
export * from './testing/radosgw-server.js';
export { type DeviceCa, loadOrCreateDeviceCa } from './tls/device-ca.js';
export * from './tls/testing/server-pki.js';
