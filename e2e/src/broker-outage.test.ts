// End to end with a real mosquitto enforcing the fleet's logins and ACL: the agent process in its namespace
// attaches and counts; the broker goes away (counting goes on), comes back, and the agent reconnects and converges.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { signPolicy } from '@bpfleet/sdk/policy';
import { createRegistryClient } from '@bpfleet/sdk/registry-client';
import { generateKeyPair, toSigningKey } from '@bpfleet/sdk/trust';
import { type AgentProcess, spawnAgent, writeAgentConfig } from './fixtures/agent-process.js';
import { createDeviceNetwork, type DeviceNetwork } from './fixtures/device-network.js';
import { type EdgeRegistry, startEdgeRegistry } from './fixtures/edge-registry.js';
import { type FleetEdge, startFleetEdge } from './fixtures/fleet-edge.js';
import { agentGauge, pinsUnder, programMetrics, xdpPrograms } from './fixtures/kernel-state.js';
import { compileProgram, countManifest, signedPackage } from './fixtures/test-packages.js';
import { until } from './fixtures/until.js';

const FLEET = 'lab';
const DEVICE = 'gw-7';
const operator = generateKeyPair();
const publisher = generateKeyPair();
const pinRoot = `/sys/fs/bpf/bpfleet-e2e-${randomBytes(6).toString('hex')}`;

let net: DeviceNetwork;
let registry: EdgeRegistry;
let edge: FleetEdge;
let work: string;
let agent: AgentProcess | undefined;

before(async () => {
  net = createDeviceNetwork();
  work = await mkdtemp(join(tmpdir(), 'bpfleet-e2e-outage-'));
  registry = await startEdgeRegistry(net.edgeAddr);
  edge = await startFleetEdge('mosquitto', FLEET, net.edgeAddr, [{ id: DEVICE, groups: ['edge'] }]);
});

after(async () => {
  if (agent) {
    agent.signal('SIGKILL');
    await agent.exited;
  }
  await rm(pinRoot, { recursive: true, force: true });
  await edge?.close().catch(() => {});
  await registry?.stop().catch(() => {});
  net?.remove();
  await rm(work, { recursive: true, force: true });
});

test('mosquitto down: counting goes on; back: the agent reconnects and converges on what arrives', async () => {
  await registry.admin.createNamespace('acme');
  await registry.admin.addPublisherKey('acme', publisher.publicKeyPem);
  const { token } = await registry.admin.createToken('acme', 'e2e');
  const client = createRegistryClient({ url: registry.url, token });
  const pkg = await signedPackage(countManifest('1.0.0', 1), compileProgram('xdp_count'), publisher);
  await client.publish({
    namespace: 'acme',
    name: 'count',
    version: '1.0.0',
    archive: pkg.archive,
    bundle: pkg.bundle,
  });

  const metricsUrl = `http://${net.deviceAddr}:9465/metrics`;
  const config = await writeAgentConfig(work, {
    deviceId: DEVICE,
    fleet: FLEET,
    groups: ['edge'],
    broker: { url: edge.brokerUrl, username: DEVICE, keepaliveSeconds: 5 },
    registry: { url: registry.url },
    trust: {
      operatorKeys: [{ keyId: operator.keyId, publicKeyPem: operator.publicKeyPem }],
      registryKeys: [registry.registryKey],
      publishers: { acme: [{ keyId: publisher.keyId, publicKeyPem: publisher.publicKeyPem }] },
    },
    dataDir: join(work, 'data'),
    pinRoot,
    allow: { interfaces: [net.wan] },
    metrics: { host: net.deviceAddr, port: 9465 },
    reconcileIntervalSeconds: 1,
  });
  // The broker password comes from the environment, as a systemd credential would.
  agent = spawnAgent(net.deviceNs, config, { BPFLEET_BROKER_PASSWORD: edge.logins[DEVICE]!.secret });

  const policy = async (serial: number, build: number) => {
    const signed = await signPolicy(
      {
        apiVersion: 'bpfleet/v1',
        kind: 'Policy',
        serial,
        expires: '2099-01-01T00:00:00Z',
        target: { group: 'edge' },
        fleet: FLEET,
        programs: [
          {
            id: 'count',
            package: 'acme/count',
            version: '^1',
            attach: { interface: net.wan },
            config: { version: build },
          },
        ],
      },
      toSigningKey(operator.privateKeyPem),
    );
    await edge.publishDesired({ group: 'edge' }, JSON.stringify(signed));
  };
  const program = () => edge.store.getDevice(DEVICE)?.reported?.programs.find((p) => p.id === 'count');
  const counts = () => programMetrics(metricsUrl, 'count');

  await policy(1, 11);
  await until(
    () => program()?.status === 'ATTACHED',
    'attached through the group policy',
    30_000,
    () => [program(), agent?.logs().slice(-5)],
  );
  assert.equal(edge.store.getDevice(DEVICE)?.presence, 'online');
  await net.ping(10);
  await until(async () => (await counts()).get('slot=0') === 10, '10 counted', 10_000);
  assert.equal((await counts()).get('slot=1'), 11);

  // Broker down: the agent notices, the program keeps counting.
  await edge.stopBroker();
  await until(
    async () => (await agentGauge(metricsUrl, 'bpfleet_agent_mqtt_connected')) === 0,
    'agent sees the outage',
  );
  const during = await net.ping(20);
  assert.equal(during.received, 20);
  await until(async () => (await counts()).get('slot=0') === 30, 'counting through the outage', 10_000);
  assert.equal(xdpPrograms(net.deviceNs, net.wan).length, 1);

  // Broker back: the agent reconnects (its last will said offline meanwhile), then converges on a new policy.
  await edge.startBroker();
  await until(
    async () => (await agentGauge(metricsUrl, 'bpfleet_agent_mqtt_connected')) === 1,
    'agent reconnected',
    60_000,
  );
  await until(() => edge.store.getDevice(DEVICE)?.presence === 'online', 'online again', 30_000);
  await policy(2, 12);
  await until(
    () =>
      edge.store.getDevice(DEVICE)?.reported?.policies[`bpfleet/v1/${FLEET}/grp/edge/desired`]?.serial === 2,
    'policy 2 applied after the outage',
    30_000,
  );
  await until(async () => {
    await net.ping(1);
    return (await counts()).get('slot=1') === 12;
  }, 'the new config runs');
  assert.equal(program()?.status, 'ATTACHED');
  assert.equal(xdpPrograms(net.deviceNs, net.wan).length, 1);
  assert.deepEqual(pinsUnder(pinRoot), ['count/links/count_pings', 'count/maps/counts']);
  assert.ok(
    ((await counts()).get('slot=0') ?? 0) >= 31,
    'the persisted counter carried over the reconfigure',
  );
});
