// What the agent tells the edge: events (state transitions) and the retained reported state.
import type { PolicyAttach } from '@bpfleet/sdk/policy';

export type EventState =
  | 'QUEUED'
  | 'DOWNLOADING'
  | 'VERIFYING'
  | 'ATTACHED'
  | 'FAILED'
  | 'REJECTED'
  | 'ROLLED_BACK'
  | 'REMOVED';

export interface Reason {
  code: string;
  message: string;
}

export interface AgentEvent {
  time: string;
  state: EventState;
  /** Deployment id; absent for policy-level events. */
  deployment?: string;
  package?: string;
  version?: string;
  digest?: string;
  /** The policy topic, for policy-level events. */
  policy?: string;
  reason?: Reason;
}

/** ATTACHED: the wanted version runs. ROLLED_BACK: a newer wanted version failed, the older one runs. */
export type ProgramStatus = 'PENDING' | 'ATTACHED' | 'FAILED' | 'REJECTED' | 'ROLLED_BACK';

export interface ProgramReport {
  id: string;
  package: string;
  /** The version selector as the policy says it (`1.2.0`, `^1`, `channel:stable`). */
  wanted: string;
  source: string;
  status: ProgramStatus;
  /** What runs now, if anything. */
  version?: string;
  digest?: string;
  attach?: PolicyAttach;
  lastError?: Reason;
}

export interface ReportedState {
  device: string;
  fleet: string;
  time: string;
  policies: Record<string, { serial: number }>;
  /** The last refused policy per topic, with its reason. */
  policyErrors: Record<string, Reason>;
  programs: ProgramReport[];
}

export interface Reporter {
  event(event: AgentEvent): void;
  reported(state: ReportedState): void;
}
