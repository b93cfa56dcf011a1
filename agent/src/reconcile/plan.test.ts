import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Deployment, KernelCheck, PackageRef, WantedProgram } from '../ports.js';
import type { ProgramReport } from '../reporting/report.js';
import { configDigestOf } from './digests.js';
import { FailureMarks } from './failure-marks.js';
import { type Action, type PlanInput, planReconcile, type Resolution } from './plan.js';

// The plan is data: every case is an input and the actions it yields, no I/O and no fakes.

const NOW = Date.parse('2026-11-27T10:00:00Z');

function ref(version: string, pkg = 'acme/fw'): PackageRef {
  return { package: pkg, version, digest: `sha256:${pkg}@${version}`, size: 1 };
}

function want(id: string, version: string, extra: Partial<WantedProgram> = {}): WantedProgram {
  return { id, package: 'acme/fw', version, attach: { interface: 'wan0' }, source: 'device:d1', ...extra };
}

function running(id: string, version: string, extra: Partial<Deployment> = {}): Deployment {
  const r = ref(version, extra.package);
  return {
    id,
    package: r.package,
    version,
    digest: r.digest,
    attach: { interface: 'wan0' },
    configDigest: configDigestOf({}),
    ...extra,
  };
}

function plan(o: {
  wanted?: WantedProgram[] | undefined;
  running?: Deployment[];
  kernel?: KernelCheck[];
  resolved?: Record<string, Resolution>;
  marks?: FailureMarks;
  reported?: ProgramReport[];
}): Action[] {
  const wanted = 'wanted' in o ? o.wanted : [];
  const resolved = new Map<string, Resolution>(Object.entries(o.resolved ?? {}));
  for (const w of wanted ?? [])
    if (!resolved.has(w.id) && !w.expired) resolved.set(w.id, { ref: ref(w.version!) });
  const input: PlanInput = {
    wanted,
    resolved,
    running: new Map((o.running ?? []).map((d) => [d.id, d])),
    kernel: o.kernel ?? [],
    marks: (s) => o.marks?.get(s),
    reported: new Map((o.reported ?? []).map((r) => [r.id, r])),
    allow: { interfaces: ['wan0', 'wan1'], cgroups: ['/sys/fs/cgroup/apps'] },
    now: NOW,
  };
  return planReconcile(input);
}

/** The actions in short: `kind id` (and `from` where one is replaced). */
function brief(actions: Action[]): string[] {
  return actions.map((a) => {
    if ('want' in a && 'from' in a) return `${a.kind} ${a.from.id}->${a.want.id} ${a.target.ref.version}`;
    if (a.kind === 'deploy') return `deploy ${a.want.id} ${a.target.ref.version}`;
    if (a.kind === 'report')
      return `report ${a.want.id} ${a.status}${a.reason ? ` ${a.reason.code}` : ''}${a.event ? ` !${a.event}` : ''}`;
    return `${a.kind} ${a.deployment.id}`;
  });
}

test('what is wanted and not running deploys; what runs as wanted is kept; what no policy names goes', () => {
  const actions = plan({
    wanted: [want('fw', '1.0.0'), want('count', '2.0.0', { package: 'acme/count', attach: {} })],
    running: [running('fw', '1.0.0'), running('old', '1.0.0', { package: 'acme/other' })],
    resolved: { count: { ref: ref('2.0.0', 'acme/count') } },
  });
  assert.deepEqual(brief(actions), ['report fw ATTACHED', 'deploy count 2.0.0', 'remove old']);
});

test('before any policy is known nothing is removed', () => {
  assert.deepEqual(brief(plan({ wanted: undefined, running: [running('fw', '1.0.0')] })), []);
});

test('a new version upgrades in place, new entries only rewrite maps, a mode change re-attaches', () => {
  assert.deepEqual(brief(plan({ wanted: [want('fw', '1.1.0')], running: [running('fw', '1.0.0')] })), [
    'upgrade fw->fw 1.1.0',
  ]);
  const maps = { allow: [{ key: '198.18.108.1', value: 1 }] };
  assert.deepEqual(
    brief(plan({ wanted: [want('fw', '1.0.0', { maps })], running: [running('fw', '1.0.0')] })),
    ['updateMaps fw->fw 1.0.0'],
  );
  const generic = want('fw', '1.0.0', { attach: { interface: 'wan0', mode: 'generic' } });
  assert.deepEqual(brief(plan({ wanted: [generic], running: [running('fw', '1.0.0')] })), [
    'reattach fw->fw 1.0.0',
  ]);
});

test('another interface moves make-before-break', () => {
  const moved = want('fw', '1.0.0', { attach: { interface: 'wan1' } });
  assert.deepEqual(brief(plan({ wanted: [moved], running: [running('fw', '1.0.0')] })), [
    'move fw->fw 1.0.0',
  ]);
});

test('a rename on the same hooks hands over from the old id, which is not removed', () => {
  const actions = plan({ wanted: [want('fw-v2', '1.1.0')], running: [running('fw', '1.0.0')] });
  assert.deepEqual(brief(actions), ['handover fw->fw-v2 1.1.0']);
  // Another package, or other hooks, is no rename: deploy the new, remove the old.
  const other = plan({
    wanted: [want('fw-v2', '1.1.0', { attach: { interface: 'wan1' } })],
    running: [running('fw', '1.0.0')],
  });
  assert.deepEqual(brief(other), ['deploy fw-v2 1.1.0', 'remove fw']);
  // Each running deployment is handed over once.
  const two = plan({ wanted: [want('a', '1.0.0'), want('b', '1.0.0')], running: [running('fw', '1.0.0')] });
  assert.deepEqual(brief(two), ['handover fw->a 1.0.0', 'deploy b 1.0.0']);
});

test('a rename whose version failed keeps the old id running in its place, reported ROLLED_BACK', () => {
  const marks = new FailureMarks({}, 'host-a');
  marks.record(
    { id: 'fw-v2', digest: ref('1.1.0').digest, configDigest: configDigestOf({}) },
    { code: 'VERIFIER_REJECTED', message: 'load: rejected' },
    NOW,
  );
  const actions = plan({ wanted: [want('fw-v2', '1.1.0')], running: [running('fw', '1.0.0')], marks });
  assert.deepEqual(brief(actions), ['report fw-v2 ROLLED_BACK VERIFIER_REJECTED !FAILED']);
  const report = actions[0] as Extract<Action, { kind: 'report' }>;
  assert.equal(report.running?.id, 'fw', 'the old deployment is what runs for it');
});

test('marks hold back the same attempt on the same id only; transient ones until their backoff ends', () => {
  const marks = new FailureMarks({}, 'host-a');
  const subject = { id: 'fw', digest: ref('1.0.0').digest, configDigest: configDigestOf({}) };
  marks.record(subject, { code: 'XDP_BUSY', message: 'attach fw: wan0 busy' }, NOW - 1000);
  assert.deepEqual(brief(plan({ wanted: [want('fw', '1.0.0')], marks })), [
    'report fw FAILED XDP_BUSY !FAILED',
  ]);
  const held = plan({ wanted: [want('fw', '1.0.0')], marks })[0] as Extract<Action, { kind: 'report' }>;
  assert.equal(held.transient, true, 'a transient mark asks for an early pass');
  // Same package and version under another id: not held back by fw's mark.
  assert.deepEqual(brief(plan({ wanted: [want('fw2', '1.0.0')], marks })), ['deploy fw2 1.0.0']);
  // Once the backoff passed, tried again.
  const later = new FailureMarks(marks.toRecord(), 'host-a');
  const mark = later.get(subject)!;
  const input = { wanted: [want('fw', '1.0.0')], marks: later };
  assert.ok(Date.parse(mark.retryAt!) - (NOW - 1000) === 2000, 'first retry after 2 s');
  const actions = planReconcile({
    ...basicInput(input.wanted),
    marks: (s) => later.get(s),
    now: Date.parse(mark.retryAt!) + 1,
  });
  assert.deepEqual(brief(actions), ['deploy fw 1.0.0']);
});

function basicInput(wanted: WantedProgram[]): PlanInput {
  return {
    wanted,
    resolved: new Map(wanted.map((w) => [w.id, { ref: ref(w.version!) }])),
    running: new Map(),
    kernel: [],
    marks: () => undefined,
    reported: new Map(),
    allow: { interfaces: ['wan0'], cgroups: [] },
    now: NOW,
  };
}

test('the reason is announced once: the same mark on the next pass emits no event', () => {
  const marks = new FailureMarks({}, 'h');
  const reason = { code: 'LOAD_EPERM', message: 'load fw: EPERM' };
  marks.record({ id: 'fw', digest: ref('1.0.0').digest, configDigest: configDigestOf({}) }, reason, NOW);
  const reported: ProgramReport = {
    id: 'fw',
    package: 'acme/fw',
    wanted: '1.0.0',
    source: 'device:d1',
    status: 'FAILED',
    lastError: reason,
  };
  assert.deepEqual(brief(plan({ wanted: [want('fw', '1.0.0')], marks, reported: [reported] })), [
    'report fw FAILED LOAD_EPERM',
  ]);
});

test('attach points outside the allow-list are refused before anything is fetched', () => {
  const actions = plan({ wanted: [want('fw', '1.0.0', { attach: { interface: 'eth9' } })] });
  assert.deepEqual(brief(actions), ['report fw REJECTED ATTACH_NOT_ALLOWED !REJECTED']);
});

test('an index error keeps what runs and asks for an early pass', () => {
  const error = { code: 'INDEX_UNAVAILABLE', message: 'index: connection refused' };
  const actions = plan({
    wanted: [want('fw', '1.1.0')],
    running: [running('fw', '1.0.0')],
    resolved: { fw: { error } },
  });
  assert.deepEqual(brief(actions), ['report fw ATTACHED INDEX_UNAVAILABLE !FAILED']);
  assert.equal((actions[0] as Extract<Action, { kind: 'report' }>).transient, true);
  // Nor is a deployment being renamed to the unresolved id removed meanwhile.
  const renaming = plan({
    wanted: [want('fw-v2', '1.1.0')],
    running: [running('fw', '1.0.0')],
    resolved: { 'fw-v2': { error } },
  });
  assert.deepEqual(brief(renaming), ['report fw-v2 PENDING INDEX_UNAVAILABLE !FAILED']);
});

const PIN_GONE = { code: 'DRIFT_PIN_MISSING', message: 'check fw: link pin xdp_fw is gone' };
const IF_GONE = { code: 'DRIFT_TARGET_MISSING', message: 'check fw: interface wan0 is gone' };

test('drift repaired by the loader: DRIFTED then ATTACHED, nothing else to do', () => {
  const actions = plan({
    wanted: [want('fw', '1.0.0')],
    running: [running('fw', '1.0.0')],
    kernel: [{ id: 'fw', drift: PIN_GONE, outcome: 'repaired' }],
  });
  assert.deepEqual(brief(actions), ['repaired fw', 'report fw ATTACHED']);
  assert.equal((actions[0] as Extract<Action, { kind: 'repaired' }>).announce, true);
});

test('drift waiting for its interface: DRIFTED until repaired, announced once, changes wait', () => {
  const kernel: KernelCheck[] = [{ id: 'fw', drift: IF_GONE, outcome: 'waiting' }];
  const first = plan({ wanted: [want('fw', '1.1.0')], running: [running('fw', '1.0.0')], kernel });
  assert.deepEqual(brief(first), ['drifted fw', 'report fw DRIFTED DRIFT_TARGET_MISSING']);
  assert.equal((first[0] as Extract<Action, { kind: 'drifted' }>).announce, true);
  const reported: ProgramReport = {
    id: 'fw',
    package: 'acme/fw',
    wanted: '1.1.0',
    source: 'device:d1',
    status: 'DRIFTED',
    lastError: IF_GONE,
  };
  const again = plan({
    wanted: [want('fw', '1.1.0')],
    running: [running('fw', '1.0.0')],
    kernel,
    reported: [reported],
  });
  assert.equal((again[0] as Extract<Action, { kind: 'drifted' }>).announce, false);
  // The kernel shows it attached again (without the loader saying it repaired it): ATTACHED is announced.
  const back = plan({
    wanted: [want('fw', '1.0.0')],
    running: [running('fw', '1.0.0')],
    reported: [reported],
  });
  assert.deepEqual(brief(back), ['report fw ATTACHED !ATTACHED']);
  // Repaired by the loader after it was announced as waiting: not announced again, only ATTACHED.
  const repaired = plan({
    wanted: [want('fw', '1.0.0')],
    running: [running('fw', '1.0.0')],
    kernel: [{ id: 'fw', drift: IF_GONE, outcome: 'repaired' }],
    reported: [reported],
  });
  assert.equal((repaired[0] as Extract<Action, { kind: 'repaired' }>).announce, false);
});

test('drift with nothing to repair from: the remains go and the same pass deploys it again', () => {
  const actions = plan({
    wanted: [want('fw', '1.0.0')],
    running: [running('fw', '1.0.0'), running('gone', '1.0.0', { package: 'acme/other' })],
    kernel: [
      { id: 'fw', drift: PIN_GONE, outcome: 'redeploy' },
      { id: 'gone', drift: PIN_GONE, outcome: 'redeploy' },
    ],
  });
  assert.deepEqual(brief(actions), ['redeploy fw', 'remove gone', 'deploy fw 1.0.0']);
  // Before any policy is known, nothing is detached: it stays DRIFTED.
  const unknown = plan({
    wanted: undefined,
    running: [running('fw', '1.0.0')],
    kernel: [{ id: 'fw', drift: PIN_GONE, outcome: 'redeploy' }],
  });
  assert.deepEqual(brief(unknown), ['drifted fw']);
});

test('an expired policy keeps what runs, deploys nothing new, and says so once', () => {
  const expired = {
    code: 'POLICY_EXPIRED' as const,
    message: 'policy device:d1 expired at 2026-11-27T09:00:00Z',
  };
  const actions = plan({ wanted: [want('fw', '1.1.0', { expired })], running: [running('fw', '1.0.0')] });
  assert.deepEqual(brief(actions), ['report fw ATTACHED POLICY_EXPIRED !POLICY_EXPIRED']);
  assert.equal((actions[0] as Extract<Action, { kind: 'report' }>).running?.version, '1.0.0');
  const fresh = plan({ wanted: [want('new', '1.0.0', { expired })] });
  assert.deepEqual(brief(fresh), ['report new PENDING POLICY_EXPIRED !POLICY_EXPIRED']);
  // Lost from the kernel: what ran is deployed again exactly as it was, and only that.
  const lost = plan({
    wanted: [want('fw', '1.0.0', { expired })],
    running: [running('fw', '1.0.0')],
    kernel: [{ id: 'fw', drift: PIN_GONE, outcome: 'redeploy' }],
    resolved: { fw: { ref: ref('1.0.0') } },
  });
  assert.deepEqual(brief(lost), ['redeploy fw', 'deploy fw 1.0.0']);
  const changed = plan({
    wanted: [want('fw', '1.0.0', { expired, config: { limit: 5 } })],
    running: [running('fw', '1.0.0')],
    kernel: [{ id: 'fw', drift: PIN_GONE, outcome: 'redeploy' }],
    resolved: { fw: { ref: ref('1.0.0') } },
  });
  assert.deepEqual(brief(changed), ['redeploy fw', 'report fw PENDING POLICY_EXPIRED !POLICY_EXPIRED']);
});
