// Reliability: outages while traffic flows (beyond broker-outage.test.ts, which checks one short mosquitto outage
// and a policy published after it). Here a policy change is made *during* each outage: the broker down 5 s
// and 60 s (and 300 s in the long suite), then the registry down with a new version wanted. The data path never
// stops (the counter keeps rising through the outage) and the change is applied once the service is back.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { until } from '@bpfleet/sdk/test-kit';
import { reliabilityRuns } from '@bpfleet/sdk/testing/reliability-runs';
import { agentGauge } from '../fixtures/kernel-state.js';
import { type DeviceHarness, startDeviceHarness, type Wanted } from './device-harness.js';

// The suites: 5 s and 60 s in `npm test`, 300 s added in the long one.
const BROKER_OUTAGES_S = reliabilityRuns([5, 60], [5, 60, 300]);
const REGISTRY_OUTAGE_S = reliabilityRuns(5, 60);

let h: DeviceHarness;
before(async () => {
  h = await startDeviceHarness({ broker: 'mosquitto' });
});
after(async () => {
  await h?.close();
});

/**
 * Pings the device's wan for `seconds` while sampling its counter every second; returns what was sent and
 * received and the samples (each must be above the one before: the program counts throughout).
 */
async function trafficFor(
  seconds: number,
  during: () => Promise<void>,
): Promise<{ sent: number; received: number; samples: number[] }> {
  const interval = 0.05;
  const ping = h.net.ping(Math.round(seconds / interval), interval);
  const samples: number[] = [];
  const started = Date.now();
  const sampling = (async () => {
    while (Date.now() - started < seconds * 1000 - 500) {
      await sleep(1000);
      samples.push((await h.counts()).get('slot=0') ?? -1);
    }
  })();
  await during();
  await sampling;
  return { ...(await ping), samples };
}

function assertRising(samples: number[], what: string): void {
  assert.ok(samples.length >= 3, `${what}: ${samples.length} samples`);
  for (let i = 1; i < samples.length; i++) {
    assert.ok((samples[i] ?? 0) > (samples[i - 1] ?? 0), `${what}: counter stalled: ${samples.join(', ')}`);
  }
}

test(`broker down ${BROKER_OUTAGES_S.join(' s, ')} s, then the registry down ${REGISTRY_OUTAGE_S} s, while traffic flows: counting never stops, changes made during each outage apply after`, async (t) => {
  await h.release('1.0.0', 1);
  h.startAgent();
  let wanted: Wanted = { version: '1.0.0', build: 10, channel: true };
  let serial = await h.applyPolicy(wanted);
  await h.converged(wanted, serial, 'first attach');
  const connected = () => agentGauge(h.metricsUrl, 'bpfleet_agent_mqtt_connected');

  for (const seconds of BROKER_OUTAGES_S) {
    const nextBuild = (wanted?.build ?? 0) + 1;
    let pending: Promise<number> | undefined;
    const traffic = await trafficFor(seconds, async () => {
      await h.edge.stopBroker();
      await until(async () => (await connected()) === 0, 'the agent sees the broker outage', 30_000);
      // The operator changes the policy mid-outage: it waits in the controller's session until the broker is back.
      wanted = { version: '1.0.0', build: nextBuild, channel: true };
      pending = h.applyPolicy(wanted);
      await sleep(Math.max(0, seconds * 1000 - 1500));
    });
    t.diagnostic(
      `broker down ${seconds} s: ${traffic.received}/${traffic.sent} pings answered, counter ${traffic.samples.join(' → ')}`,
    );
    assert.equal(traffic.received, traffic.sent, 'no ping lost during the broker outage');
    assertRising(traffic.samples, `broker down ${seconds} s`);
    await h.edge.startBroker();
    await until(async () => (await connected()) === 1, 'the agent reconnects', 120_000);
    serial = await (pending ?? Promise.reject(new Error('no policy sent')));
    await h.converged(wanted, serial, `after the ${seconds} s broker outage`, 120_000);
  }

  // Registry down: a new version is wanted meanwhile, one the agent knows from the index but has not downloaded.
  // The running one keeps counting; once the registry is back, the upgrade lands.
  await h.release('1.1.0', 2, false);
  wanted = { version: '1.0.0', build: 19, channel: false };
  serial = await h.applyPolicy(wanted);
  await h.converged(wanted, serial, 'the agent has read the index that lists 1.1.0');
  const traffic = await trafficFor(REGISTRY_OUTAGE_S, async () => {
    await h.registry.down();
    wanted = { version: '1.1.0', build: 20, channel: false };
    serial = await h.applyPolicy(wanted);
    await until(
      () => h.appliedSerial() === serial && h.program()?.lastError !== undefined,
      'the agent tried and failed to fetch',
      30_000,
      () => h.program(),
    );
    await sleep(Math.max(0, REGISTRY_OUTAGE_S * 1000 - 1500));
  });
  t.diagnostic(
    `registry down ${REGISTRY_OUTAGE_S} s: ${traffic.received}/${traffic.sent} pings answered, counter ${traffic.samples.join(' → ')}; reported error ${JSON.stringify(h.program()?.lastError)}`,
  );
  assert.equal(traffic.received, traffic.sent, 'no ping lost during the registry outage');
  assertRising(traffic.samples, 'registry down');
  assert.equal(
    h.program()?.version,
    '1.0.0',
    'the running version stays while the new one cannot be fetched',
  );
  await h.registry.restart();
  await h.converged(wanted, serial, 'after the registry outage', 120_000);
});
