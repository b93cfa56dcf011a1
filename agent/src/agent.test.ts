// The agent loop: attach, follow channels, upgrade, refuse, retry, adopt, map entries (ports faked).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VerifierError } from '@bpfleet/sdk/errors';
import { configDigestOf } from './agent.js';
import type { WantedProgram } from './ports.js';
import { ref, setup } from './testing/agent-harness.js';

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
