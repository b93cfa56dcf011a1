// End to end on the real bpfleet-edge: the agent process in its namespace attaches and counts through a group
// policy applied with the edge's API; the edge (and so its broker) is stopped by pid (counting goes on), started
// again on the same data directory and ports, and the agent reconnects and converges on a new policy.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { DeviceSummary } from '@bpfleet/sdk';
import { until } from '@bpfleet/sdk/test-kit';
import { type EdgeDevice, startEdgeDevice } from './fixtures/edge-device.js';
import { agentGauge, pinsUnder, programMetrics, xdpPrograms } from './fixtures/kernel-state.js';
import { compileProgram, countManifest } from './fixtures/test-packages.js';

const GROUP = 'edge';
let d: EdgeDevice;
let metricsUrl: string;

before(async () => {
  d = await startEdgeDevice({
    tag: 'e2fo',
    block: 139,
    offset: 32,
    groups: [GROUP],
    brokerPasswordInEnv: true,
    agentConfig: (net) => ({ metrics: { host: net.deviceAddr, port: 9465 } }),
  });
  metricsUrl = `http://${d.net.deviceAddr}:9465/metrics`;
  await d.publish(countManifest('1.0.0', 1), compileProgram('xdp_count'));
});

after(async () => {
  await d?.close();
});

test('the edge down: counting goes on; back on its data and ports: the agent reconnects and converges', async () => {
  // The broker password comes from the environment, as a systemd credential would.
  d.startAgent();
  const policy = (build: number) =>
    d.apply({ group: GROUP }, [
      {
        id: 'count',
        package: 'acme/count',
        version: '^1',
        attach: { interface: d.net.wan },
        config: { version: build },
      },
    ]);
  let view: DeviceSummary | undefined;
  const device = async () => {
    view = await d.device();
    return view;
  };
  const program = () => view?.programs.find((p) => p.id === 'count');
  const status = async () => (await device()).programs.find((p) => p.id === 'count')?.status;
  const counts = () => programMetrics(metricsUrl, 'count');

  await policy(11);
  await until(
    async () => (await status()) === 'ATTACHED',
    'attached through the group policy',
    30_000,
    () => [program(), d.agent()?.logs().slice(-5)],
  );
  assert.equal(view?.presence, 'online');
  assert.equal(xdpPrograms(d.net.deviceNs, d.net.wan).length, 1);
  await d.net.ping(10);
  await until(async () => (await counts()).get('slot=0') === 10, '10 counted', 10_000);
  assert.equal((await counts()).get('slot=1'), 11);

  // The edge down (its broker with it): the agent notices, the program keeps counting.
  const pid = d.edge.pid();
  await d.edge.kill('SIGTERM');
  assert.throws(() => process.kill(pid!, 0), 'the edge process is gone');
  await until(
    async () => (await agentGauge(metricsUrl, 'bpfleet_agent_mqtt_connected')) === 0,
    'agent sees the outage',
  );
  const during = await d.net.ping(20);
  assert.equal(during.received, 20);
  await until(async () => (await counts()).get('slot=0') === 30, 'counting through the outage', 10_000);
  assert.equal(xdpPrograms(d.net.deviceNs, d.net.wan).length, 1);

  // The edge back on the same data directory and ports: the agent reconnects, then converges on a new policy.
  await d.edge.restart();
  assert.notEqual(d.edge.pid(), pid, 'a new edge process');
  await until(
    async () => (await agentGauge(metricsUrl, 'bpfleet_agent_mqtt_connected')) === 1,
    'agent reconnected',
    60_000,
  );
  await until(
    async () => (await device()).presence === 'online',
    'online again',
    30_000,
    () => [view],
  );
  const { serial } = await policy(12);
  assert.equal(serial, 2, 'the edge kept the first policy across its restart');
  const topic = `bpfleet/v1/${d.fleet}/grp/${GROUP}/desired`;
  await until(
    async () => (await device()).policies?.[topic]?.serial === 2,
    'policy 2 applied after the outage',
    30_000,
    () => [view?.policies],
  );
  await until(async () => {
    await d.net.ping(1);
    return (await counts()).get('slot=1') === 12;
  }, 'the new config runs');
  assert.equal(await status(), 'ATTACHED');
  assert.equal(xdpPrograms(d.net.deviceNs, d.net.wan).length, 1);
  assert.deepEqual(pinsUnder(d.pinRoot), ['count/links/count_pings', 'count/maps/counts']);
  assert.ok(
    ((await counts()).get('slot=0') ?? 0) >= 31,
    'the persisted counter carried over the reconfigure',
  );
});
