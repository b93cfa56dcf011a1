// What the fleet API is built from: the device store, policies, rollouts and the edge's broker identity.
import type { TrustedKey } from '@bpfleet/sdk/trust';
import type { DeviceCa } from '../tls/device-ca.js';
import type { BrokerLogins } from './broker-logins.js';
import type { FleetStore } from './fleet-store.js';
import type { PolicyService } from './policies/policy-service.js';
import type { TargetPlanner } from './policies/target-planner.js';
import type { ProgramEventStore } from './program-events/program-event-store.js';
import type { RolloutRunner } from './rollouts/rollout-runner.js';
import type { TelemetryHistoryStore } from './telemetry-history/telemetry-history-store.js';

export interface FleetDeps {
  fleet: string;
  store: FleetStore;
  /** Records of devices' event streams (program events), with bounded retention. */
  programEvents?: ProgramEventStore;
  /** Per-device telemetry over time, downsampled with bounded retention. */
  telemetryHistory?: TelemetryHistoryStore;
  policies: PolicyService;
  /** Which targeted devices a policy reaches and which it leaves out, with why (apply and diff show it). */
  planTarget: TargetPlanner;
  rollouts: RolloutRunner;
  /** The edge's policy key: devices list it among their operator keys. */
  edgeKey: { keyId: string; publicKeyPem: string };
  /** Publishes the retained root announcement `{"version": N}` (devices then fetch and verify the root). */
  announceRoot?: (version: number) => Promise<void>;
  /** Policies are verified with the published root's operators role from then on (instead of --operator-key). */
  useRootOperators?: (keys: readonly TrustedKey[], threshold: number) => void;
  /** The broker URL devices are told to use. */
  brokerUrl: string;
  /** Device logins on the broker itself (absent: the broker's logins are managed outside the edge). */
  brokerLogins?: BrokerLogins;
  /** The edge's device CA (made on first use): `fleet register --cert` has a client certificate issued by it. */
  deviceCa?: () => Promise<DeviceCa>;
  deviceCertLifetimeMs?: number;
}
