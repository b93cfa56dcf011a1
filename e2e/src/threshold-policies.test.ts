// Threshold operator policies end to end (2 of 3 operators) and the edge key bounded by their allowance: the real
// bpfleet-edge and agent processes, real signatures, the CLI; the kernel (bpftool) is the observer.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { DeviceSummary } from '@bpfleet/sdk';
import { type Policy, readPolicyPayload, signPolicy } from '@bpfleet/sdk/policy';
import { deviceTopic, groupDesiredTopic } from '@bpfleet/sdk/protocol';
import { until } from '@bpfleet/sdk/test-kit';
import { generateKeyPair, type KeyPair, readPrivateKey, writeKeyPair } from '@bpfleet/sdk/trust';
import Database from 'better-sqlite3';
import { type AgentProcess, spawnAgent } from './fixtures/agent-process.js';
import { writeDeviceAgentConfig } from './fixtures/device-agent-config.js';
import { createDeviceNetwork, type DeviceNetwork } from './fixtures/device-network.js';
import { type EdgeProcess, startEdgeProcess } from './fixtures/edge-process.js';
import { xdpPrograms } from './fixtures/kernel-state.js';
import { compileProgram, countManifest, signedPackage } from './fixtures/test-packages.js';
import { preparePublisher } from './quickstart/publishing.js';

const TAG = 'thp';
const FLEET = 'thp';
const DEVICE = 'thp-device';
const GROUP = 'thp-gw';
const CLI = fileURLToPath(new URL('../../sdk/dist/cli/main.js', import.meta.url));
const operators = [generateKeyPair(), generateKeyPair(), generateKeyPair()] as const;
const publisher = generateKeyPair();
const pinRoot = `/sys/fs/bpf/bpfleet-${TAG}-${randomBytes(4).toString('hex')}`;
const trustKey = (k: { keyId: string; publicKeyPem: string }) => ({
  keyId: k.keyId,
  publicKeyPem: k.publicKeyPem,
});

let net: DeviceNetwork;
let edge: EdgeProcess;
let agent: AgentProcess | undefined;
let work: string;
const keyFile = (i: number) => join(work, 'keys', `op${i + 1}.key`);

type Program = DeviceSummary['programs'][number];

/** The XDP program on wan and the package build (its `version` constant) it runs, from bpftool. */
function running(): { prog: number | undefined; build: number | undefined } {
  const [prog] = xdpPrograms(net.deviceNs, net.wan);
  if (prog === undefined) return { prog, build: undefined };
  const info = JSON.parse(
    execFileSync('bpftool', ['-j', 'prog', 'show', 'id', String(prog)], { encoding: 'utf8' }),
  );
  for (const id of (info as { map_ids?: number[] }).map_ids ?? []) {
    const m = /"version":\s*(\d+)/.exec(
      execFileSync('bpftool', ['-j', 'map', 'dump', 'id', String(id)], { encoding: 'utf8' }),
    );
    if (m) return { prog, build: Number(m[1]) };
  }
  return { prog, build: undefined };
}

async function edgeShows(what: string, check: (d: DeviceSummary, p: Program | undefined) => boolean) {
  let last: DeviceSummary | undefined;
  await until(
    async () => {
      last = await edge.fleet.getDevice(DEVICE);
      return check(
        last,
        last.programs.find((p) => p.id === 'count'),
      );
    },
    what,
    60_000,
    () => [last?.programs, last?.policyErrors, agent?.logs().slice(-5)],
  );
  return last!;
}

async function bpfleet(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = [CLI, ...args, '--registry', edge.url, '--token', edge.adminToken];
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, argv, {
      env: { PATH: process.env.PATH ?? '', HOME: work, XDG_CONFIG_HOME: work },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** As an edge that skipped its checks would: stores a bundle for a target, then republishes it at its restart. */
async function serveUnchecked(target: string, bundle: unknown): Promise<void> {
  const { policy } = readPolicyPayload(bundle);
  const db = new Database(join(work, 'edge', 'fleet.db'));
  try {
    db.pragma('busy_timeout = 5000');
    db.prepare(
      `INSERT INTO fleet_policies (target, serial, policy, bundle, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (target) DO UPDATE SET serial = excluded.serial, policy = excluded.policy, bundle = excluded.bundle`,
    ).run(target, policy.serial, JSON.stringify(policy), JSON.stringify(bundle), new Date().toISOString());
  } finally {
    db.close();
  }
  await edge.restart();
}

/** The operators' group policy file: acme/count 1.0.0 on wan, rollouts allowed up to (not including) 1.2.0. */
async function groupPolicyFile(serial: number, allowed = '>=1.0.0 <1.2.0'): Promise<string> {
  const file = join(work, `gw-${serial}.yaml`);
  await writeFile(
    file,
    [
      `serial: ${serial}`,
      "expires: '2099-01-01T00:00:00Z'",
      `target: { group: ${GROUP} }`,
      `fleet: ${FLEET}`,
      'programs:',
      `  - { id: count, package: acme/count, version: 1.0.0, attach: { interface: ${net.wan} } }`,
      'allow:',
      `  - { package: acme/count, versions: '${allowed}' }`,
    ].join('\n'),
  );
  return file;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), `bpfleet-${TAG}-`));
  net = createDeviceNetwork({ tag: TAG, block: 131 });
  const pub = await Promise.all(operators.map((k, i) => writeKeyPair(join(work, 'keys'), `op${i + 1}`, k)));
  edge = await startEdgeProcess({
    dataDir: join(work, 'edge'),
    fleet: FLEET,
    operatorKeyFile: pub[0]!.publicKeyPath,
    host: net.edgeAddr,
    args: [
      '--operator-key',
      pub[1]!.publicKeyPath,
      '--operator-key',
      pub[2]!.publicKeyPath,
      '--operator-threshold',
      '2',
    ],
  });
  const token = await preparePublisher(edge.admin, 'acme', publisher.publicKeyPem);
  const object = compileProgram('xdp_count');
  for (const [version, build] of [
    ['1.0.0', 1],
    ['1.1.0', 2],
    ['1.2.0', 3],
  ] as const) {
    const p = await signedPackage(countManifest(version, build), object, publisher);
    await token.publish({ namespace: 'acme', name: 'count', version, archive: p.archive, bundle: p.bundle });
  }
  const login = await edge.fleet.registerDevice(DEVICE, [GROUP]);
  const registryKey = trustKey(await edge.admin.getRegistryKey());
  const setup = {
    work,
    deviceId: DEVICE,
    fleet: FLEET,
    groups: [GROUP],
    broker: { url: edge.brokerUrl, password: login.broker.password },
    registry: { url: edge.url, registryKey },
    operator: operators[0] as KeyPair,
    publisher,
    pinRoot,
    wan: net.wan,
  };
  const configPath = await writeDeviceAgentConfig(setup, {
    trust: {
      operatorKeys: operators.map(trustKey),
      operatorThreshold: 2,
      edgeKeys: [trustKey(await edge.fleet.edgeKey())],
      registryKeys: [registryKey],
      publishers: { acme: [trustKey(publisher)] },
    },
  });
  agent = spawnAgent(net.deviceNs, configPath);
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

test('2 of 3: one signature is refused by the edge (CLI) and by the device when served unchecked', async () => {
  const signed = await bpfleet('policy', 'sign', await groupPolicyFile(1), '--key', keyFile(0), '--json');
  assert.equal(signed.code, 0, signed.stderr);
  const bundleFile = (JSON.parse(signed.stdout) as { file: string }).file;
  const applied = await bpfleet('policy', 'apply', '--bundle', bundleFile);
  assert.equal(applied.code, 1, applied.stdout);
  assert.match(applied.stderr, /THRESHOLD_NOT_MET/);
  assert.match(applied.stderr, /have 1, need 2/);
  assert.ok(applied.stderr.includes(operators[0].keyId), applied.stderr);
  assert.equal((await edge.fleet.currentPolicy({ group: GROUP })).policy, null, 'nothing was stored');

  await serveUnchecked(`group:${GROUP}`, JSON.parse(await readFile(bundleFile, 'utf8')));
  const device = await edgeShows(
    'the device refuses it',
    (d) => d.policyErrors[groupDesiredTopic(FLEET, GROUP)]?.code === 'THRESHOLD_NOT_MET',
  );
  assert.match(device.policyErrors[groupDesiredTopic(FLEET, GROUP)]?.message ?? '', /have 1, need 2/);
  assert.deepEqual(xdpPrograms(net.deviceNs, net.wan), [], 'nothing attached to wan');
});

test('2 of 3: the co-signed policy is applied and attached', async () => {
  const file = await groupPolicyFile(2);
  const first = await bpfleet('policy', 'sign', file, '--key', keyFile(0), '--json');
  const bundleFile = (JSON.parse(first.stdout) as { file: string }).file;
  const second = await bpfleet('policy', 'sign', bundleFile, '--key', keyFile(2), '--json');
  assert.equal(second.code, 0, second.stderr);
  assert.equal((JSON.parse(second.stdout) as { signedBy: string[] }).signedBy.length, 2);
  const applied = await bpfleet('policy', 'apply', '--bundle', bundleFile, '--json');
  assert.equal(applied.code, 0, applied.stderr);
  await edgeShows('1.0.0 attached', (_, p) => p?.status === 'ATTACHED' && p.version === '1.0.0');
  assert.equal(running().build, 1, 'the kernel runs build 1 (1.0.0) on wan');
});

test('the edge key is bounded: a rollout within the allowance runs, one outside is refused by edge and device', async () => {
  const outside = await bpfleet('rollout', 'start', GROUP, 'acme/count@1.2.0', '--waves', '1');
  assert.equal(outside.code, 1, outside.stdout);
  assert.match(outside.stderr, /POLICY_NOT_ALLOWED/);
  const inside = await bpfleet('rollout', 'start', GROUP, 'acme/count@1.1.0', '--waves', '1', '--json');
  assert.equal(inside.code, 0, inside.stderr + inside.stdout);
  await edgeShows(
    '1.1.0 attached by the edge-signed wave',
    (_, p) => p?.status === 'ATTACHED' && p.version === '1.1.0',
  );
  await until(
    async () => (await edge.fleet.listRollouts()).every((r) => r.state === 'COMPLETED'),
    'rollout completed',
  );
  const before = running();
  assert.equal(before.build, 2, 'the kernel runs build 2 (1.1.0)');

  // A compromised edge signs 1.2.0 for the device with its own key, carrying the operators' policy as its grant.
  const grant = JSON.parse(await readFile(join(work, 'gw-2.signed.json'), 'utf8')) as unknown;
  const forged: Policy = {
    apiVersion: 'bpfleet/v1',
    kind: 'Policy',
    serial: (await edge.fleet.currentPolicy({ device: DEVICE })).nextSerial,
    expires: '2098-01-01T00:00:00Z',
    target: { device: DEVICE },
    fleet: FLEET,
    programs: [{ id: 'count', package: 'acme/count', version: '1.2.0', attach: { interface: net.wan } }],
    grants: [grant],
  };
  const edgeKey = await readPrivateKey(join(work, 'edge', 'edge-policy.key'));
  await serveUnchecked(`device:${DEVICE}`, await signPolicy(forged, edgeKey));
  const device = await edgeShows(
    'the device refuses the edge-signed 1.2.0',
    (d) => d.policyErrors[deviceTopic(FLEET, DEVICE, 'desired')]?.code === 'POLICY_NOT_ALLOWED',
  );
  assert.match(
    device.policyErrors[deviceTopic(FLEET, DEVICE, 'desired')]?.message ?? '',
    /acme\/count@1\.2\.0 is not allowed/,
  );
  assert.deepEqual(running(), before, 'the same program (id and build 2) still runs on wan');

  // Widening the allowance is a change the operators see before they sign it.
  const diff = await bpfleet('policy', 'diff', '-f', await groupPolicyFile(9, '>=1.0.0 <2'));
  assert.equal(diff.code, 1, `a change: exit 1 (kubectl diff) ${diff.stderr}`);
  assert.match(
    diff.stdout,
    /~ allow \(rollouts may pin\): acme\/count >=1\.0\.0 <1\.2\.0 → acme\/count >=1\.0\.0 <2/,
  );
});
