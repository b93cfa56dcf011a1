// Public API of @bpfleet/sdk. Devices import the light subpaths (manifest, archive, trust, bpf) instead.
export * from './errors.js';
