// One device on the real edge for the device-truth tests: bpfleet-edge (registry + fleet) on the device's uplink,
// the device registered through the fleet API, the bpfleet-agent process in its namespace, operator-signed policies.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeviceSummary } from '@bpfleet/sdk';
import { type Policy, signPolicy } from '@bpfleet/sdk/policy';
import { until } from '@bpfleet/sdk/test-kit';
import { generateKeyPair, toSigningKey, writeKeyPair } from '@bpfleet/sdk/trust';
import { type AgentProcess, spawnAgent } from '../fixtures/agent-process.js';
import { writeDeviceAgentConfig } from '../fixtures/device-agent-config.js';
import { createDeviceNetwork, type DeviceNetwork } from '../fixtures/device-network.js';
import { type EdgeProcess, startEdgeProcess } from '../fixtures/edge-process.js';
import {
  preparePublisher,
  publishSigned,
  type SignedArchive,
  signArchive,
} from '../quickstart/publishing.js';

export type ReportedProgram = DeviceSummary['programs'][number];

export interface PublishedDeviceOptions {
  /** Helper tag in the names of namespaces, veths and pin dirs. */
  tag: string;
  /** x of the 198.18.x.0/24 block the device network uses. */
  block: number;
  /** Where in the block the device network's addresses start (see DeviceNetworkOptions.offset). */
  offset?: number;
  /** Package namespaces the publisher key signs for. */
  namespaces: string[];
  /** The device owner's allow-list, decided once the network exists (extra interfaces, test cgroups). */
  allow(net: DeviceNetwork): { interfaces: string[]; cgroups: string[] };
  /** The agent runs as on a kernel without BTF (/sys/kernel/btf hidden in its mount namespace). */
  hideKernelBtf?: boolean;
}

export interface PublishedDevice {
  net: DeviceNetwork;
  edge: EdgeProcess;
  agent: AgentProcess;
  deviceId: string;
  /** The agent's pin root (bpffs). */
  pinRoot: string;
  /** The agent config file the device's agent runs with. */
  configPath: string;
  /** Signs a `bpfleet build` package with the publisher key and publishes it to the edge. */
  publish(archive: Buffer): Promise<SignedArchive>;
  /** Signs a package with the publisher key without publishing it. */
  sign(archive: Buffer): Promise<SignedArchive>;
  /** The edge's data directory (its catalog and blobs). */
  edgeDataDir: string;
  /** The operator's private key file and fleet name, for policies applied with the `bpfleet` CLI. */
  operatorKeyFile: string;
  fleet: string;
  /** Applies an operator-signed device policy through the edge's fleet API (which checks it against the catalog). */
  apply(programs: Policy['programs'], expires?: Date): Promise<void>;
  /** What the edge shows for the device's programs. */
  reported(): Promise<ReportedProgram[]>;
  /** Waits until the edge shows each of `ids` out of PENDING (ATTACHED, FAILED, …) and returns what it shows. */
  settled(ids: string[], timeoutMs?: number): Promise<ReportedProgram[]>;
  close(): Promise<void>;
}

const FLEET = 'truth';

export async function startPublishedDevice(o: PublishedDeviceOptions): Promise<PublishedDevice> {
  const operator = generateKeyPair();
  const publisher = generateKeyPair();
  const deviceId = `${o.tag}-device`;
  const pinRoot = `/sys/fs/bpf/bpfleet-${o.tag}-${randomBytes(4).toString('hex')}`;
  const work = await mkdtemp(join(tmpdir(), `bpfleet-${o.tag}-`));
  const net = createDeviceNetwork({ tag: o.tag, block: o.block, ...(o.offset && { offset: o.offset }) });
  let edge: EdgeProcess | undefined;
  let agent: AgentProcess | undefined;
  const close = async () => {
    if (agent) {
      agent.signal('SIGKILL');
      await agent.exited;
    }
    await rm(pinRoot, { recursive: true, force: true });
    await edge?.stop().catch(() => {});
    net.remove();
    await rm(work, { recursive: true, force: true });
  };
  try {
    const keys = await writeKeyPair(join(work, 'keys'), 'operator', operator);
    edge = await startEdgeProcess({
      dataDir: join(work, 'edge'),
      fleet: FLEET,
      operatorKeyFile: keys.publicKeyPath,
      host: net.edgeAddr,
    });
    const publishers = await Promise.all(
      o.namespaces.map((ns) =>
        preparePublisher(edge?.admin as EdgeProcess['admin'], ns, publisher.publicKeyPem),
      ),
    );
    const login = await edge.fleet.registerDevice(deviceId, []);
    const registryKey = await edge.admin.getRegistryKey();
    const trustKey = { keyId: publisher.keyId, publicKeyPem: publisher.publicKeyPem };
    const configPath = await writeDeviceAgentConfig(
      {
        work,
        deviceId,
        fleet: FLEET,
        groups: [],
        broker: { url: edge.brokerUrl, password: login.broker.password },
        registry: {
          url: edge.url,
          registryKey: { keyId: registryKey.keyId, publicKeyPem: registryKey.publicKeyPem },
        },
        operator,
        publisher,
        pinRoot,
        wan: net.wan,
      },
      {
        allow: o.allow(net),
        trust: {
          operatorKeys: [{ keyId: operator.keyId, publicKeyPem: operator.publicKeyPem }],
          registryKeys: [{ keyId: registryKey.keyId, publicKeyPem: registryKey.publicKeyPem }],
          publishers: Object.fromEntries(o.namespaces.map((ns) => [ns, [trustKey]])),
        },
      },
    );
    agent = spawnAgent(net.deviceNs, configPath, {}, { hideKernelBtf: o.hideKernelBtf ?? false });
    const running = { edge, agent };
    const reported = async () => (await running.edge.fleet.getDevice(deviceId)).programs;
    return {
      net,
      ...running,
      deviceId,
      pinRoot,
      configPath,
      edgeDataDir: join(work, 'edge'),
      operatorKeyFile: keys.privateKeyPath,
      fleet: FLEET,
      sign: (archive) => signArchive(archive, toSigningKey(publisher.privateKeyPem)),
      async publish(archive) {
        const pkg = await signArchive(archive, toSigningKey(publisher.privateKeyPem));
        const client = publishers[o.namespaces.indexOf(pkg.namespace)];
        if (!client) throw new Error(`publish ${pkg.namespace}/${pkg.name}: namespace not prepared`);
        await publishSigned(client, pkg);
        return pkg;
      },
      async apply(programs, expires = new Date('2099-01-01T00:00:00Z')) {
        const { nextSerial: serial } = await running.edge.fleet.currentPolicy({ device: deviceId });
        const policy: Policy = {
          apiVersion: 'bpfleet/v1',
          kind: 'Policy',
          serial,
          expires: expires.toISOString(),
          target: { device: deviceId },
          fleet: FLEET,
          programs,
        };
        await running.edge.fleet.applyPolicy(await signPolicy(policy, toSigningKey(operator.privateKeyPem)));
      },
      reported,
      async settled(ids, timeoutMs = 45_000) {
        let last: ReportedProgram[] = [];
        const done = async () => {
          last = await reported();
          return ids.every((id) => last.some((p) => p.id === id && p.status !== 'PENDING'));
        };
        await until(done, `${ids.join(', ')} settled at the edge`, timeoutMs, () => [
          last.map((p) => [p.id, p.status]),
          running.agent.logs().slice(-5),
        ]);
        return last;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
