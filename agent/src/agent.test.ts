import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BpfleetError, TrustError, VerifierError } from '@bpfleet/sdk/errors';
import { Agent, configDigestOf } from './agent.js';
import { deploymentRecord, specEntryCounts } from './deployments/deployment-record.js';
import { silentLogger } from './logger.js';
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
} from './ports.js';
import type { EventState, ProgramReport } from './reporting/report.js';

// Fakes for the ports: the loop's logic is under test here; the real parts have their own end-to-end tests.
class FakeLoader implements Loader {
  pinned: Deployment[] = [];
  live = new Map<string, Deployment>();
  calls: string[] = [];
  failUpgradeWith: Error | undefined;
  inFlight = 0;
  maxInFlight = 0;

  async adopt(): Promise<Deployment[]> {
    for (const d of this.pinned) this.live.set(d.id, d);
    return this.pinned;
  }
  async attach(spec: DeploySpec): Promise<Deployment> {
    return this.track(`attach ${spec.id} ${spec.pkg.ref.version}`, () => this.put(spec));
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
    return [...this.live.keys()].map((id) => ({ id }));
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

function ref(version: string): PackageRef {
  return {
    package: 'acme/count',
    version,
    digest: `sha256:${version.replace(/\./g, '').padStart(64, '0')}`,
    size: 10,
  };
}

/** What the fake verifier hands over: a package with one policy-managed map. */
const MANIFEST = {
  name: 'acme/count',
  version: '1.0.0',
  license: 'GPL',
  programs: [{ name: 'count' }],
  maps: { allow: { entries: 'policy', layout: { key: 'ipv4', value: 'u8' } }, stats: {} },
  requires: { arches: ['x86'] },
};

function setup() {
  let wanted: WantedProgram[] = [
    { id: 'count', package: 'acme/count', channel: 'stable', source: 'device:d1' },
  ];
  const channel = { stable: '1.0.0' };
  const loader = new FakeLoader();
  const events: Array<[EventState, string | undefined]> = [];
  const fetchFailures: string[] = [];
  const rejected = new Set<string>();
  let reports: ProgramReport[] = [];
  let marks: Record<string, unknown> = {};
  const agent = new Agent({
    logger: silentLogger,
    allow: { interfaces: ['wan0'], cgroups: ['/sys/fs/cgroup/apps'] },
    policies: { ready: () => true, wanted: () => wanted },
    index: { resolve: async (_pkg, sel) => ref(sel.channel ? channel.stable : sel.version!) },
    fetcher: {
      fetch: async (r): Promise<Artifact> => {
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
    probe: { missing: async () => [] },
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

test('attaches what is wanted once; further passes change nothing', async () => {
  const t = setup();
  await t.agent.reconcile();
  await t.agent.reconcile();
  assert.deepEqual(t.loader.calls, ['attach count 1.0.0']);
  assert.deepEqual(
    t.events.map(([s]) => s),
    ['QUEUED', 'DOWNLOADING', 'VERIFYING', 'ATTACHED'],
  );
  assert.equal(t.reports()[0]?.status, 'ATTACHED');
  assert.equal(t.reports()[0]?.version, '1.0.0');
});

test('follows the channel with an in-place upgrade', async () => {
  const t = setup();
  await t.agent.reconcile();
  t.channel.stable = '1.1.0';
  await t.agent.reconcile();
  assert.deepEqual(t.loader.calls, ['attach count 1.0.0', 'upgrade count 1.0.0->1.1.0']);
  assert.equal(t.reports()[0]?.version, '1.1.0');
});

test('a failed upgrade keeps the old version, is reported and not retried', async () => {
  const t = setup();
  await t.agent.reconcile();
  t.channel.stable = '1.2.0';
  t.loader.failUpgradeWith = new VerifierError(
    'count',
    'load count: verifier rejected: R1 invalid mem access',
    'log',
  );
  await t.agent.reconcile();
  await t.agent.reconcile();
  assert.deepEqual(t.loader.calls, ['attach count 1.0.0', 'upgrade count 1.0.0->1.2.0']);
  const r = t.reports()[0]!;
  assert.equal(r.status, 'ROLLED_BACK');
  assert.equal(r.version, '1.0.0');
  assert.equal(r.lastError?.code, 'VERIFIER_REJECTED');
  assert.deepEqual(t.events.at(-1), ['ROLLED_BACK', 'VERIFIER_REJECTED']);
  assert.equal(Object.keys(t.marks()).length, 1);
});

test('a package that fails verification is rejected and nothing is attached', async () => {
  const t = setup();
  t.rejected.add('1.0.0');
  await t.agent.reconcile();
  assert.deepEqual(t.loader.calls, []);
  assert.equal(t.reports()[0]?.status, 'REJECTED');
  assert.deepEqual(t.events.at(-1), ['REJECTED', 'DIGEST_MISMATCH']);
});

test('a failed download is retried on the next pass, never marked', async () => {
  const t = setup();
  t.fetchFailures.push('fetch acme/count@1.0.0: connection refused');
  await t.agent.reconcile();
  assert.equal(t.reports()[0]?.status, 'FAILED');
  assert.equal(t.agent.retrySoon, true, 'a passing failure asks for an early pass');
  await t.agent.reconcile();
  assert.deepEqual(t.loader.calls, ['attach count 1.0.0']);
  assert.deepEqual(t.marks(), {});
  assert.equal(t.agent.retrySoon, false);
});

test('only passing failures ask for an early pass, not a refused package', async () => {
  const t = setup();
  t.rejected.add('1.0.0');
  await t.agent.reconcile();
  assert.equal(t.reports()[0]?.status, 'REJECTED');
  assert.equal(t.agent.retrySoon, false);
});

test('programs no longer wanted are detached; attach points outside the allowlist are refused', async () => {
  const t = setup();
  await t.agent.reconcile();
  t.setWanted([
    { id: 'fw', package: 'acme/count', version: '1.0.0', attach: { interface: 'eth9' }, source: 'x' },
  ]);
  await t.agent.reconcile();
  assert.deepEqual(t.loader.calls, ['attach count 1.0.0', 'detach count']);
  assert.equal(t.reports()[0]?.status, 'REJECTED');
  assert.equal(t.reports()[0]?.lastError?.code, 'ATTACH_NOT_ALLOWED');
  assert.equal(t.loader.live.size, 0);
});

test('adopts pinned deployments instead of attaching again', async () => {
  const t = setup();
  const r = ref('1.0.0');
  t.loader.pinned = [
    {
      id: 'count',
      package: r.package,
      version: r.version,
      digest: r.digest,
      attach: {},
      configDigest: configDigestOf({}),
    },
  ];
  await t.agent.reconcile();
  assert.deepEqual(t.loader.calls, []);
  assert.equal(t.reports()[0]?.status, 'ATTACHED');
});

test('passes never overlap, and calls while one waits share it', async () => {
  const t = setup();
  const wanted = Array.from({ length: 5 }, (_, i) => ({
    id: `p${i}`,
    package: 'acme/count',
    version: '1.0.0',
    source: 'x',
  }));
  t.setWanted(wanted);
  const calls = [t.agent.reconcile(), t.agent.reconcile(), t.agent.reconcile()];
  assert.equal(calls[1], calls[2]);
  await Promise.all(calls);
  assert.equal(t.loader.maxInFlight, 1);
  assert.equal(t.loader.calls.length, 5);
});

test('an entries-only change rewrites the maps without a reload; bad entries keep what runs', async () => {
  const t = setup();
  const want = (maps?: WantedProgram['maps']): WantedProgram[] => [
    { id: 'count', package: 'acme/count', version: '1.0.0', source: 'device:d1', ...(maps ? { maps } : {}) },
  ];
  t.setWanted(want());
  await t.agent.reconcile();
  assert.deepEqual(t.reports()[0]?.maps, { allow: 0 }, 'a policy-managed map the policy leaves out is empty');
  t.setWanted(want({ allow: [{ key: '198.19.0.2', value: 1 }] }));
  await t.agent.reconcile();
  await t.agent.reconcile();
  assert.deepEqual(t.loader.calls, ['attach count 1.0.0', 'update maps count 1.0.0']);
  assert.equal(t.reports()[0]?.status, 'ATTACHED');
  assert.deepEqual(t.reports()[0]?.maps, { allow: 1 });

  t.setWanted(want({ allow: [{ key: '198.19.0.300', value: 1 }] }));
  await t.agent.reconcile();
  await t.agent.reconcile();
  assert.equal(t.loader.calls.length, 2, 'refused before the loader, and not retried');
  const r = t.reports()[0]!;
  assert.equal(r.status, 'ROLLED_BACK');
  assert.deepEqual(r.maps, { allow: 1 }, 'the running entries are kept');
  assert.equal(r.lastError?.code, 'INVALID_VALUE');
  assert.match(
    r.lastError?.message ?? '',
    /^deploy count acme\/count@1\.0\.0: policy maps\.allow\[0\]\.key: expected a dotted IPv4 address/,
  );
  t.setWanted(want({ stats: [{ key: 1, value: 1 }] }));
  await t.agent.reconcile();
  assert.equal(t.reports()[0]?.lastError?.code, 'MAP_NOT_POLICY_MANAGED');

  // The operator fixes the list: a new digest, so the mark of the bad one does not hold it back.
  t.setWanted(want({ allow: [{ key: '198.19.0.3', value: 1 }] }));
  await t.agent.reconcile();
  assert.equal(t.loader.calls.at(-1), 'update maps count 1.0.0');
  assert.equal(t.reports()[0]?.status, 'ATTACHED');
});

test('a new deployment with entries the package cannot take fails and attaches nothing', async () => {
  const t = setup();
  t.setWanted([
    {
      id: 'count',
      package: 'acme/count',
      version: '1.0.0',
      source: 'x',
      maps: { nope: [{ key: 1, value: 1 }] },
    },
  ]);
  await t.agent.reconcile();
  assert.deepEqual(t.loader.calls, []);
  assert.equal(t.reports()[0]?.status, 'FAILED');
  assert.equal(t.reports()[0]?.lastError?.code, 'MAP_UNKNOWN');
});
