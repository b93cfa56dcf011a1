// The edge's fleet API from the operator's side: devices, policies and rollouts (admin token).
import type { SerializedBundle } from '@sigstore/bundle';
import type { Policy, PolicyTarget } from '../policy/policy.js';
import type { DeviceInventory } from '../protocol/inventory.js';
import type { RegistryClient } from './registry-client.js';

export interface DeviceSummary {
  id: string;
  groups: string[];
  presence: string;
  /** DISABLED: an admin disabled it (logins refused, session closed); absent from edges before the state existed. */
  state?: 'ENABLED' | 'DISABLED';
  lastSeen: string | null;
  programs: Array<{
    id: string;
    package: string;
    version: string | null;
    status: string;
    attach: Record<string, string> | null;
    lastError: { code: string; message: string } | null;
  }>;
  /** Serial applied per policy topic (its own, its groups'), as the device reported; absent from older edges. */
  policies?: Record<string, { serial: number }>;
  policyErrors: Record<string, { code: string; message: string }>;
  /** What the device reported about itself; null until it did (or from agents without an inventory). */
  inventory?: DeviceInventory | null;
}

/** Who a policy reaches, judged by the edge on device inventories (the devices decide for themselves too). */
export interface TargetPlan {
  included: string[];
  excluded: Array<{ device: string; reasons: string[] }>;
  unknown: Array<{ device: string; reasons: string[] }>;
}

export interface RegisteredDevice extends DeviceSummary {
  fleet: string;
  broker: { url: string; username: string; password: string };
}

/** A device registered with a public key: its client certificate from the edge's device CA, no password. */
export interface CertifiedDevice extends DeviceSummary {
  fleet: string;
  broker: { url: string; username: string; tls: { certificate: string; ca: string; notAfter: string } };
}

export interface RolloutView {
  id: string;
  state: string;
  reason: string | null;
  createdAt: string;
  currentWave: number;
  spec: {
    group: string;
    package: string;
    version: string;
    waves: Array<string | number>;
    waveTimeoutMs: number;
    failureThreshold: number;
  };
  waves: Array<{ devices: string[]; startedAt: string | null; finishedAt: string | null }>;
  devices: Record<string, { status: string; detail?: string }>;
  /** What the operator should know from the start: waves the plan changed, devices never seen. */
  warnings?: string[];
  /**
   * Actions decided but not yet carried out (moving or restoring devices, moving the group policy and clearing
   * overrides at the end). A rollout is saved as COMPLETED or ABORTED before its last actions run, so it is
   * finished only once this is empty or absent.
   */
  pending?: Array<{ kind: 'move' | 'restore' | 'complete'; devices?: string[] }>;
}

export interface RolloutRequest {
  group: string;
  package: string;
  version: string;
  waves?: Array<string | number>;
  waveTimeoutMs?: number;
  failureThreshold?: number;
}

const q = (params: Record<string, string | undefined>) => {
  const s = new URLSearchParams(
    Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined),
  );
  return s.size > 0 ? `?${s}` : '';
};
/** GET /v1/fleet/devices/:id/metrics: each series' points, oldest first (`rate` only for counters). */
export interface MetricHistoryView {
  device: string;
  since: string;
  stepSeconds: number;
  series: Array<{
    deployment: string;
    map: string;
    name: string;
    key: string;
    counter: boolean;
    points: Array<{
      at: string;
      samples: number;
      avg: number;
      min: number;
      max: number;
      last: number;
      rate?: number;
    }>;
  }>;
  droppedSeries: number;
}

const targetQuery = (t: PolicyTarget) => q('device' in t ? { device: t.device } : { group: t.group });

export class FleetClient {
  constructor(private readonly http: RegistryClient) {}

  /** Disables (logins refused, live session closed) or enables a device. */
  setDeviceState(
    id: string,
    action: 'disable' | 'enable',
  ): Promise<{ id: string; state: 'ENABLED' | 'DISABLED' }> {
    return this.http.requestJson(
      `${action} device ${id}`,
      'POST',
      `/v1/fleet/devices/${encodeURIComponent(id)}/${action}`,
    );
  }
  /** Forgets the device: its login stops working and its live session is closed. */
  removeDevice(id: string): Promise<void> {
    return this.http.requestNoContent(
      `remove device ${id}`,
      'DELETE',
      `/v1/fleet/devices/${encodeURIComponent(id)}`,
    );
  }
  registerDevice(id: string, groups: string[]): Promise<RegisteredDevice> {
    return this.http.requestJson(`register device ${id}`, 'POST', '/v1/fleet/devices', { id, groups });
  }
  /** Only the public key travels: the device's private key stays where it was made. */
  registerDeviceWithKey(id: string, groups: string[], publicKeyPem: string): Promise<CertifiedDevice> {
    return this.http.requestJson(`register device ${id}`, 'POST', '/v1/fleet/devices', {
      id,
      groups,
      publicKey: publicKeyPem,
    });
  }
  listDevices(filter: { group?: string; status?: string; package?: string } = {}): Promise<DeviceSummary[]> {
    return this.http.requestJson('fleet status', 'GET', `/v1/fleet/devices${q(filter)}`);
  }
  getDevice(id: string): Promise<DeviceSummary & { registeredAt: string }> {
    return this.http.requestJson(`device ${id}`, 'GET', `/v1/fleet/devices/${encodeURIComponent(id)}`);
  }
  deviceEvents(
    id: string,
    limit = 50,
  ): Promise<Array<{ receivedAt: string; event: Record<string, unknown> }>> {
    return this.http.requestJson(
      `device ${id} events`,
      'GET',
      `/v1/fleet/devices/${encodeURIComponent(id)}/events?limit=${limit}`,
    );
  }
  /** `since` and `step` are durations (30m, 6h, 7d); `since` may also be an RFC 3339 time. */
  deviceMetrics(
    id: string,
    query: { name?: string; since?: string; step?: string } = {},
  ): Promise<MetricHistoryView> {
    return this.http.requestJson(
      `device ${id} metrics`,
      'GET',
      `/v1/fleet/devices/${encodeURIComponent(id)}/metrics${q(query)}`,
    );
  }
  currentPolicy(
    target: PolicyTarget,
  ): Promise<{ policy: Policy | null; serial: number; nextSerial: number }> {
    return this.http.requestJson('current policy', 'GET', `/v1/fleet/policies/current${targetQuery(target)}`);
  }
  listPolicies(): Promise<Array<{ target: string; serial: number; updatedAt: string; policy: Policy }>> {
    return this.http.requestJson('list policies', 'GET', '/v1/fleet/policies');
  }
  applyPolicy(
    bundle: SerializedBundle,
  ): Promise<{ target: string; serial: number; policy: Policy; plan: TargetPlan }> {
    return this.http.requestJson('apply policy', 'PUT', '/v1/fleet/policies', bundle);
  }
  /** Who `policy` would reach and who it leaves out, with why; nothing is published. */
  /** The edge's checks without publishing (a server-side dry run); throws its refusal (POLICY_INVALID, …). */
  checkPolicy(policy: Policy): Promise<{ ok: true; plan: TargetPlan }> {
    return this.http.requestJson('check policy', 'POST', '/v1/fleet/policies/check', policy);
  }
  planPolicy(policy: Policy): Promise<TargetPlan> {
    return this.http.requestJson('plan policy', 'POST', '/v1/fleet/policies/plan', policy);
  }
  edgeKey(): Promise<{ keyId: string; publicKeyPem: string; fleet: string }> {
    return this.http.requestJson('edge key', 'GET', '/v1/fleet/edge-key');
  }
  startRollout(request: RolloutRequest): Promise<RolloutView> {
    return this.http.requestJson(
      `rollout ${request.package}@${request.version}`,
      'POST',
      '/v1/fleet/rollouts',
      request,
    );
  }
  listRollouts(): Promise<RolloutView[]> {
    return this.http.requestJson('list rollouts', 'GET', '/v1/fleet/rollouts');
  }
  getRollout(id: string): Promise<RolloutView> {
    return this.http.requestJson(`rollout ${id}`, 'GET', `/v1/fleet/rollouts/${encodeURIComponent(id)}`);
  }
  controlRollout(id: string, action: 'pause' | 'resume' | 'abort'): Promise<RolloutView> {
    return this.http.requestJson(
      `rollout ${id} ${action}`,
      'POST',
      `/v1/fleet/rollouts/${encodeURIComponent(id)}/${action}`,
    );
  }
}
