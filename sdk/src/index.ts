// Public API of @bpfleet/sdk. Devices import the light subpaths (manifest, archive, trust, bpf) instead.

export * from './archive/index.js';
export * from './digest.js';
export * from './errors.js';
export * from './manifest/index.js';
export {
  type DeviceSummary,
  FleetClient,
  type RegisteredDevice,
  type RolloutRequest,
  type RolloutView,
} from './registry-client/fleet-client.js';
export * from './trust/index.js';
