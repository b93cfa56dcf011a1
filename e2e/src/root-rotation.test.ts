// A root rotation end to end: the real edge and agent, xdp-firewall on the device's wan, the kernel as the observer.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { libraryProgram } from '@bpfleet/agent';
import type { DeviceSummary } from '@bpfleet/sdk';
import type { Manifest } from '@bpfleet/sdk/manifest';
import { type Policy, signPolicy } from '@bpfleet/sdk/policy';
import { rootTopic } from '@bpfleet/sdk/protocol';
import type { RegistryClient } from '@bpfleet/sdk/registry-client';
import { until } from '@bpfleet/sdk/test-kit';
import { generateKeyPair, type KeyPair, toSigningKey, writeKeyPair } from '@bpfleet/sdk/trust';
import Database from 'better-sqlite3';
import { type AgentProcess, spawnAgent } from './fixtures/agent-process.js';
import { writeDeviceAgentConfig } from './fixtures/device-agent-config.js';
import { createDeviceNetwork, type DeviceNetwork } from './fixtures/device-network.js';
import { type EdgeProcess, startEdgeProcess } from './fixtures/edge-process.js';
import { xdpPrograms } from './fixtures/kernel-state.js';
import { signedPackage } from './fixtures/test-packages.js';
import { preparePublisher } from './quickstart/publishing.js';

const TAG = 'rta';
const FLEET = 'rta';
const DEVICE = 'rta-device';
const CLI = fileURLToPath(new URL('../../sdk/dist/cli/main.js', import.meta.url));
const [r1, r2, operator, oldPublisher, newPublisher, newRegistry] = Array.from(
  { length: 6 },
  generateKeyPair,
) as [KeyPair, KeyPair, KeyPair, KeyPair, KeyPair, KeyPair];
const pinRoot = `/sys/fs/bpf/bpfleet-${TAG}-${randomBytes(4).toString('hex')}`;
const firewall = libraryProgram('xdp-firewall');

let net: DeviceNetwork;
let edge: EdgeProcess;
let agent: AgentProcess | undefined;
let work: string;
let keys: string;
let publish: RegistryClient;
let configPath: string;
let configBytes: Buffer;
let serial = 0;

type Program = DeviceSummary['programs'][number];

async function bpfleet(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], {
      cwd: keys,
      env: { PATH: process.env.PATH ?? '', HOME: work, XDG_CONFIG_HOME: work },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** `bpfleet root init` (signed by r1), `root sign` (r2): a root with both root keys, threshold 2. */
async function makeRoot(version: number, registryKeys: string[], publisher: string): Promise<string> {
  const file = `root.v${version}.${randomBytes(3).toString('hex')}.json`;
  const registry = registryKeys.flatMap((k) => ['--registry-key', k]);
  const init = await bpfleet(
    'root',
    'init',
    '--root-key',
    'r1.pub',
    '--root-key',
    'r2.pub',
    '--root-threshold',
    '2',
    ...registry,
    '--operator-key',
    'operator.pub',
    '--publisher',
    `acme=${publisher}`,
    '--root-version',
    String(version),
    '--key',
    'r1.key',
    '-o',
    file,
    '--json',
  );
  assert.equal(init.code, 0, init.stderr || init.stdout);
  const signed = await bpfleet('root', 'sign', file, '--key', 'r2.key', '--json');
  assert.equal(signed.code, 0, signed.stderr || signed.stdout);
  return file;
}

const publishRoot = (file: string) =>
  bpfleet('root', 'publish', file, '--registry', edge.url, '--token', edge.adminToken, '--json');

async function publishVersion(version: string, publisher: KeyPair): Promise<void> {
  const manifest: Manifest = { ...structuredClone(firewall.manifest), name: 'acme/xdp-firewall', version };
  const pkg = await signedPackage(manifest, firewall.object, publisher);
  await publish.publish({
    namespace: 'acme',
    name: 'xdp-firewall',
    version,
    archive: pkg.archive,
    bundle: pkg.bundle,
  });
}

async function want(version: string): Promise<void> {
  const policy: Policy = {
    apiVersion: 'bpfleet/v1',
    kind: 'Policy',
    serial: ++serial,
    expires: '2099-01-01T00:00:00Z',
    target: { device: DEVICE },
    fleet: FLEET,
    programs: [{ id: 'fw', package: 'acme/xdp-firewall', version, attach: { interface: net.wan } }],
  };
  const bundle = await signPolicy(policy, toSigningKey(operator.privateKeyPem));
  await edge.fleet.applyPolicy(bundle).catch((err: Error) => {
    throw new Error(
      `apply policy serial ${serial}: ${err.message}; the edge said: ${edge.stderr().slice(-1500)}`,
      {
        cause: err,
      },
    );
  });
}

/** Waits until the edge shows the device as `check` wants. */
async function edgeShows(
  what: string,
  check: (d: DeviceSummary, fw: Program | undefined) => boolean,
): Promise<DeviceSummary> {
  let last: DeviceSummary | undefined;
  await until(
    async () => {
      last = await edge.fleet.getDevice(DEVICE);
      return check(
        last,
        last.programs.find((p) => p.id === 'fw'),
      );
    },
    what,
    60_000,
    () => [last, agent?.logs().slice(-6)],
  );
  return last!;
}

const xdpProgram = (): number | undefined => xdpPrograms(net.deviceNs, net.wan)[0];
const rootError = (d: DeviceSummary) => d.policyErrors[rootTopic(FLEET)];

/** As a registry that skipped its checks would: stores `bundle` as root version 3 behind the edge's routes. */
async function serveAsVersion3(file: string): Promise<void> {
  const db = new Database(join(work, 'edge', 'catalog.db'));
  try {
    db.pragma('busy_timeout = 5000');
    const put = db.prepare(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    );
    put.run('root.v3', JSON.stringify(JSON.parse(await readFile(join(keys, file), 'utf8'))));
    put.run('root.latest', '3');
  } finally {
    db.close();
  }
  // The edge announces its newest root when it starts.
  await edge.restart();
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), `bpfleet-${TAG}-`));
  keys = join(work, 'keys');
  net = createDeviceNetwork({ tag: TAG, block: 130 });
  for (const [name, pair] of Object.entries({ r1, r2, operator, oldPublisher, newPublisher, newRegistry })) {
    await writeKeyPair(keys, name, pair);
  }
  edge = await startEdgeProcess({
    dataDir: join(work, 'edge'),
    fleet: FLEET,
    operatorKeyFile: join(keys, 'operator.pub'),
    host: net.edgeAddr,
  });
  const registryKey = await edge.admin.getRegistryKey();
  await writeFile(join(keys, 'registry.pub'), registryKey.publicKeyPem);
  publish = await preparePublisher(edge.admin, 'acme', oldPublisher.publicKeyPem);
  // 1.2.0 is signed before the rotation by the key it revokes: the edge keeps serving it.
  await publishVersion('1.0.0', oldPublisher);
  await publishVersion('1.2.0', oldPublisher);
  const v1 = await makeRoot(1, ['registry.pub'], 'oldPublisher.pub');
  const published = await publishRoot(v1);
  assert.equal(published.code, 0, published.stderr || published.stdout);
  // The device is provisioned with root v1 as its inline trust (the first root).
  const shown = await bpfleet('root', 'show', v1, '--agent-trust', '--json');
  const login = await edge.fleet.registerDevice(DEVICE, []);
  configPath = await writeDeviceAgentConfig(
    {
      work,
      deviceId: DEVICE,
      fleet: FLEET,
      groups: [],
      broker: { url: edge.brokerUrl, password: login.broker.password },
      registry: { url: edge.url, registryKey },
      operator,
      publisher: oldPublisher,
      pinRoot,
      wan: net.wan,
    },
    JSON.parse(shown.stdout) as Record<string, unknown>,
  );
  configBytes = await readFile(configPath);
  agent = spawnAgent(net.deviceNs, configPath);
  await want('1.0.0');
});

after(async () => {
  if (agent) {
    agent.signal('SIGKILL');
    await agent.exited;
  }
  await rm(pinRoot, { recursive: true, force: true });
  await edge?.stop().catch(() => {});
  net?.remove();
  await rm(work, { recursive: true, force: true });
});

test('root v2 (new registry key, new publisher, old publisher revoked) reaches the running device', async () => {
  await edgeShows('1.0.0 attached', (_, fw) => fw?.status === 'ATTACHED' && fw.version === '1.0.0');
  const first = xdpProgram();
  assert.ok(first !== undefined, 'the kernel has an XDP program on wan');
  const v2 = await makeRoot(2, ['registry.pub', 'newRegistry.pub'], 'newPublisher.pub');
  const published = await publishRoot(v2);
  assert.equal(published.code, 0, published.stderr || published.stdout);
  assert.equal((JSON.parse(published.stdout) as { version: number }).version, 2);
  // Synchronisation only (the proof is below): the device fetched v2 after the MQTT announcement.
  await until(
    () =>
      stat(join(work, 'data', 'roots', '2.json')).then(
        () => true,
        () => false,
      ),
    'root v2 kept',
    30_000,
  );
  // The edge now signs the index with the new registry key, which only root v2 names.
  await edge.kill('SIGTERM');
  await rm(join(work, 'edge', 'registry.key'));
  await rm(join(work, 'edge', 'registry.pub'));
  await writeKeyPair(join(work, 'edge'), 'registry', newRegistry);
  await edge.restart();
  assert.equal((await edge.admin.getRegistryKey()).keyId, newRegistry.keyId);
  await edge.admin.addPublisherKey('acme', newPublisher.publicKeyPem);
  await publishVersion('1.1.0', newPublisher);
  await want('1.1.0');
  await edgeShows(
    '1.1.0 attached',
    (_, fw) => fw?.status === 'ATTACHED' && fw.version === '1.1.0' && !fw.lastError,
  );
  const second = xdpProgram();
  assert.ok(
    second !== undefined && second !== first,
    `the kernel swapped the program (${first} → ${second})`,
  );
  assert.deepEqual(await readFile(configPath), configBytes, "the agent's config file is unchanged");
});

test('a version signed only by the revoked publisher key is refused; the running program stays', async () => {
  const running = xdpProgram();
  await want('1.2.0');
  const shown = await edgeShows('the refusal', (_, fw) =>
    ['KEY_UNKNOWN', 'KEY_NOT_TRUSTED_FOR_NAMESPACE'].includes(fw?.lastError?.code ?? ''),
  );
  const fw = shown.programs.find((p) => p.id === 'fw');
  assert.equal(fw?.version, '1.1.0');
  assert.equal(xdpProgram(), running, 'the kernel still runs the 1.1.0 program');
  // The edge, too, takes nothing new signed by it, although the key is still registered for the namespace.
  const refused = await publishVersion('1.3.0', oldPublisher).then(
    () => 'published',
    (err: { code?: string }) => err.code,
  );
  assert.ok(
    refused === 'KEY_UNKNOWN' || refused === 'KEY_NOT_TRUSTED_FOR_NAMESPACE',
    `the edge said ${refused}`,
  );
});

test('the edge refuses a skipped and a rolled-back root', async () => {
  const v4 = await makeRoot(4, ['newRegistry.pub'], 'newPublisher.pub');
  const skipped = await publishRoot(v4);
  assert.equal(skipped.code, 1);
  assert.equal(
    (JSON.parse(skipped.stdout) as { error: { code: string } }).error.code,
    'ROOT_VERSION_SKIPPED',
  );
  const v1again = await makeRoot(1, ['newRegistry.pub'], 'oldPublisher.pub');
  const rolled = await publishRoot(v1again);
  assert.equal((JSON.parse(rolled.stdout) as { error: { code: string } }).error.code, 'ROOT_ROLLBACK');
});

test('served by a registry that skipped its checks, a skipped or rolled-back root is refused by the device', async () => {
  const running = xdpProgram();
  await serveAsVersion3(await makeRoot(4, ['newRegistry.pub'], 'oldPublisher.pub'));
  const skipped = await edgeShows(
    'ROOT_VERSION_SKIPPED shown',
    (d) => rootError(d)?.code === 'ROOT_VERSION_SKIPPED',
  );
  assert.match(rootError(skipped)?.message ?? '', /version 4 skips version 3/);
  // Root v1 again, with the revoked publisher: a rollback.
  await serveAsVersion3(await makeRoot(1, ['newRegistry.pub'], 'oldPublisher.pub'));
  await edgeShows('ROOT_ROLLBACK shown', (d) => rootError(d)?.code === 'ROOT_ROLLBACK');
  // The device is still on v2: 1.2.0 (revoked key) stays refused and the kernel runs the same program.
  const fw = (await edge.fleet.getDevice(DEVICE)).programs.find((p) => p.id === 'fw');
  assert.equal(fw?.version, '1.1.0');
  assert.equal(xdpProgram(), running);
});
