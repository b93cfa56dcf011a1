// The runner over real SQLite stores: persistence across a restart, pause/resume/abort, failed actions retried.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { RegistryError } from '@bpfleet/sdk/errors';
import type { ReportedState } from '@bpfleet/sdk/protocol';
import Database from 'better-sqlite3';
import type { FleetStore } from '../fleet-store.js';
import { createSqliteFleetStore } from '../sqlite-fleet-store.js';
import type { Rollout, RolloutSpec } from './rollout.js';
import { createRolloutRunner, type RolloutActions } from './rollout-runner.js';
import { createSqliteRolloutStore } from './rollout-store.js';

const dir = mkdtempSync(join(tmpdir(), 'bpfleet-rollout-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const spec: RolloutSpec = {
  group: 'gw',
  package: 'acme/fw',
  version: '2.0.0',
  waves: [1, '75%', '100%'],
  waveTimeoutMs: 30_000,
  failureThreshold: 0.2,
};
let clock = new Date('2026-11-27T10:00:00Z');

/** Records what the runner asked for; `failNext` makes the next call fail like a broker outage. */
function recordingActions() {
  const calls: string[] = [];
  let failNext = false;
  const record = async (entry: string) => {
    if (failNext) {
      failNext = false;
      throw new Error('broker unavailable');
    }
    calls.push(entry);
  };
  let refuse: RegistryError | undefined;
  const actions: RolloutActions = {
    check: async () => {
      if (refuse) throw refuse;
    },
    move: async (_r: Rollout, devices) => {
      if (refuse) throw refuse;
      await record(`move ${devices.join(',')}`);
    },
    restore: (_r: Rollout, devices) => record(`restore ${devices.join(',')}`),
    complete: () => record('complete'),
  };
  return {
    calls,
    actions,
    failOnce: () => (failNext = true),
    refuse: (code: string, message: string) => (refuse = new RegistryError(code, message)),
  };
}

function report(store: FleetStore, device: string, status: 'ATTACHED' | 'FAILED', version: string) {
  const reported: ReportedState = {
    device,
    fleet: 'acme',
    time: clock.toISOString(),
    policies: {},
    policyErrors: {},
    programs: [{ id: 'fw', package: 'acme/fw', wanted: '2.0.0', source: 's', status, version }],
  };
  store.recordReported(device, reported, clock);
}

function openEdge(file: string) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  const fleet = createSqliteFleetStore(db);
  const rec = recordingActions();
  const log: Array<{ message: string; fields: Record<string, unknown> | undefined }> = [];
  const journal = {
    info: (message: string, fields?: Record<string, unknown>) => log.push({ message, fields }),
    warn: (message: string, fields?: Record<string, unknown>) => log.push({ message, fields }),
  };
  const runner = createRolloutRunner({
    fleet,
    store: createSqliteRolloutStore(db),
    actions: rec.actions,
    logger: journal,
    now: () => clock,
  });
  return { db, fleet, runner, rec, log };
}

test('a rollout continues after an edge restart and completes', async () => {
  const file = join(dir, 'restart.db');
  const first = openEdge(file);
  for (const d of ['a', 'b', 'c', 'd']) first.fleet.registerDevice(d, ['gw'], 'h', clock);
  const started = await first.runner.start(spec);
  assert.deepEqual(first.rec.calls, ['move a']);
  await assert.rejects(first.runner.start(spec), { code: 'ROLLOUT_ACTIVE' });
  report(first.fleet, 'a', 'ATTACHED', '2.0.0');
  await first.runner.tick();
  assert.deepEqual(first.rec.calls, ['move a', 'move b,c']);
  first.db.close(); // the edge goes away mid-rollout

  const second = openEdge(file);
  report(second.fleet, 'b', 'ATTACHED', '2.0.0');
  report(second.fleet, 'c', 'ATTACHED', '2.0.0');
  await second.runner.tick();
  report(second.fleet, 'd', 'ATTACHED', '2.0.0');
  await second.runner.tick();
  assert.deepEqual(second.rec.calls, ['move d', 'complete']);
  assert.equal(second.runner.get(started.id).state, 'COMPLETED');
  second.db.close();
});

test('pause holds the wave, resume restarts its timeout, abort restores the moved devices', async () => {
  const edge = openEdge(join(dir, 'pause.db'));
  for (const d of ['a', 'b', 'c']) edge.fleet.registerDevice(d, ['gw'], 'h', clock);
  const r = await edge.runner.start(spec);
  edge.runner.pause(r.id);
  clock = new Date(clock.getTime() + 60_000);
  await edge.runner.tick();
  assert.equal(edge.runner.get(r.id).devices.a?.status, 'IN_PROGRESS', 'no timeout while paused');
  await edge.runner.resume(r.id);
  await edge.runner.tick();
  assert.equal(edge.runner.get(r.id).devices.a?.status, 'IN_PROGRESS', 'the timeout counts from the resume');
  const aborted = await edge.runner.abort(r.id);
  assert.equal(aborted.state, 'ABORTED');
  assert.deepEqual(edge.rec.calls, ['move a', 'restore a']);
  await assert.rejects(edge.runner.resume(r.id), { code: 'ROLLOUT_NOT_PAUSED' });
  // Each operator action is in the edge's journal with the rollout id as a field.
  assert.deepEqual(
    edge.log.map((l) => [l.message, l.fields?.rollout]),
    [
      ['rollout started', r.id],
      ['rollout wave started', r.id],
      ['rollout paused', r.id],
      ['rollout resumed', r.id],
      ['rollout aborted by the operator', r.id],
    ],
  );
  edge.db.close();
});

test('a failed action stays pending and is performed on the next tick', async () => {
  const edge = openEdge(join(dir, 'retry.db'));
  for (const d of ['a', 'b']) edge.fleet.registerDevice(d, ['gw'], 'h', clock);
  const r = await edge.runner.start(spec);
  report(edge.fleet, 'a', 'ATTACHED', '2.0.0');
  edge.rec.failOnce();
  await edge.runner.tick();
  assert.deepEqual(edge.runner.get(r.id).pending, [{ kind: 'move', devices: ['b'] }]);
  await edge.runner.tick();
  assert.deepEqual(edge.rec.calls, ['move a', 'move b']);
  assert.equal(edge.runner.get(r.id).currentWave, 1);
  assert.deepEqual(edge.runner.get(r.id).pending, []);
  edge.db.close();
});

test('a wave decided just before a crash is moved after the restart, and a decided completion is published', async () => {
  const file = join(dir, 'crash.db');
  const first = openEdge(file);
  for (const d of ['a', 'b', 'c']) first.fleet.registerDevice(d, ['gw'], 'h', clock);
  const r = await first.runner.start(spec);
  report(first.fleet, 'a', 'ATTACHED', '2.0.0');
  // The process dies while publishing the next wave's policies: the step is saved, its action is not done.
  first.rec.failOnce();
  await first.runner.tick();
  first.db.close();

  const second = openEdge(file);
  await second.runner.tick();
  assert.deepEqual(second.rec.calls, ['move b,c'], 'the saved wave is moved, not forgotten');
  report(second.fleet, 'b', 'ATTACHED', '2.0.0');
  report(second.fleet, 'c', 'ATTACHED', '2.0.0');
  second.rec.failOnce();
  await second.runner.tick();
  assert.equal(second.runner.get(r.id).state, 'COMPLETED');
  second.db.close();

  const third = openEdge(file);
  await third.runner.tick();
  assert.deepEqual(third.rec.calls, ['complete'], 'a COMPLETED rollout still publishes its final policies');
  await third.runner.tick();
  assert.deepEqual(third.rec.calls, ['complete']);
  third.db.close();
});

test('a rollout the registry refuses is not created: the group stays free', async () => {
  const edge = openEdge(join(dir, 'refused.db'));
  for (const d of ['a', 'b']) edge.fleet.registerDevice(d, ['gw'], 'h', clock);
  edge.rec.refuse('POLICY_INVALID', 'policy programs[0]: acme/fw has no version 9.9.9');
  await assert.rejects(edge.runner.start({ ...spec, version: '9.9.9' }), { code: 'POLICY_INVALID' });
  assert.deepEqual(edge.runner.list(), [], 'no rollout left RUNNING');
  assert.deepEqual(edge.rec.calls, []);
  edge.db.close();
});

test('a move the registry refuses mid-rollout aborts it and restores the moved devices, once', async () => {
  const edge = openEdge(join(dir, 'refused-later.db'));
  for (const d of ['a', 'b', 'c']) edge.fleet.registerDevice(d, ['gw'], 'h', clock);
  const r = await edge.runner.start(spec);
  report(edge.fleet, 'a', 'ATTACHED', '2.0.0');
  edge.rec.refuse('POLICY_INVALID', 'acme/fw@2.0.0 was yanked');
  await edge.runner.tick();
  const after = edge.runner.get(r.id);
  assert.equal(after.state, 'ABORTED');
  assert.match(after.reason ?? '', /^wave 2 could not be moved: POLICY_INVALID: acme\/fw@2.0.0 was yanked/);
  assert.deepEqual(edge.rec.calls, ['move a', 'restore a,b,c']);
  await edge.runner.tick();
  assert.deepEqual(edge.rec.calls, ['move a', 'restore a,b,c'], 'nothing retried after the abort');
  edge.db.close();
});

test('devices that never connected are named in a warning at start', async () => {
  const edge = openEdge(join(dir, 'never.db'));
  for (const d of ['a', 'b']) edge.fleet.registerDevice(d, ['gw'], 'h', clock);
  edge.fleet.recordPresence('a', 'online', clock);
  const r = await edge.runner.start(spec);
  assert.equal(
    r.warnings?.at(-1),
    '1 of 2 devices have never connected (b): if still offline when their wave starts and silent until its timeout, they are marked UNREACHABLE, not failed',
  );
  edge.db.close();
});
