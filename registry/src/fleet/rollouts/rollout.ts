// A staged rollout as data, and the pure step that moves it on from what devices report.

import { formatDuration } from '@bpfleet/sdk/duration';
import type { ProgramReport } from '@bpfleet/sdk/protocol';
import { planWaves, type WaveStep } from '@bpfleet/sdk/rollout';

export type RolloutState = 'RUNNING' | 'PAUSED' | 'COMPLETED' | 'ABORTED';
export type DeviceRolloutStatus =
  | 'PENDING'
  | 'IN_PROGRESS'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'TIMED_OUT'
  /** Offline when its wave started and silent until the timeout: nothing is known about the version on it. */
  | 'UNREACHABLE'
  | 'RESTORED';

export interface RolloutSpec {
  group: string;
  /** `ns/name` */
  package: string;
  version: string;
  /** Cumulative wave steps (`'10%'` of the group or a device count), as sdk/rollout checks and plans them. */
  waves: WaveStep[];
  waveTimeoutMs: number;
  /** Fraction (0..1) of moved devices allowed to fail or time out before the rollout aborts. */
  failureThreshold: number;
}

export interface Wave {
  devices: string[];
  startedAt: string | null;
  finishedAt: string | null;
}

export interface Rollout {
  id: string;
  spec: RolloutSpec;
  state: RolloutState;
  reason: string | null;
  createdAt: string;
  currentWave: number;
  waves: Wave[];
  devices: Record<string, { status: DeviceRolloutStatus; detail?: string; offlineAtStart?: boolean }>;
  /** What the operator should know from the start (waves changed by the plan, devices never seen). */
  warnings?: string[];
  /**
   * Actions decided and saved but not yet known to be performed (an outbox): after a crash or a failed
   * publish they are performed before anything else, so a wave is never left half-moved.
   */
  pending?: RolloutAction[];
}

/** Side effects a step asks for; the runner performs them (sign and publish policies). */
export type RolloutAction =
  | { kind: 'move'; devices: string[] }
  | { kind: 'restore'; devices: string[] }
  | { kind: 'complete' };

export function createRollout(
  id: string,
  spec: RolloutSpec,
  devices: readonly string[],
  now: Date,
  warnings: string[] = [],
): Rollout {
  const plan = planWaves(devices, spec.waves);
  return {
    id,
    spec,
    state: 'RUNNING',
    reason: null,
    createdAt: now.toISOString(),
    currentWave: -1,
    waves: plan.waves.map((d) => ({ devices: d, startedAt: null, finishedAt: null })),
    devices: Object.fromEntries(devices.map((d) => [d, { status: 'PENDING' as const }])),
    warnings: [...plan.warnings, ...warnings],
  };
}

/** What one device says about the rollout's package, or undefined when it has said nothing yet. */
export type Observation = ProgramReport | undefined;

/** Errors that say nothing about the version (registry or network down): the device retries, the wave waits. */
const TRANSIENT = new Set(['FETCH_FAILED', 'INDEX_UNAVAILABLE', 'REGISTRY_UNAVAILABLE']);

function judge(spec: RolloutSpec, report: Observation): DeviceRolloutStatus | null {
  if (!report) return null;
  if (report.status === 'ATTACHED' && report.version === spec.version && !report.lastError)
    return 'SUCCEEDED';
  if (report.lastError && TRANSIENT.has(report.lastError.code)) return null;
  const aboutTarget = report.wanted === spec.version || report.version === spec.version;
  if (aboutTarget && ['FAILED', 'REJECTED', 'ROLLED_BACK'].includes(report.status)) return 'FAILED';
  return null;
}

/**
 * One step: judge the running wave from the devices' reports, then advance, complete or abort.
 * Returns the new rollout (the input is not changed) and the actions to perform.
 */
export function stepRollout(
  rollout: Rollout,
  observe: (device: string) => Observation,
  now: Date,
  online: (device: string) => boolean = () => true,
): { rollout: Rollout; actions: RolloutAction[] } {
  if (rollout.state !== 'RUNNING') return { rollout, actions: [] };
  const next: Rollout = structuredClone(rollout);
  const actions: RolloutAction[] = [];
  const wave = next.waves[next.currentWave];
  if (wave) {
    const deadline = Date.parse(wave.startedAt ?? next.createdAt) + next.spec.waveTimeoutMs;
    for (const device of wave.devices) {
      const entry = next.devices[device]!;
      if (entry.status !== 'IN_PROGRESS') continue;
      const verdict = judge(next.spec, observe(device));
      if (verdict) {
        entry.status = verdict;
        const lastError = observe(device)?.lastError;
        if (verdict === 'FAILED' && lastError) entry.detail = `${lastError.code}: ${lastError.message}`;
      } else if (now.getTime() >= deadline) {
        // A device that went silent after its wave started may have been broken by the version: a failure.
        // One that was already offline says nothing about the version, and must not abort the whole group.
        entry.status = entry.offlineAtStart ? 'UNREACHABLE' : 'TIMED_OUT';
        entry.detail = entry.offlineAtStart
          ? `offline when its wave started and no report for ${next.spec.version} within ${formatDuration(next.spec.waveTimeoutMs)}; not counted as a failure`
          : `no ATTACHED report for ${next.spec.version} within ${formatDuration(next.spec.waveTimeoutMs)}`;
      }
    }
    const moved = next.waves.slice(0, next.currentWave + 1).flatMap((w) => w.devices);
    const failed = moved.filter((d) => ['FAILED', 'TIMED_OUT'].includes(next.devices[d]!.status));
    if (failed.length > next.spec.failureThreshold * moved.length) {
      next.state = 'ABORTED';
      next.reason = `${failed.length} of ${moved.length} devices failed or timed out (threshold ${next.spec.failureThreshold * 100}%)`;
      // Failures keep their status (and detail) for the record; everyone else moved is restored.
      for (const d of moved) {
        const entry = next.devices[d]!;
        if (!['FAILED', 'TIMED_OUT', 'UNREACHABLE'].includes(entry.status)) entry.status = 'RESTORED';
      }
      actions.push({ kind: 'restore', devices: moved });
      return { rollout: next, actions };
    }
    if (wave.devices.some((d) => next.devices[d]!.status === 'IN_PROGRESS'))
      return { rollout: next, actions };
    wave.finishedAt = now.toISOString();
  }
  const upcoming = next.waves[next.currentWave + 1];
  if (!upcoming) {
    next.state = 'COMPLETED';
    actions.push({ kind: 'complete' });
    return { rollout: next, actions };
  }
  next.currentWave += 1;
  upcoming.startedAt = now.toISOString();
  for (const d of upcoming.devices) {
    const entry = next.devices[d]!;
    entry.status = 'IN_PROGRESS';
    entry.offlineAtStart = !online(d);
  }
  actions.push({ kind: 'move', devices: upcoming.devices });
  return { rollout: next, actions };
}
