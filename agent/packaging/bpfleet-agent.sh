#!/bin/sh
# /usr/bin/bpfleet-agent: the agent's launcher on the Node LTS runtime the package carries (BPFLEET_NODE overrides).
BPFLEET_NODE="${BPFLEET_NODE:-/usr/lib/bpfleet-agent/node/bin/node}"
export BPFLEET_NODE
exec /usr/lib/bpfleet-agent/bin/bpfleet-agent "$@"
