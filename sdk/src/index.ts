// Public API of @bpfleet/sdk. Devices import the light subpaths (manifest, archive, trust, bpf) instead.

export * from './archive/index.js';
export * from './digest.js';
export * from './errors.js';
export * from './manifest/index.js';
export * from './trust/index.js';
