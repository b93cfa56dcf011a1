// The fleet at the edge's /metrics: devices by presence, deployments by package, version and status, rollouts.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DeviceRecord } from './fleet-store.js';
import type { Rollout } from './rollouts/rollout.js';

export interface FleetMetricsSource {
  devices(): DeviceRecord[];
  rollouts(): Rollout[];
  /** Passes the rollout runner has finished (each looks at every running rollout). */
  rolloutPasses?(): number;
}

/** Rollouts still moving devices: finished ones keep only their count by state (cardinality stays bounded). */
const ACTIVE = new Set(['RUNNING', 'PAUSED']);

/**
 * Gauges computed at each scrape from the store. No series is per device: labels are presence, package,
 * version, status and (for active rollouts only) the rollout id.
 */
export function registerFleetMetrics(registry: Registry, source: FleetMetricsSource): void {
  new Gauge({
    name: 'bpfleet_edge_devices',
    help: 'Registered devices by presence (online, offline, unknown: never seen) and whether they are disabled',
    labelNames: ['presence', 'disabled'],
    registers: [registry],
    collect() {
      this.reset();
      for (const presence of ['online', 'offline', 'unknown']) {
        for (const disabled of ['false', 'true']) this.set({ presence, disabled }, 0);
      }
      for (const d of source.devices()) this.inc({ presence: d.presence, disabled: String(d.disabled) });
    },
  });
  new Gauge({
    name: 'bpfleet_edge_deployments',
    help: 'Programs the devices report, by package, version and status (ATTACHED, FAILED, DRIFTED, …)',
    labelNames: ['package', 'version', 'status'],
    registers: [registry],
    collect() {
      this.reset();
      for (const d of source.devices()) {
        for (const p of d.reported?.programs ?? [])
          this.inc({ package: p.package, version: p.version, status: p.status });
      }
    },
  });
  new Counter({
    name: 'bpfleet_edge_rollout_passes_total',
    help: 'Passes of the rollout runner over every running rollout (on its timer and on device reports)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(source.rolloutPasses?.() ?? 0);
    },
  });
  new Gauge({
    name: 'bpfleet_edge_rollouts',
    help: 'Rollouts by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const state of ['RUNNING', 'PAUSED', 'COMPLETED', 'ABORTED']) this.set({ state }, 0);
      for (const r of source.rollouts()) this.inc({ state: r.state });
    },
  });
  new Gauge({
    name: 'bpfleet_edge_rollout_devices',
    help: 'Devices of each running or paused rollout by their status in it (PENDING, IN_PROGRESS, SUCCEEDED, …)',
    labelNames: ['rollout', 'package', 'version', 'status'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of source.rollouts()) {
        if (!ACTIVE.has(r.state)) continue;
        const base = { rollout: r.id, package: r.spec.package, version: r.spec.version };
        for (const entry of Object.values(r.devices)) this.inc({ ...base, status: entry.status });
      }
    },
  });
  new Gauge({
    name: 'bpfleet_edge_rollout_progress_ratio',
    help: 'Share of the devices of a running or paused rollout that have finished (succeeded, failed, timed out, …)',
    labelNames: ['rollout', 'package', 'version'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of source.rollouts()) {
        if (!ACTIVE.has(r.state)) continue;
        const all = Object.values(r.devices);
        const done = all.filter((e) => e.status !== 'PENDING' && e.status !== 'IN_PROGRESS').length;
        this.set(
          { rollout: r.id, package: r.spec.package, version: r.spec.version },
          all.length ? done / all.length : 0,
        );
      }
    },
  });
}
