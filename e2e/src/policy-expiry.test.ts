// End to end: policy expiry on the real agent and kernel. A policy that expired while the agent was down is reported
// POLICY_EXPIRED on restart and what it deployed keeps running; an `onExpiry: remove` policy's program goes at expiry.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Policy, signPolicy } from '@bpfleet/sdk/policy';
import { createRegistryClient } from '@bpfleet/sdk/registry-client';
import { generateKeyPair, toSigningKey } from '@bpfleet/sdk/trust';
import { type AgentProcess, spawnAgent } from './fixtures/agent-process.js';
import { writeDeviceAgentConfig } from './fixtures/device-agent-config.js';
import { createDeviceNetwork, type DeviceNetwork } from './fixtures/device-network.js';
import { type EdgeRegistry, startEdgeRegistry } from './fixtures/edge-registry.js';
import { type FleetEdge, startFleetEdge } from './fixtures/fleet-edge.js';
import { pinsUnder, xdpPrograms } from './fixtures/kernel-state.js';
import {
  compileProgram,
  countManifest,
  type SignedPackage,
  signedPackage,
} from './fixtures/test-packages.js';
import { until } from './fixtures/until.js';

const FLEET = 'h4r';
const DEVICE = 'h4r-expiry';
const operator = generateKeyPair();
const publisher = generateKeyPair();
const pinRoot = `/sys/fs/bpf/bpfleet-h4r-${randomBytes(4).toString('hex')}`;

let net: DeviceNetwork;
let registry: EdgeRegistry;
let edge: FleetEdge;
let work: string;
let configPath: string;
let pkg: SignedPackage;
let agent: AgentProcess | undefined;
let serial = 0;

before(async () => {
  net = createDeviceNetwork({ tag: 'h4r', block: 105 });
  work = await mkdtemp(join(tmpdir(), 'bpfleet-h4r-expiry-'));
  registry = await startEdgeRegistry(net.edgeAddr);
  edge = await startFleetEdge('embedded', FLEET, net.edgeAddr, [{ id: DEVICE, groups: [] }]);
  await registry.admin.createNamespace('acme');
  await registry.admin.addPublisherKey('acme', publisher.publicKeyPem);
  const { token } = await registry.admin.createToken('acme', 'h4r');
  pkg = await signedPackage(countManifest('1.0.0', 1), compileProgram('xdp_count'), publisher);
  await createRegistryClient({ url: registry.url, token }).publish({
    namespace: 'acme',
    name: 'count',
    version: pkg.version,
    archive: pkg.archive,
    bundle: pkg.bundle,
  });
  configPath = await writeDeviceAgentConfig({
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
});

after(async () => {
  await stopAgent('SIGKILL');
  await rm(pinRoot, { recursive: true, force: true });
  await edge?.close().catch(() => {});
  await registry?.stop().catch(() => {});
  net?.remove();
  await rm(work, { recursive: true, force: true });
});

async function stopAgent(sig: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  if (!agent) return;
  agent.signal(sig);
  await agent.exited;
  agent = undefined;
}

async function apply(id: string, expires: Date, onExpiry?: Policy['onExpiry']): Promise<void> {
  const policy: Policy = {
    apiVersion: 'bpfleet/v1',
    kind: 'Policy',
    serial: ++serial,
    expires: expires.toISOString(),
    ...(onExpiry && { onExpiry }),
    target: { device: DEVICE },
    fleet: FLEET,
    programs: [{ id, package: 'acme/count', version: pkg.version, attach: { interface: net.wan } }],
  };
  await edge.publishDesired(
    { device: DEVICE },
    JSON.stringify(await signPolicy(policy, toSigningKey(operator.privateKeyPem))),
  );
}

const reported = () => edge.store.getDevice(DEVICE)?.reported;
const program = (id: string) => reported()?.programs.find((p) => p.id === id);
/** POLICY_EXPIRED events since `since`: the policy's own (`policy` set) and the loop's per deployment. */
const expiredEvents = (since: number, of: 'policy' | 'deployment' = 'policy') =>
  edge.store
    .events(DEVICE, 200)
    .filter(
      (e) =>
        e.event.state === 'POLICY_EXPIRED' && e.event[of] !== undefined && Date.parse(e.event.time) >= since,
    );

async function attached(id: string): Promise<number> {
  await until(
    () => program(id)?.status === 'ATTACHED',
    `${id} attached`,
    30_000,
    () => [program(id), agent?.logs().slice(-5)],
  );
  const ids = xdpPrograms(net.deviceNs, net.wan);
  assert.equal(ids.length, 1, `one XDP program on ${net.wan}: ${ids.join(',')}`);
  return ids[0]!;
}

test('a policy that expired while the agent was down: POLICY_EXPIRED on restart, the program keeps running', async () => {
  const expires = new Date(Date.now() + 8000);
  agent = spawnAgent(net.deviceNs, configPath);
  await apply('cnt', expires);
  const prog = await attached('cnt');
  const pins = pinsUnder(pinRoot);

  // Down across the expiry: nothing is there to notice it but what the agent finds when it starts again.
  await stopAgent('SIGTERM');
  await sleep(Math.max(0, expires.getTime() - Date.now()) + 500);
  const restarted = Date.now();
  agent = spawnAgent(net.deviceNs, configPath);
  let seen: unknown;
  await until(
    () => {
      seen = [reported()?.policyErrors, expiredEvents(restarted).map((e) => e.event.reason)];
      return (
        Object.values(reported()?.policyErrors ?? {}).some((r) => r.code === 'POLICY_EXPIRED') &&
        expiredEvents(restarted).length === 1 &&
        Date.parse(reported()?.time ?? '') >= restarted
      );
    },
    'POLICY_EXPIRED reported after the restart (policy error and one event)',
    20_000,
    () => [seen, agent?.logs().slice(-8)],
  );
  assert.match(
    expiredEvents(restarted)[0]?.event.reason?.message ?? '',
    /expired at .*; what runs stays, nothing more is applied from it until a newer policy arrives/,
  );

  // Fail-safe: the same program stays on the hook, with its pins, and still sees the packets.
  await sleep(2000);
  assert.deepEqual(
    xdpPrograms(net.deviceNs, net.wan),
    [prog],
    'the same XDP program on the hook (ip -j link)',
  );
  assert.deepEqual(pinsUnder(pinRoot), pins, 'its pins stay');
  assert.equal((await net.ping(2)).received, 2, 'the device still answers through it');
  assert.equal(expiredEvents(restarted).length, 1, 'reported once, not on every pass');
  // The loop says it per program too: the report's lastError and one event for the deployment.
  assert.equal(program('cnt')?.lastError?.code, 'POLICY_EXPIRED', JSON.stringify(program('cnt')));
  assert.equal(program('cnt')?.status, 'ATTACHED');
  assert.equal(expiredEvents(restarted, 'deployment').length, 1);

  // A renewal (a newer serial) clears the report.
  await apply('cnt', new Date(Date.now() + 3_600_000));
  await until(
    () => Object.keys(reported()?.policyErrors ?? {}).length === 0,
    'renewal clears POLICY_EXPIRED',
    20_000,
    () => [reported()],
  );
  assert.deepEqual(xdpPrograms(net.deviceNs, net.wan), [prog], 'renewal keeps the same program');
});

test('onExpiry: remove — the agent detaches the program when the policy expires while it runs', async () => {
  agent ??= spawnAgent(net.deviceNs, configPath);
  const expires = new Date(Date.now() + 6000);
  await apply('cnt', expires, 'remove');
  await attached('cnt');
  assert.ok(pinsUnder(pinRoot).length > 0);
  // Nothing more is sent: only the agent's own timer can act.
  await until(
    () => xdpPrograms(net.deviceNs, net.wan).length === 0,
    'the XDP hook empty after the expiry',
    15_000,
    () => [program('cnt'), agent?.logs().slice(-8)],
  );
  assert.ok(Date.now() >= expires.getTime(), 'not before the expiry');
  await until(
    () => pinsUnder(pinRoot).length === 0,
    'no pin left',
    10_000,
    () => [pinsUnder(pinRoot)],
  );
  await until(
    () => Object.values(reported()?.policyErrors ?? {}).some((r) => /onExpiry: remove/.test(r.message)),
    'POLICY_EXPIRED (remove) at the edge',
    10_000,
    () => [reported()],
  );
  assert.equal(program('cnt'), undefined, 'no longer reported as wanted');
});
