import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProgramReport } from '@bpfleet/sdk/protocol';
import { createRollout, type Observation, type Rollout, type RolloutSpec, stepRollout } from './rollout.js';

const devices = Array.from({ length: 20 }, (_, i) => `d${String(i).padStart(2, '0')}`);
const spec: RolloutSpec = {
  group: 'gw',
  package: 'acme/fw',
  version: '1.1.0',
  waves: ['10%', '50%', '100%'],
  waveTimeoutMs: 60_000,
  failureThreshold: 0.1,
};
const t0 = new Date('2026-11-27T10:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);
const report = (status: ProgramReport['status'], version: string): ProgramReport => ({
  id: 'fw',
  package: 'acme/fw',
  wanted: '1.1.0',
  source: 's',
  status,
  version,
});

function run(rollout: Rollout, observe: (d: string) => Observation, now: Date) {
  return stepRollout(rollout, observe, now);
}

test('waves are planned cumulatively, and what the plan changed is kept as warnings', () => {
  const r = createRollout('r0', spec, devices, t0);
  assert.deepEqual(
    r.waves.map((w) => w.devices.length),
    [2, 8, 10],
  );
  assert.deepEqual(r.warnings, []);
  const short = createRollout('r0b', { ...spec, waves: ['10%', '50%'] }, devices, t0, ['never seen: d19']);
  assert.deepEqual(
    short.waves.map((w) => w.devices.length),
    [2, 8, 10],
  );
  assert.match(short.warnings?.[0] ?? '', /a final wave moves the remaining 10/);
  assert.equal(short.warnings?.[1], 'never seen: d19');
});

test('waves advance when every device of the wave reports the version attached', () => {
  let r = createRollout('r1', spec, devices, t0);
  let step = run(r, () => undefined, t0);
  assert.deepEqual(step.actions, [{ kind: 'move', devices: ['d00', 'd01'] }]);
  r = step.rollout;
  step = run(r, (d) => (d === 'd00' ? report('ATTACHED', '1.1.0') : undefined), at(1000));
  assert.deepEqual(step.actions, [], 'd01 has not reported yet');
  step = run(step.rollout, () => report('ATTACHED', '1.1.0'), at(2000));
  assert.equal(step.actions[0]?.kind, 'move');
  assert.equal(step.rollout.currentWave, 1);
  step = run(step.rollout, () => report('ATTACHED', '1.1.0'), at(3000));
  step = run(step.rollout, () => report('ATTACHED', '1.1.0'), at(4000));
  assert.deepEqual(step.actions, [{ kind: 'complete' }]);
  assert.equal(step.rollout.state, 'COMPLETED');
  assert.ok(Object.values(step.rollout.devices).every((d) => d.status === 'SUCCEEDED'));
});

test('failures over the threshold abort before the next wave and restore the moved devices', () => {
  let step = run(createRollout('r2', spec, devices, t0), () => undefined, t0);
  step = run(step.rollout, () => report('ATTACHED', '1.1.0'), at(1)); // wave 0 ok → wave 1 (8 devices)
  // One of ten moved fails: exactly 10%, not over the threshold, the rollout waits.
  const failOne = (d: string) =>
    d === 'd02'
      ? { ...report('FAILED', '1.0.0'), lastError: { code: 'VERIFIER_REJECTED', message: 'x' } }
      : undefined;
  step = run(step.rollout, failOne, at(2));
  assert.equal(step.rollout.state, 'RUNNING');
  assert.equal(step.rollout.devices.d02?.detail, 'VERIFIER_REJECTED: x');
  step = run(
    step.rollout,
    (d) => (d === 'd02' || d === 'd03' ? report('ROLLED_BACK', '1.0.0') : undefined),
    at(3),
  );
  assert.equal(step.rollout.state, 'ABORTED');
  assert.match(step.rollout.reason ?? '', /2 of 10 devices failed/);
  assert.deepEqual(step.actions, [{ kind: 'restore', devices: devices.slice(0, 10) }]);
  assert.equal(step.rollout.devices.d00?.status, 'RESTORED');
  assert.equal(step.rollout.devices.d05?.status, 'RESTORED');
  assert.equal(step.rollout.devices.d10?.status, 'PENDING', 'later waves never moved');
  assert.deepEqual(run(step.rollout, () => undefined, at(4)).actions, [], 'an aborted rollout does nothing');
});

test('silent devices time out instead of staying in progress', () => {
  const lenient = { ...spec, failureThreshold: 0.5 };
  let step = run(createRollout('r3', lenient, devices, t0), () => undefined, t0);
  step = run(step.rollout, (d) => (d === 'd00' ? report('ATTACHED', '1.1.0') : undefined), at(59_999));
  assert.equal(step.rollout.devices.d01?.status, 'IN_PROGRESS');
  step = run(step.rollout, (d) => (d === 'd00' ? report('ATTACHED', '1.1.0') : undefined), at(60_000));
  assert.equal(step.rollout.devices.d01?.status, 'TIMED_OUT');
  assert.match(step.rollout.devices.d01?.detail ?? '', /no ATTACHED report/);
  assert.equal(step.rollout.currentWave, 1, '1 of 2 timed out is within 50%: the next wave starts');
});

test('a paused rollout does not move', () => {
  const paused: Rollout = { ...createRollout('r4', spec, devices, t0), state: 'PAUSED' };
  assert.deepEqual(run(paused, () => undefined, t0).actions, []);
});

test('a transient failure (registry unreachable) is waited on, not counted as a failed device', () => {
  const first = run(createRollout('r9', spec, devices, t0), () => undefined, t0).rollout;
  const unreachable: ProgramReport = {
    ...report('FAILED', '1.0.0'),
    lastError: {
      code: 'FETCH_FAILED',
      message: 'fetch acme/fw@1.1.0: gave up after 4 attempts: ECONNREFUSED',
    },
  };
  let step = run(first, () => unreachable, at(1000));
  assert.equal(step.rollout.state, 'RUNNING');
  assert.equal(step.rollout.devices.d00?.status, 'IN_PROGRESS');
  step = run(step.rollout, () => report('ATTACHED', '1.1.0'), at(5000));
  assert.equal(step.rollout.devices.d00?.status, 'SUCCEEDED');
  const refused: ProgramReport = {
    ...report('FAILED', '1.0.0'),
    lastError: { code: 'LOAD_FAILED', message: 'refused' },
  };
  assert.equal(run(first, () => refused, at(1000)).rollout.devices.d00?.status, 'FAILED');
  // A device that stays unreachable still times out with the wave.
  assert.equal(run(first, () => unreachable, at(61_000)).rollout.devices.d00?.status, 'TIMED_OUT');
});

test('a device offline when its wave started is UNREACHABLE at the timeout, not a failure', () => {
  const strict = { ...spec, failureThreshold: 0 };
  const offline = new Set(['d01']);
  const online = (d: string) => !offline.has(d);
  let step = stepRollout(createRollout('r10', strict, devices, t0), () => undefined, t0, online);
  assert.equal(step.rollout.devices.d01?.offlineAtStart, true);
  assert.equal(step.rollout.devices.d00?.offlineAtStart, false);
  const d00Attached = (d: string) => (d === 'd00' ? report('ATTACHED', '1.1.0') : undefined);
  step = stepRollout(step.rollout, d00Attached, at(60_000), online);
  assert.equal(step.rollout.devices.d01?.status, 'UNREACHABLE');
  assert.match(
    step.rollout.devices.d01?.detail ?? '',
    /offline when its wave started .* within 1m; not counted/,
  );
  assert.equal(
    step.rollout.state,
    'RUNNING',
    'failure threshold 0, yet an unreachable device aborts nothing',
  );
  assert.equal(step.rollout.currentWave, 1);
});

test('a device online when its wave started that then stays silent times out and counts as a failure', () => {
  const strict = { ...spec, failureThreshold: 0 };
  let step = stepRollout(
    createRollout('r11', strict, devices, t0),
    () => undefined,
    t0,
    () => true,
  );
  const d00Attached = (d: string) => (d === 'd00' ? report('ATTACHED', '1.1.0') : undefined);
  step = stepRollout(step.rollout, d00Attached, at(60_000), () => false);
  assert.equal(step.rollout.devices.d01?.status, 'TIMED_OUT');
  assert.match(step.rollout.devices.d01?.detail ?? '', /no ATTACHED report for 1.1.0 within 1m$/);
  assert.equal(step.rollout.state, 'ABORTED');
});
