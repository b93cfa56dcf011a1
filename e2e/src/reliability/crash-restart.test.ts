// Reliability: kill -9 the real agent at random moments of reconcile and upgrade (a random delay after a policy
// or channel change), restart it, and check each time that exactly the wanted program runs, at the wanted
// version and build, with no pin leaked. 15 rounds in `npm test`, 200 in `npm run test:long`.
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { reliabilityRuns } from '@bpfleet/sdk/testing/reliability-runs';
import { type DeviceHarness, startDeviceHarness, type Wanted } from './device-harness.js';

const ROUNDS = reliabilityRuns(15, 200);
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
  await h.publish.setChannel('acme', 'count', 'stable', VERSIONS[0] ?? '');
  let channelVersion = VERSIONS[0] ?? '';
  let wanted: Wanted = { version: channelVersion, build: 100, channel: true };
  h.startAgent();
  let serial = await h.applyPolicy(wanted);
  await h.converged(wanted, serial, 'first attach');

  const phases = { policy: 0, channel: 0, remove: 0 };
  let midway = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    // A change the agent must act on: a new version by policy or by channel, a new config, or removal.
    const roll = random();
    const version = VERSIONS[below(VERSIONS.length)] ?? '';
    const build = 100 + round;
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
      await h.publish.setChannel('acme', 'count', 'stable', next);
    } else {
      const channel = random() < 0.5;
      if (channel) {
        channelVersion = version;
        await h.publish.setChannel('acme', 'count', 'stable', version);
      }
      wanted = { version, build, channel };
      phases.policy++;
      serial = await h.applyPolicy(wanted);
    }
    // Anywhere from before the message arrives to after the swap: download, verify, load, swap, report.
    await sleep(below(1500));
    const p = h.program();
    const done =
      h.appliedSerial() === serial &&
      (wanted ? p?.status === 'ATTACHED' && p.version === wanted.version : p === undefined);
    if (!done) midway++;
    await h.killAgent();
    h.startAgent();
    await h.converged(wanted, serial, `round ${round} (after kill -9)`);
  }
  t.diagnostic(
    `${ROUNDS} kills: ${phases.policy} after a policy change, ${phases.channel} after a channel move, ${phases.remove} after a removal; ${midway} before the change was reported done`,
  );
});
