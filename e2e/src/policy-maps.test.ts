// End to end: the real xdp-firewall 1.2.0 from the edge registry, its blocklist from a signed device policy over
// the embedded broker, enforced by the bpfleet-agent process in a device namespace, then changed in place.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { libraryProgram } from '@bpfleet/agent';
import { type Policy, type PolicyMapEntry, signPolicy } from '@bpfleet/sdk/policy';
import { createRegistryClient } from '@bpfleet/sdk/registry-client';
import { generateKeyPair, toSigningKey } from '@bpfleet/sdk/trust';
import { type AgentProcess, spawnAgent } from './fixtures/agent-process.js';
import { writeDeviceAgentConfig } from './fixtures/device-agent-config.js';
import { createDeviceNetwork, type DeviceNetwork } from './fixtures/device-network.js';
import { type EdgeRegistry, startEdgeRegistry } from './fixtures/edge-registry.js';
import { type FleetEdge, startFleetEdge } from './fixtures/fleet-edge.js';
import { xdpPrograms } from './fixtures/kernel-state.js';
import { signedPackage } from './fixtures/test-packages.js';
import { until } from './fixtures/until.js';

const FLEET = 'home';
const DEVICE = 'cpe-maps';
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
  work = await mkdtemp(join(tmpdir(), 'bpfleet-e2e-maps-'));
  registry = await startEdgeRegistry(net.edgeAddr);
  edge = await startFleetEdge('embedded', FLEET, net.edgeAddr, [{ id: DEVICE, groups: [] }]);
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

test('a signed policy blocklists a source on the device, then unblocks it in place', async () => {
  const { object, manifest } = libraryProgram('xdp-firewall');
  manifest.name = 'acme/xdp-firewall';
  await registry.admin.createNamespace('acme');
  await registry.admin.addPublisherKey('acme', publisher.publicKeyPem);
  const { token } = await registry.admin.createToken('acme', 'e2e');
  const pkg = await signedPackage(manifest, object, publisher);
  await createRegistryClient({ url: registry.url, token }).publish({
    namespace: 'acme',
    name: 'xdp-firewall',
    version: pkg.version,
    archive: pkg.archive,
    bundle: pkg.bundle,
  });
  const configPath = await writeDeviceAgentConfig({
    work,
    deviceId: DEVICE,
    fleet: FLEET,
    groups: [],
    broker: { url: edge.brokerUrl, password: edge.logins[DEVICE]?.secret },
    registry: { url: registry.url, registryKey: registry.registryKey },
    operator,
    publisher,
    pinRoot,
    wan: net.wan,
  });
  agent = spawnAgent(net.deviceNs, configPath);

  let serial = 0;
  const apply = async (blocklist: PolicyMapEntry[]) => {
    const policy: Policy = {
      apiVersion: 'bpfleet/v1',
      kind: 'Policy',
      serial: ++serial,
      expires: '2099-01-01T00:00:00Z',
      target: { device: DEVICE },
      fleet: FLEET,
      programs: [
        {
          id: 'fw',
          package: 'acme/xdp-firewall',
          version: pkg.version,
          attach: { interface: net.wan },
          maps: { blocklist_v4: blocklist },
        },
      ],
    };
    await edge.publishDesired(
      { device: DEVICE },
      JSON.stringify(await signPolicy(policy, toSigningKey(operator.privateKeyPem))),
    );
  };
  const report = () => edge.store.getDevice(DEVICE)?.reported?.programs.find((p) => p.id === 'fw');
  const block = (addr: string, prefixlen: number): PolicyMapEntry => ({ key: { prefixlen, addr }, value: 1 });

  await apply([block(net.peerAddr, 32), block('203.0.113.0', 24)]);
  await until(
    () => report()?.status === 'ATTACHED' && report()?.maps?.blocklist_v4 === 2,
    'firewall attached with its blocklist',
    30_000,
    () => [report(), agent?.logs().slice(-5)],
  );
  const [id] = xdpPrograms(net.deviceNs, net.wan);
  assert.equal((await net.ping(3)).received, 0, 'the blocked peer is dropped');

  await apply([block('203.0.113.0', 24)]);
  await until(
    () => report()?.maps?.blocklist_v4 === 1,
    'entries changed',
    30_000,
    () => [report()],
  );
  assert.equal(report()?.status, 'ATTACHED');
  assert.deepEqual(xdpPrograms(net.deviceNs, net.wan), [id], 'the same program, no reload');
  assert.equal((await net.ping(3)).received, 3, 'unblocked');
});
