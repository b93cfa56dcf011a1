// Public API of @bpfleet/agent (bpfleet-agent).
export {};
