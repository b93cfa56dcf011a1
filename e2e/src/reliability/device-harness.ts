// One device for the reliability suites: its namespace, the real bpfleet-edge, a fleet edge with a broker, the
// agent process (restartable), acme/count published in several versions, signed policies, convergence checks.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Policy, signPolicy } from '@bpfleet/sdk/policy';
import { deviceTopic, type ProgramReport } from '@bpfleet/sdk/protocol';
import { createRegistryClient, type RegistryClient } from '@bpfleet/sdk/registry-client';
import { until } from '@bpfleet/sdk/test-kit';
import { generateKeyPair, type KeyPair, toSigningKey } from '@bpfleet/sdk/trust';
import { type AgentProcess, spawnAgent } from '../fixtures/agent-process.js';
import { writeDeviceAgentConfig } from '../fixtures/device-agent-config.js';
import { createDeviceNetwork, type DeviceNetwork } from '../fixtures/device-network.js';
import { type EdgeRegistry, startEdgeRegistry } from '../fixtures/edge-registry.js';
import { type BrokerKind, type FleetEdge, startFleetEdge } from '../fixtures/fleet-edge.js';
import { linksRunning, pinsUnder, programMetrics, xdpPrograms } from '../fixtures/kernel-state.js';
import { moveSigned } from '../fixtures/signed-channel.js';
import {
  compileProgram,
  countManifest,
  type SignedPackage,
  signedPackage,
} from '../fixtures/test-packages.js';

export const FLEET = 'rel';
export const DEVICE = 'dev-1';
export const PINS = ['count/links/count_pings', 'count/maps/counts'];

/** What the device should run: acme/count at `version` whose slot 1 counts `build`, or nothing. */
export type Wanted = { version: string; build: number; channel: boolean } | null;

export interface DeviceHarness {
  net: DeviceNetwork;
  registry: EdgeRegistry;
  edge: FleetEdge;
  publisher: KeyPair;
  operator: KeyPair;
  publish: RegistryClient;
  pinRoot: string;
  metricsUrl: string;
  work: string;
  agent(): AgentProcess | undefined;
  startAgent(): AgentProcess;
  killAgent(): Promise<void>;
  release(version: string, build: number, channel?: boolean): Promise<SignedPackage>;
  /** Signs and publishes the device's policy for `wanted`; returns its serial. */
  applyPolicy(wanted: Wanted, signer?: KeyPair, serial?: number): Promise<number>;
  program(): ProgramReport | undefined;
  appliedSerial(): number | undefined;
  counts(): Promise<Map<string, number>>;
  /** Waits for the reported state, then checks the kernel: one XDP program and link, exact pins, the wanted build counting. */
  converged(wanted: Wanted, serial: number, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  broker?: BrokerKind;
  /** Other devices registered with the broker (their logins are in `edge.logins`). */
  otherDevices?: string[];
  /** The registry URL the agent is given, from the real one (an attacker's mirror in front of it). */
  agentRegistryUrl?: (real: string, host: string) => Promise<string>;
  /** Extra `registry` settings of the agent config (download timeouts). */
  registryConfig?: Record<string, unknown>;
}

export async function startDeviceHarness(options: HarnessOptions = {}): Promise<DeviceHarness> {
  const broker = options.broker ?? 'embedded';
  const net = createDeviceNetwork();
  const agents: AgentProcess[] = [];
  const work = await mkdtemp(join(tmpdir(), 'bpfleet-e2e-reliability-'));
  const pinRoot = `/sys/fs/bpf/bpfleet-e2e-${randomBytes(6).toString('hex')}`;
  let registry: EdgeRegistry | undefined;
  let edge: FleetEdge | undefined;
  const close = async () => {
    for (const a of agents) {
      a.signal('SIGKILL');
      await a.exited;
    }
    // Removing the pins drops the last reference to the links: the XDP program detaches.
    await rm(pinRoot, { recursive: true, force: true });
    await edge?.close().catch(() => {});
    await registry?.stop().catch(() => {});
    net.remove();
    await rm(work, { recursive: true, force: true });
  };
  try {
    registry = await startEdgeRegistry(net.edgeAddr);
    edge = await startFleetEdge(broker, FLEET, net.edgeAddr, [
      { id: DEVICE, groups: ['g'] },
      ...(options.otherDevices ?? []).map((id) => ({ id, groups: ['g'] })),
    ]);
  } catch (err) {
    await close();
    throw err;
  }
  const reg = registry;
  const fleetEdge = edge;
  const publisher = generateKeyPair();
  const operator = generateKeyPair();
  await reg.admin.createNamespace('acme');
  await reg.admin.addPublisherKey('acme', publisher.publicKeyPem);
  const { token } = await reg.admin.createToken('acme', 'e2e');
  const publish = createRegistryClient({ url: reg.url, token });
  const metricsUrl = `http://${net.deviceAddr}:9465/metrics`;
  const configPath = await writeDeviceAgentConfig(
    {
      work,
      deviceId: DEVICE,
      fleet: FLEET,
      groups: ['g'],
      broker: { url: fleetEdge.brokerUrl },
      registry: {
        url: options.agentRegistryUrl ? await options.agentRegistryUrl(reg.url, net.edgeAddr) : reg.url,
        ...options.registryConfig,
        registryKey: reg.registryKey,
      },
      operator,
      publisher,
      pinRoot,
      wan: net.wan,
    },
    { metrics: { host: net.deviceAddr, port: 9465 } },
  );
  const object = compileProgram('xdp_count');
  const topic = deviceTopic(FLEET, DEVICE, 'desired');
  let serial = 0;
  let current: AgentProcess | undefined;
  const program = () => fleetEdge.store.getDevice(DEVICE)?.reported?.programs.find((p) => p.id === 'count');
  const appliedSerial = () => fleetEdge.store.getDevice(DEVICE)?.reported?.policies[topic]?.serial;
  const counts = () => programMetrics(metricsUrl, 'count');
  return {
    net,
    registry: reg,
    edge: fleetEdge,
    publisher,
    operator,
    publish,
    pinRoot,
    metricsUrl,
    work,
    agent: () => current,
    startAgent() {
      current = spawnAgent(net.deviceNs, configPath, {
        BPFLEET_BROKER_PASSWORD: fleetEdge.logins[DEVICE]?.secret ?? '',
      });
      agents.push(current);
      return current;
    },
    async killAgent() {
      const a = current;
      if (!a) return;
      a.signal('SIGKILL');
      assert.equal(await a.exited, 'SIGKILL');
      current = undefined;
    },
    async release(version, build, channel = true) {
      const pkg = await signedPackage(countManifest(version, build), object, publisher);
      await publish.publish({
        namespace: 'acme',
        name: 'count',
        version,
        archive: pkg.archive,
        bundle: pkg.bundle,
      });
      if (channel) await moveSigned(publish, publisher, version);
      return pkg;
    },
    async applyPolicy(wanted, signer = operator, forcedSerial) {
      const programs: Policy['programs'] = wanted
        ? [
            {
              id: 'count',
              package: 'acme/count',
              ...(wanted.channel ? { channel: 'stable' } : { version: wanted.version }),
              attach: { interface: net.wan },
              config: { version: wanted.build },
            },
          ]
        : [];
      const policy: Policy = {
        apiVersion: 'bpfleet/v1',
        kind: 'Policy',
        serial: forcedSerial ?? ++serial,
        expires: '2099-01-01T00:00:00Z',
        target: { device: DEVICE },
        fleet: FLEET,
        programs,
      };
      const signed = await signPolicy(policy, toSigningKey(signer.privateKeyPem));
      await fleetEdge.publishDesired({ device: DEVICE }, JSON.stringify(signed));
      return forcedSerial ?? serial;
    },
    program,
    appliedSerial,
    counts,
    async converged(wanted, wantedSerial, what, timeoutMs = 60_000) {
      const detail = () => [program(), appliedSerial(), current?.logs().slice(-4)];
      await until(
        () =>
          appliedSerial() === wantedSerial &&
          (wanted
            ? program()?.status === 'ATTACHED' && program()?.version === wanted.version
            : program() === undefined),
        `${what}: reported state`,
        timeoutMs,
        detail,
      );
      if (!wanted) {
        await until(() => xdpPrograms(net.deviceNs, net.wan).length === 0, `${what}: detached`, 10_000);
        assert.deepEqual(pinsUnder(pinRoot), [], `${what}: pins left`);
        return;
      }
      // The data path runs the wanted build: a packet is counted by the program that is attached now.
      await until(
        async () => {
          await net.ping(1, 0.2);
          return (await counts()).get('slot=1') === wanted.build;
        },
        `${what}: build ${wanted.build} counting`,
        20_000,
        async () => detail(),
      );
      const progs = xdpPrograms(net.deviceNs, net.wan);
      assert.equal(progs.length, 1, `${what}: XDP programs on ${net.wan}: ${progs}`);
      assert.equal(linksRunning(progs[0] ?? -1), 1, `${what}: links running program ${progs[0]}`);
      assert.deepEqual(pinsUnder(pinRoot), PINS, `${what}: pins`);
    },
    close,
  };
}
