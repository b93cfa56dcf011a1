// The agent loop with fakes for its ports: the loop's logic under test; the real parts have their own end-to-end tests.
import { BpfleetError, TrustError } from '@bpfleet/sdk/errors';
import { Agent } from '../agent.js';
import { deploymentRecord, specEntryCounts } from '../deployments/deployment-record.js';
import { silentLogger } from '../logger.js';
import type {
  Artifact,
  Deployment,
  DeploySpec,
  KernelCheck,
  Loader,
  PackageRef,
  ProgramMetric,
  VerifiedPackage,
  WantedProgram,
} from '../ports.js';
import type { EventState, ProgramReport } from '../reporting/report.js';

export class FakeLoader implements Loader {
  pinned: Deployment[] = [];
  live = new Map<string, Deployment>();
  calls: string[] = [];
  failUpgradeWith: Error | undefined;
  failAttachWith: Error | undefined;
  /** What the next checks report; absent: every deployment as recorded. */
  kernel: KernelCheck[] | undefined;
  checks = 0;
  inFlight = 0;
  maxInFlight = 0;

  async adopt(): Promise<Deployment[]> {
    for (const d of this.pinned) this.live.set(d.id, d);
    return this.pinned;
  }
  async attach(spec: DeploySpec): Promise<Deployment> {
    return this.track(`attach ${spec.id} ${spec.pkg.ref.version}`, () => {
      if (this.failAttachWith) throw this.failAttachWith;
      return this.put(spec);
    });
  }
  async upgrade(current: Deployment, spec: DeploySpec): Promise<Deployment> {
    return this.track(`upgrade ${spec.id} ${current.version}->${spec.pkg.ref.version}`, () => {
      if (this.failUpgradeWith) throw this.failUpgradeWith;
      return this.put(spec);
    });
  }
  async updateMaps(current: Deployment, spec: DeploySpec): Promise<Deployment> {
    return this.track(`update maps ${spec.id} ${current.version}`, () => this.put(spec));
  }
  async detach(id: string): Promise<void> {
    await this.track(`detach ${id}`, () => this.live.delete(id));
  }
  async handover(from: Deployment, spec: DeploySpec): Promise<Deployment> {
    return this.track(`handover ${from.id}->${spec.id} ${spec.pkg.ref.version}`, () => {
      const d = this.put(spec);
      this.live.delete(from.id);
      return d;
    });
  }
  async check(): Promise<KernelCheck[]> {
    this.checks++;
    return this.kernel ?? [...this.live.keys()].map((id) => ({ id }));
  }
  async metrics(): Promise<ProgramMetric[]> {
    return [];
  }
  private put(spec: DeploySpec): Deployment {
    const d = deploymentRecord(spec, specEntryCounts(spec));
    this.live.set(d.id, d);
    return d;
  }
  private async track<T>(call: string, fn: () => T): Promise<T> {
    this.calls.push(call);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setImmediate(r));
    try {
      return fn();
    } finally {
      this.inFlight--;
    }
  }
}

export function ref(version: string): PackageRef {
  return {
    package: 'acme/count',
    version,
    digest: `sha256:${version.replace(/\./g, '').padStart(64, '0')}`,
    size: 10,
  };
}

/** What the fake verifier hands over: a package with one policy-managed map. */
export const MANIFEST = {
  name: 'acme/count',
  version: '1.0.0',
  license: 'GPL',
  programs: [{ name: 'count' }],
  maps: { allow: { entries: 'policy', layout: { key: 'ipv4', value: 'u8' } }, stats: {} },
  requires: { arches: ['x86'] },
};

export function setup(o: { host?: string; failed?: unknown; loader?: FakeLoader } = {}) {
  let wanted: WantedProgram[] = [
    { id: 'count', package: 'acme/count', channel: 'stable', source: 'device:d1' },
  ];
  const channel = { stable: '1.0.0' };
  const loader = o.loader ?? new FakeLoader();
  const clock = { now: Date.parse('2026-11-27T10:00:00Z') };
  /** A fetch that waits here until the pass's signal aborts it (set `hold` to use it). */
  const fetches = { hold: false, signals: [] as AbortSignal[] };
  const events: Array<[EventState, string | undefined]> = [];
  const fetchFailures: string[] = [];
  const rejected = new Set<string>();
  let reports: ProgramReport[] = [];
  let marks: Record<string, unknown> = (o.failed as Record<string, unknown>) ?? {};
  const agent = new Agent({
    logger: silentLogger,
    allow: { interfaces: ['wan0', 'wan1'], cgroups: ['/sys/fs/cgroup/apps'] },
    failed: o.failed,
    now: () => new Date(clock.now),
    policies: { ready: () => true, wanted: () => wanted },
    index: { resolve: async (_pkg, sel) => ref(sel.channel ? channel.stable : sel.version!) },
    fetcher: {
      fetch: async (r, signal): Promise<Artifact> => {
        if (signal) fetches.signals.push(signal);
        if (fetches.hold) {
          await new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason)));
        }
        const failure = fetchFailures.shift();
        if (failure) throw new BpfleetError('FETCH_FAILED', failure);
        return { ref: r, archive: new Uint8Array(), bundle: {} };
      },
    },
    verifier: {
      verify: async (a): Promise<VerifiedPackage> => {
        if (rejected.has(a.ref.version))
          throw new TrustError('DIGEST_MISMATCH', `verify ${a.ref.version}: tampered`);
        return { ref: a.ref, manifestDigest: 'sha256:0', manifest: MANIFEST, contents: {} };
      },
    },
    probe: { missing: async () => [], fingerprint: () => o.host ?? 'host-a' },
    loader,
    onEvent: (state, f) => events.push([state, f.reason?.code]),
    onReport: (r) => {
      reports = r;
    },
    onMarksChanged: async (m) => {
      marks = m;
    },
  });
  return {
    agent,
    loader,
    events,
    clock,
    fetches,
    channel,
    fetchFailures,
    rejected,
    setWanted: (w: WantedProgram[]) => {
      wanted = w;
    },
    reports: () => reports,
    marks: () => marks,
  };
}
