// Issue #14 item 10: a policy that expires while the agent runs is reported POLICY_EXPIRED at the edge, and what it
// deployed keeps running (fail-safe): the same program on the hook, still dropping.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { until } from '@bpfleet/sdk/test-kit';
import { pinsUnder } from '../fixtures/kernel-state.js';
import { xdpOn } from './kernel-view.js';
import type { TruthDevice } from './truth-device.js';
import { pingsPackage } from './truth-packages.js';

const ID = 'h7t-exp';
const LIFETIME_MS = 6000;

export async function expiryCase(d: TruthDevice, t: TestContext): Promise<void> {
  const pkg = await d.release(pingsPackage('h7t-pings', '1.0.0'));
  t.after(() => d.clear());
  const expires = new Date(Date.now() + LIFETIME_MS);
  await d.apply(
    [
      {
        id: ID,
        package: pkg.name,
        version: pkg.version,
        attach: { interface: d.net.wan },
        config: { drop_icmp: 1 },
      },
    ],
    expires,
  );
  await until(
    async () => (await d.program(ID))?.status === 'ATTACHED',
    `${ID} attached`,
    LIFETIME_MS,
    () => d.agent.logs().slice(-5),
  );
  const prog = xdpOn(d.net.deviceNs, d.net.wan);
  assert.equal(prog?.name, 'h7t_xdp');
  const pins = pinsUnder(d.pinRoot);

  // No new message reaches the agent: only its own timer can notice the expiry.
  await sleep(Math.max(0, expires.getTime() - Date.now()));
  let seen: unknown;
  await until(
    async () => {
      const v = await d.view();
      const events = (await d.events(expires.getTime() - 1000)).filter((e) => e.state === 'POLICY_EXPIRED');
      seen = { policyErrors: v.policyErrors, events };
      const reported = Object.values(v.policyErrors).some((e) => e.code === 'POLICY_EXPIRED');
      return reported && events.length > 0;
    },
    'POLICY_EXPIRED at the edge (policy error and event)',
    10_000,
    () => [seen, d.agent.logs().slice(-5)],
  );
  t.diagnostic(`edge shows: ${JSON.stringify((seen as { policyErrors: unknown }).policyErrors)}`);

  // What ran keeps running, untouched.
  await sleep(2000);
  assert.equal(xdpOn(d.net.deviceNs, d.net.wan)?.id, prog?.id, 'the same program stays on the hook');
  assert.deepEqual(pinsUnder(d.pinRoot), pins, 'its pins stay');
  assert.equal((await d.net.ping(3)).received, 0, 'and it still drops');
}
