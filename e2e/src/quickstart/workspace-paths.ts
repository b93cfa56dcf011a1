// Where the quickstart and the demo keep their state: under `.bpfleet/` at the repository root (gitignored).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file compiles to e2e/dist/quickstart/). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const EDGE_MAIN = join(REPO_ROOT, 'registry', 'dist', 'main.js');
/** The agent as it ships: the one-file bundle of agent/dist/main.js (see agent-bundle.ts). */
export const AGENT_MAIN = join(REPO_ROOT, 'agent', 'dist', 'bpfleet-agent.mjs');
/** The agent's launcher, as shipped: it execs node with the daemon's heap flags on AGENT_MAIN (same pid). */
export const AGENT_BIN = join(REPO_ROOT, 'agent', 'bin', 'bpfleet-agent');
export const BPF_PROGRAMS = join(REPO_ROOT, 'bpf-programs');

export interface StatePaths {
  /** `.bpfleet/<name>`: the edge's data, the agent's data, logs, the pid file. */
  root: string;
  edgeData: string;
  agentData: string;
  /** The development keys, shared by the quickstart and the demo. */
  keys: string;
}

export function statePaths(name: string, base = join(REPO_ROOT, '.bpfleet')): StatePaths {
  const root = join(base, name);
  return { root, edgeData: join(root, 'edge'), agentData: join(root, 'agent'), keys: join(base, 'keys') };
}
