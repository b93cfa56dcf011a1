// Reliability: kill -9 the real agent at random moments of reconcile and upgrade (a random delay after a policy
// or channel change, retried until the kernel shows the kill came before the change reached it), restart it,
// and check each time that exactly the wanted program runs, at the wanted version and build, with no pin
// leaked. 15 rounds in `npm test`, 200 in `npm run test:long`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { reliabilityRuns } from '@bpfleet/sdk/testing/reliability-runs';
import { xdpPrograms } from '../fixtures/kernel-state.js';
import { moveSigned } from '../fixtures/signed-channel.js';
import { type DeviceHarness, startDeviceHarness, type Wanted } from './device-harness.js';

const ROUNDS = reliabilityRuns(15, 200);
/** Changes tried per round until a kill lands before the change reaches the kernel. */
const ATTEMPTS = 6;
const VERSIONS = ['1.0.0', '1.1.0', '1.2.0', '2.0.0'];
const seed = Number(process.env.BPFLEET_SEED ?? Date.now() % 2 ** 31);
let state = seed || 1;
function random(): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 2 ** 32;
}
const below = (n: number) => Math.floor(random() * n);

let h: DeviceHarness;
before(async () => {
  h = await startDeviceHarness();
});
after(async () => {
  await h?.close();
});

test(`kill -9 at random points of reconcile and upgrade, ${ROUNDS} times: converges each time, nothing leaked`, async (t) => {
  t.diagnostic(`seed ${seed} (BPFLEET_SEED=${seed} replays the choices)`);
  for (const [i, v] of VERSIONS.entries()) await h.release(v, i + 1, false);
  await moveSigned(h.publish, h.publisher, VERSIONS[0] ?? '');
  let channelVersion = VERSIONS[0] ?? '';
  let wanted: Wanted = { version: channelVersion, build: 100, channel: true };
  h.startAgent();
  let serial = await h.applyPolicy(wanted);
  await h.converged(wanted, serial, 'first attach');

  const phases = { policy: 0, channel: 0, remove: 0 };
  /** The XDP programs on wan as the kernel lists them: what the agent had done when it died. */
  const inKernel = () => xdpPrograms(h.net.deviceNs, h.net.wan).join(',');
  let late = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    // Each round ends with one kill proven to land mid-change: the kernel, read once the agent is dead, still
    // shows what ran before the change. A kill that came after the change reached the kernel is retried with a
    // shorter delay (a new change each time), at most ATTEMPTS times.
    let landed = false;
    let maxDelay = 1500;
    for (let attempt = 0; !landed; attempt++) {
      assert.ok(attempt < ATTEMPTS, `round ${round}: no kill -9 landed mid-change in ${ATTEMPTS} attempts`);
      const before = inKernel();
      // A change the agent must act on: a new version by policy or by channel, a new config, or removal.
      const roll = random();
      const version = VERSIONS[below(VERSIONS.length)] ?? '';
      const build = 100 + round * ATTEMPTS + attempt;
      if (roll < 0.1 && wanted) {
        wanted = null;
        phases.remove++;
        serial = await h.applyPolicy(wanted);
      } else if (roll < 0.45 && wanted?.channel) {
        // Only the channel moves: the policy (and its serial) stay, the agent follows the index.
        const next = VERSIONS.find((v) => v !== channelVersion) ?? '';
        channelVersion = next;
        wanted = { ...wanted, version: next };
        phases.channel++;
        await moveSigned(h.publish, h.publisher, next);
      } else {
        const channel = random() < 0.5;
        if (channel) {
          channelVersion = version;
          await moveSigned(h.publish, h.publisher, version);
        }
        wanted = { version, build, channel };
        phases.policy++;
        serial = await h.applyPolicy(wanted);
      }
      // Anywhere from before the message arrives to just before the change reaches the kernel.
      await sleep(below(maxDelay));
      await h.killAgent();
      landed = inKernel() === before;
      if (!landed) {
        late++;
        maxDelay = Math.max(20, maxDelay / 3);
      }
      h.startAgent();
      await h.converged(wanted, serial, `round ${round}.${attempt} (after kill -9)`);
    }
  }
  t.diagnostic(
    `${ROUNDS} kills mid-change (${late} more came after the change reached the kernel and were retried): ${phases.policy} policy changes, ${phases.channel} channel moves, ${phases.remove} removals`,
  );
});
