// An in-memory Loader: simulated devices and tests of the loop; records calls, keeps "pins" across a restart.
import type { Deployment, DeploySpec, Loader, ProgramMetric } from '../ports.js';

export class MemoryLoader implements Loader {
  constructor(
    readonly live = new Map<string, Deployment>(),
    readonly calls: string[] = [],
  ) {}

  /** The same pins seen by a new agent process. */
  restart(): MemoryLoader {
    return new MemoryLoader(this.live, this.calls);
  }

  async adopt(): Promise<Deployment[]> {
    return [...this.live.values()];
  }

  async attach(spec: DeploySpec): Promise<Deployment> {
    this.calls.push(`attach ${spec.id} ${spec.pkg.ref.version}`);
    return this.put(spec);
  }

  async upgrade(current: Deployment, spec: DeploySpec): Promise<Deployment> {
    this.calls.push(`upgrade ${spec.id} ${current.version}->${spec.pkg.ref.version}`);
    return this.put(spec);
  }

  async detach(id: string): Promise<void> {
    this.calls.push(`detach ${id}`);
    this.live.delete(id);
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

  private put(spec: DeploySpec): Deployment {
    const d: Deployment = {
      id: spec.id,
      package: spec.pkg.ref.package,
      version: spec.pkg.ref.version,
      digest: spec.pkg.ref.digest,
      attach: spec.attach,
      configDigest: spec.configDigest,
    };
    this.live.set(d.id, d);
    return d;
  }
}
