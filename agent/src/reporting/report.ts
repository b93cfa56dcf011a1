// What the agent tells the edge: the message shapes are sdk/protocol's; the Reporter is the agent's port.
import type { AgentEvent, ReportedState } from '@bpfleet/sdk/protocol';

export type {
  AgentEvent,
  EventState,
  ProgramReport,
  ProgramStatus,
  Reason,
  ReportedState,
} from '@bpfleet/sdk/protocol';

export interface Reporter {
  event(event: AgentEvent): void;
  reported(state: ReportedState): void;
}
