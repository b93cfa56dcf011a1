// Public API of @bpfleet/registry (bpfleet-edge).
export {};
