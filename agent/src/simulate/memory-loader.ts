// An in-memory Loader: simulated devices and tests of the loop; records calls, keeps "pins" across a restart.
import { BpfError } from '@bpfleet/sdk/errors';
import { deploymentRecord, specEntryCounts } from '../deployments/deployment-record.js';
import type { Deployment, DeploySpec, KernelCheck, Loader, ProgramMetric } from '../ports.js';
import type { Reason } from '../reporting/report.js';

export interface MemoryLoaderOptions {
  /**
   * Versions this device's "kernel" refuses to load, as a verifier or missing helper would on real hardware:
   * attach and upgrade to them throw before anything changes, so the agent reports FAILED or ROLLED_BACK.
   */
  rejectVersions?: ReadonlySet<string>;
}

export class MemoryLoader implements Loader {
  /** Kernel changes behind the agent's back, as the next checks report them (see `drift`). */
  private readonly drifts = new Map<string, Required<KernelCheck>>();

  constructor(
    readonly live = new Map<string, Deployment>(),
    readonly calls: string[] = [],
    private readonly options: MemoryLoaderOptions = {},
  ) {}

  /** The same pins seen by a new agent process. */
  restart(): MemoryLoader {
    return new MemoryLoader(this.live, this.calls, this.options);
  }

  async adopt(): Promise<Deployment[]> {
    return [...this.live.values()];
  }

  async attach(spec: DeploySpec): Promise<Deployment> {
    this.calls.push(`attach ${spec.id} ${spec.pkg.ref.version}`);
    this.refuse(spec);
    return this.put(spec);
  }

  async upgrade(current: Deployment, spec: DeploySpec): Promise<Deployment> {
    this.calls.push(`upgrade ${spec.id} ${current.version}->${spec.pkg.ref.version}`);
    this.refuse(spec);
    return this.put(spec);
  }

  async updateMaps(current: Deployment, spec: DeploySpec): Promise<Deployment> {
    this.calls.push(`update maps ${spec.id} ${current.version}`);
    return this.put(spec);
  }

  async detach(id: string): Promise<void> {
    this.calls.push(`detach ${id}`);
    this.live.delete(id);
  }

  async handover(from: Deployment, spec: DeploySpec): Promise<Deployment> {
    this.calls.push(`handover ${from.id}->${spec.id} ${spec.pkg.ref.version}`);
    this.refuse(spec);
    const d = this.put(spec);
    this.live.delete(from.id);
    return d;
  }

  /**
   * Simulates a kernel change behind the agent's back: the next check reports it with `outcome`. `repaired` is
   * reported once; `waiting` until `undrift(id)` (the interface is back: the check after reports it repaired);
   * `redeploy` once, with the deployment gone from the "kernel".
   */
  drift(id: string, drift: Reason, outcome: 'repaired' | 'waiting' | 'redeploy'): void {
    this.drifts.set(id, { id, drift, outcome });
  }

  undrift(id: string): void {
    const d = this.drifts.get(id);
    if (d) this.drifts.set(id, { ...d, outcome: 'repaired' });
  }

  async check(): Promise<KernelCheck[]> {
    return [...this.live.keys()].map((id) => {
      const d = this.drifts.get(id);
      if (!d) return { id };
      if (d.outcome !== 'waiting') this.drifts.delete(id);
      if (d.outcome === 'redeploy') this.live.delete(id);
      this.calls.push(`check ${id} ${d.drift.code} ${d.outcome}`);
      return d;
    });
  }

  async metrics(): Promise<ProgramMetric[]> {
    return [...this.live.keys()].map((id) => ({
      deployment: id,
      map: 'stats',
      name: 'packets',
      key: '',
      value: 1,
    }));
  }

  private refuse(spec: DeploySpec): void {
    const { package: name, version } = spec.pkg.ref;
    if (this.options.rejectVersions?.has(version))
      throw new BpfError('LOAD_FAILED', `load ${name}@${version}: refused by this simulated device`);
  }

  private put(spec: DeploySpec): Deployment {
    const d = deploymentRecord(spec, specEntryCounts(spec));
    this.live.set(d.id, d);
    return d;
  }
}
