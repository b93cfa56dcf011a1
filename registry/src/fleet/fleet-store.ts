// What the edge knows about its devices: registration (groups, broker credential), presence, reported state, events.
import type { AgentEvent, Presence, ReportedState, Telemetry } from '@bpfleet/sdk/protocol';

export interface DeviceRecord {
  id: string;
  groups: string[];
  /** Hash of the broker secret issued to the device; never the secret itself. */
  secretHash: string;
  registeredAt: string;
  presence: Presence | 'unknown';
  lastSeen: string | null;
  reported: ReportedState | null;
  /** The latest telemetry the device sent (program metrics). */
  telemetry: Telemetry | null;
  /** Disabled by an admin: its broker logins are refused and its session closed until it is enabled. */
  disabled: boolean;
}

export interface DeviceEventRecord {
  device: string;
  receivedAt: string;
  event: AgentEvent;
}

export interface DeviceFilter {
  group?: string;
  /** A program status (ATTACHED, FAILED, …) any of the device's programs has, a presence, or DISABLED. */
  status?: string;
  /** `ns/name@version`, or `ns/name` for any version: devices running it. */
  package?: string;
}

export interface FleetStore {
  registerDevice(id: string, groups: string[], secretHash: string, now: Date): DeviceRecord;
  /** Replaces the groups and secret of a known device (re-issue of credentials). */
  updateDevice(id: string, changes: { groups?: string[]; secretHash?: string }): DeviceRecord;
  removeDevice(id: string): boolean;
  /** Stores the device's disabled state; undefined when it is not registered. */
  setDisabled(id: string, disabled: boolean): DeviceRecord | undefined;
  getDevice(id: string): DeviceRecord | undefined;
  /** Whether `id` is registered, without reading its record (checked on every message a device sends). */
  hasDevice(id: string): boolean;
  /** Runs `work` as one atomic unit: all its writes are stored, or none (one commit for a burst of reports). */
  batch<T>(work: () => T): T;
  listDevices(filter?: DeviceFilter): DeviceRecord[];
  recordPresence(id: string, presence: Presence, now: Date): void;
  recordReported(id: string, reported: ReportedState, now: Date): void;
  recordEvent(id: string, event: AgentEvent, now: Date): void;
  recordTelemetry(id: string, telemetry: Telemetry, now: Date): void;
  /** Newest first. */
  events(id: string, limit: number): DeviceEventRecord[];
}

/** Keeps the filter semantics in one place for every store implementation. */
export function matchesFilter(device: DeviceRecord, filter: DeviceFilter): boolean {
  if (filter.group && !device.groups.includes(filter.group)) return false;
  const programs = device.reported?.programs ?? [];
  if (filter.status) {
    const wanted = filter.status.toUpperCase();
    const presenceMatch = device.presence.toUpperCase() === wanted;
    const stateMatch = wanted === 'DISABLED' && device.disabled;
    if (!presenceMatch && !stateMatch && !programs.some((p) => p.status === wanted)) return false;
  }
  if (filter.package) {
    const [name, version] = filter.package.split('@') as [string, string | undefined];
    if (!programs.some((p) => p.package === name && (version === undefined || p.version === version)))
      return false;
  }
  return true;
}
