// End to end through the real bpfleet-edge: policy expiry on the real agent and kernel, policies applied with the
// edge's API. A policy that expired while the agent was down is reported POLICY_EXPIRED on restart and what it
// deployed keeps running; an `onExpiry: remove` policy's program goes at expiry.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeviceSummary } from '@bpfleet/sdk';
import type { Policy } from '@bpfleet/sdk/policy';
import { until } from '@bpfleet/sdk/test-kit';
import { type DeviceEvent, type EdgeDevice, startEdgeDevice } from './fixtures/edge-device.js';
import { pinsUnder, xdpPrograms } from './fixtures/kernel-state.js';
import { compileProgram, countManifest, type SignedPackage } from './fixtures/test-packages.js';

let d: EdgeDevice;
let pkg: SignedPackage;
/** The edge's view of the device and its events, refreshed by `refresh` (the checks below read them sync). */
let view: DeviceSummary | undefined;
let events: DeviceEvent[] = [];

before(async () => {
  d = await startEdgeDevice({ tag: 'e2fx', block: 139, offset: 16 });
  pkg = await d.publish(countManifest('1.0.0', 1), compileProgram('xdp_count'));
});

after(async () => {
  await d?.close();
});

async function refresh(): Promise<void> {
  view = await d.device();
  events = await d.events(200);
}

async function apply(id: string, expires: Date, onExpiry?: Policy['onExpiry']): Promise<void> {
  await d.apply(
    { device: d.deviceId },
    [{ id, package: 'acme/count', version: pkg.version, attach: { interface: d.net.wan } }],
    { expires, ...(onExpiry && { onExpiry }) },
  );
}

const program = (id: string) => view?.programs.find((p) => p.id === id);
/** POLICY_EXPIRED events since `since`: the policy's own (`policy` set) and the loop's per deployment. */
const expiredEvents = (since: number, of: 'policy' | 'deployment' = 'policy') =>
  events.filter(
    (e) =>
      e.event.state === 'POLICY_EXPIRED' &&
      e.event[of] !== undefined &&
      Date.parse(String(e.event.time)) >= since,
  );

async function attached(id: string): Promise<number> {
  await until(
    async () => {
      await refresh();
      return program(id)?.status === 'ATTACHED' && xdpPrograms(d.net.deviceNs, d.net.wan).length === 1;
    },
    `${id} attached (the edge's view and an XDP program on wan)`,
    30_000,
    () => [program(id), d.agent()?.logs().slice(-5)],
  );
  const ids = xdpPrograms(d.net.deviceNs, d.net.wan);
  assert.equal(ids.length, 1, `one XDP program on ${d.net.wan}: ${ids.join(',')}`);
  return ids[0]!;
}

test('a policy that expired while the agent was down: POLICY_EXPIRED on restart, the program keeps running', async () => {
  const expires = new Date(Date.now() + 8000);
  d.startAgent();
  await apply('cnt', expires);
  const prog = await attached('cnt');
  const pins = pinsUnder(d.pinRoot);

  // Down across the expiry: nothing is there to notice it but what the agent finds when it starts again.
  await d.stopAgent('SIGTERM');
  await sleep(Math.max(0, expires.getTime() - Date.now()) + 500);
  const restarted = Date.now();
  d.startAgent();
  let seen: unknown;
  await until(
    async () => {
      await refresh();
      seen = [view?.policyErrors, expiredEvents(restarted).map((e) => e.event.reason)];
      // Events stamped after the restart: what the restarted agent found, not a report from before.
      return (
        Object.values(view?.policyErrors ?? {}).some((r) => r.code === 'POLICY_EXPIRED') &&
        expiredEvents(restarted).length === 1
      );
    },
    'POLICY_EXPIRED reported after the restart (policy error and one event)',
    20_000,
    () => [seen, d.agent()?.logs().slice(-8)],
  );
  assert.match(
    String((expiredEvents(restarted)[0]?.event.reason as { message?: string } | undefined)?.message),
    /expired at .*; what runs stays, nothing more is applied from it until a newer policy arrives/,
  );

  // Fail-safe: the same program stays on the hook, with its pins, and still sees the packets.
  await sleep(2000);
  await refresh();
  assert.deepEqual(
    xdpPrograms(d.net.deviceNs, d.net.wan),
    [prog],
    'the same XDP program on the hook (ip -j link)',
  );
  assert.deepEqual(pinsUnder(d.pinRoot), pins, 'its pins stay');
  assert.equal((await d.net.ping(2)).received, 2, 'the device still answers through it');
  assert.equal(expiredEvents(restarted).length, 1, 'reported once, not on every pass');
  // The loop says it per program too: the report's lastError and one event for the deployment.
  assert.equal(program('cnt')?.lastError?.code, 'POLICY_EXPIRED', JSON.stringify(program('cnt')));
  assert.equal(program('cnt')?.status, 'ATTACHED');
  assert.equal(expiredEvents(restarted, 'deployment').length, 1);

  // A renewal (a newer serial) clears the report.
  await apply('cnt', new Date(Date.now() + 3_600_000));
  await until(
    async () => {
      await refresh();
      return Object.keys(view?.policyErrors ?? {}).length === 0;
    },
    'renewal clears POLICY_EXPIRED',
    20_000,
    () => [view],
  );
  assert.deepEqual(xdpPrograms(d.net.deviceNs, d.net.wan), [prog], 'renewal keeps the same program');
});

test('onExpiry: remove — the agent detaches the program when the policy expires while it runs', async () => {
  if (!d.agent()) d.startAgent();
  const expires = new Date(Date.now() + 6000);
  await apply('cnt', expires, 'remove');
  await attached('cnt');
  assert.ok(pinsUnder(d.pinRoot).length > 0);
  // Nothing more is sent: only the agent's own timer can act.
  await until(
    () => xdpPrograms(d.net.deviceNs, d.net.wan).length === 0,
    'the XDP hook empty after the expiry',
    15_000,
    () => [program('cnt'), d.agent()?.logs().slice(-8)],
  );
  assert.ok(Date.now() >= expires.getTime(), 'not before the expiry');
  await until(
    () => pinsUnder(d.pinRoot).length === 0,
    'no pin left',
    10_000,
    () => [pinsUnder(d.pinRoot)],
  );
  await until(
    async () => {
      await refresh();
      return Object.values(view?.policyErrors ?? {}).some((r) => /onExpiry: remove/.test(r.message));
    },
    'POLICY_EXPIRED (remove) at the edge',
    10_000,
    () => [view],
  );
  assert.equal(program('cnt'), undefined, 'no longer reported as wanted');
});
