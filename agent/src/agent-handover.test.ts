// The agent loop: renames handed over without a gap, drift repaired, busy hooks, host fingerprints, stop (ports faked).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BpfleetError } from '@bpfleet/sdk/errors';
import { setup } from './testing/agent-harness.js';

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
