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

function setup(o: { host?: string; failed?: unknown; loader?: FakeLoader } = {}) {
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

test('a rename on the same hook hands over: no detach of the old id, no gap', async () => {
  const t = setup();
  t.setWanted([
    { id: 'fw', package: 'acme/count', version: '1.0.0', attach: { interface: 'wan0' }, source: 'x' },
  ]);
  await t.agent.reconcile();
  t.setWanted([
    { id: 'fw2', package: 'acme/count', version: '1.0.0', attach: { interface: 'wan0' }, source: 'x' },
  ]);
  await t.agent.reconcile();
  assert.deepEqual(t.loader.calls, ['attach fw 1.0.0', 'handover fw->fw2 1.0.0']);
  assert.deepEqual([...t.loader.live.keys()], ['fw2']);
  assert.deepEqual(
    t.reports().map((r) => [r.id, r.status]),
    [['fw2', 'ATTACHED']],
  );
});

test('a rename whose new version fails keeps the old id running, reported ROLLED_BACK, until fixed', async () => {
  const t = setup();
  t.setWanted([
    { id: 'fw', package: 'acme/count', version: '1.0.0', attach: { interface: 'wan0' }, source: 'x' },
  ]);
  await t.agent.reconcile();
  t.rejected.add('1.1.0');
  t.setWanted([
    { id: 'fw2', package: 'acme/count', version: '1.1.0', attach: { interface: 'wan0' }, source: 'x' },
  ]);
  await t.agent.reconcile();
  await t.agent.reconcile();
  assert.deepEqual(t.loader.calls, ['attach fw 1.0.0'], 'refused before the loader; fw never detached');
  const r = t.reports()[0]!;
  assert.deepEqual(
    [r.id, r.status, r.version, r.lastError?.code],
    ['fw2', 'ROLLED_BACK', '1.0.0', 'DIGEST_MISMATCH'],
  );
  t.setWanted([
    { id: 'fw2', package: 'acme/count', version: '1.2.0', attach: { interface: 'wan0' }, source: 'x' },
  ]);
  await t.agent.reconcile();
  assert.equal(t.loader.calls.at(-1), 'handover fw->fw2 1.2.0');
});

test('another interface: attached there first, then the old detached, then handed to its own id', async () => {
  const t = setup();
  t.setWanted([
    { id: 'fw', package: 'acme/count', version: '1.0.0', attach: { interface: 'wan0' }, source: 'x' },
  ]);
  await t.agent.reconcile();
  t.setWanted([
    { id: 'fw', package: 'acme/count', version: '1.0.0', attach: { interface: 'wan1' }, source: 'x' },
  ]);
  await t.agent.reconcile();
  assert.deepEqual(t.loader.calls, [
    'attach fw 1.0.0',
    'attach fw-NEXT 1.0.0',
    'detach fw',
    'handover fw-NEXT->fw 1.0.0',
  ]);
  assert.deepEqual(
    [...t.loader.live.values()].map((d) => [d.id, d.attach.interface]),
    [['fw', 'wan1']],
  );
  assert.equal(t.reports()[0]?.status, 'ATTACHED');
});

test('drift: reported DRIFTED with its reason while waiting, ATTACHED again once repaired; clean checks stay quiet', async () => {
  const t = setup();
  await t.agent.reconcile();
  let reported = 0;
  const before = t.events.length;
  await t.agent.checkKernel();
  assert.equal(t.events.length, before, 'a clean check emits nothing');
  const gone = { code: 'DRIFT_TARGET_MISSING', message: 'check count: interface wan0 is gone' };
  t.loader.kernel = [{ id: 'count', drift: gone, outcome: 'waiting' }];
  await t.agent.checkKernel();
  await t.agent.checkKernel();
  assert.deepEqual(t.events.slice(before), [['DRIFTED', 'DRIFT_TARGET_MISSING']], 'announced once');
  assert.equal(t.reports()[0]?.status, 'DRIFTED');
  assert.equal(t.reports()[0]?.lastError?.code, 'DRIFT_TARGET_MISSING');
  reported = t.events.length;
  t.loader.kernel = [{ id: 'count', drift: gone, outcome: 'repaired' }];
  await t.agent.checkKernel();
  assert.deepEqual(
    t.events.slice(reported),
    [['ATTACHED', undefined]],
    'the drift was announced while it waited',
  );
  assert.equal(t.reports()[0]?.status, 'ATTACHED');
  assert.equal(t.reports()[0]?.lastError, undefined);
  assert.deepEqual(
    t.loader.calls,
    ['attach count 1.0.0'],
    'the loader repaired it; the agent loaded nothing',
  );
});

test('drift with nothing to repair from: detached and deployed again in the same pass', async () => {
  const t = setup();
  await t.agent.reconcile();
  t.loader.kernel = [{ id: 'count', drift: { code: 'DRIFT_DETACHED', message: 'm' }, outcome: 'redeploy' }];
  await t.agent.checkKernel();
  t.loader.kernel = undefined;
  assert.deepEqual(t.loader.calls, ['attach count 1.0.0', 'detach count', 'attach count 1.0.0']);
  assert.equal(t.reports()[0]?.status, 'ATTACHED');
  assert.deepEqual(
    t.events.slice(-5).map(([s]) => s),
    ['DRIFTED', 'QUEUED', 'DOWNLOADING', 'VERIFYING', 'ATTACHED'],
  );
});

test('a busy hook is retried with backoff, not marked forever', async () => {
  const t = setup();
  t.loader.failAttachWith = new BpfleetError('XDP_BUSY', 'attach count: wan0 already has an XDP program');
  await t.agent.reconcile();
  assert.equal(t.reports()[0]?.status, 'FAILED');
  assert.equal(t.agent.retrySoon, true);
  t.loader.failAttachWith = undefined;
  await t.agent.reconcile();
  assert.equal(t.loader.calls.length, 1, 'not before the backoff ends');
  t.clock.now += 2_001;
  await t.agent.reconcile();
  assert.equal(t.loader.calls.length, 2);
  assert.equal(t.reports()[0]?.status, 'ATTACHED');
  assert.deepEqual(t.marks(), {}, 'a success forgets the mark');
});

test('a host-dependent failure is tried again on another host fingerprint (new kernel, capabilities)', async () => {
  const t = setup();
  t.loader.failAttachWith = new BpfleetError('LOAD_EPERM', 'load count: EPERM');
  await t.agent.reconcile();
  t.clock.now += 3_600_000;
  await t.agent.reconcile();
  assert.equal(t.loader.calls.length, 1, 'a lasting failure waits on this host');
  const saved = JSON.parse(JSON.stringify(t.marks()));
  const same = setup({ host: 'host-a', failed: saved });
  await same.agent.reconcile();
  assert.deepEqual(same.loader.calls, [], 'the restarted agent on the same host remembers');
  const upgraded = setup({ host: 'host-b', failed: saved });
  await upgraded.agent.reconcile();
  assert.deepEqual(upgraded.loader.calls, ['attach count 1.0.0']);
  assert.equal(upgraded.reports()[0]?.status, 'ATTACHED');
});

test('stop cancels the pass: the download in flight is cut, nothing is marked or reported failed', async () => {
  const t = setup();
  t.fetches.hold = true;
  const pass = t.agent.reconcile();
  while (t.fetches.signals.length === 0) await new Promise((r) => setImmediate(r));
  await t.agent.stop();
  await pass;
  assert.equal(t.fetches.signals[0]?.aborted, true);
  assert.deepEqual(t.loader.calls, []);
  assert.deepEqual(t.marks(), {});
  assert.ok(!t.events.some(([s]) => s === 'FAILED'));
  await t.agent.reconcile();
  assert.equal(t.fetches.signals.length, 1, 'no pass after stop');
});
