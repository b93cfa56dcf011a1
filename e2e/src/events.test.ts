// End to end: an exec tracer with a ring buffer (libbpf-bootstrap style) deployed by a signed policy through the real
// bpfleet-edge to the real bpfleet-agent process; the execs this test makes reach the edge over MQTT as decoded
// records and `bpfleet fleet events` lists them. The kernel (bpftool) says what runs and what the program lost.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { compileTestObject } from '@bpfleet/agent';
import type { Manifest } from '@bpfleet/sdk/manifest';
import { type Policy, signPolicy } from '@bpfleet/sdk/policy';
import { until } from '@bpfleet/sdk/test-kit';
import { generateKeyPair, toSigningKey, writeKeyPair } from '@bpfleet/sdk/trust';
import { type AgentProcess, spawnAgent } from './fixtures/agent-process.js';
import { writeDeviceAgentConfig } from './fixtures/device-agent-config.js';
import { createDeviceNetwork, type DeviceNetwork } from './fixtures/device-network.js';
import { type EdgeProcess, startEdgeProcess } from './fixtures/edge-process.js';
import { arch, signedPackage } from './fixtures/test-packages.js';
import { preparePublisher } from './quickstart/publishing.js';

const TAG = 'evs';
const FLEET = 'evs';
const DEVICE = 'evs-device';
const CLI = fileURLToPath(new URL('../../sdk/dist/cli/main.js', import.meta.url));
const operator = generateKeyPair();
const publisher = generateKeyPair();
const pinRoot = `/sys/fs/bpf/bpfleet-${TAG}-${randomBytes(4).toString('hex')}`;
const PROBES = 25;
const FETCH_METRICS =
  "fetch('http://127.0.0.1:9465/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))";

const manifest: Manifest = {
  name: 'acme/exec-trace',
  version: '1.0.0',
  license: 'GPL',
  programs: [{ name: 'trace_exec' }],
  maps: {
    exec_events: {
      events: {
        record: { pid: 'u32', ppid: 'u32', uid: 'u32', pad: 'u32', comm: { type: 'string', size: 16 } },
        lostCounter: 'exec_lost',
      },
    },
    exec_lost: { layout: { key: 'u32', value: 'u64' } },
  },
  requires: {
    arches: [arch as Manifest['requires']['arches'][number]],
    btf: true,
    programTypes: ['tracing'],
  },
};

let net: DeviceNetwork;
let edge: EdgeProcess;
let agent: AgentProcess | undefined;
let work: string;

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

/** The loaded program named `name` and its maps, as bpftool sees them. */
function kernelProgram(name: string): {
  id: number;
  maps: Array<{ id: number; name: string; type: string }>;
} {
  const progs = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' })) as Array<{
    id: number;
    name: string;
    map_ids?: number[];
  }>;
  const prog = progs.find((p) => p.name === name);
  assert.ok(prog, `the kernel runs ${name}`);
  const maps = (prog.map_ids ?? []).map((id) =>
    JSON.parse(execFileSync('bpftool', ['-j', 'map', 'show', 'id', String(id)], { encoding: 'utf8' })),
  );
  return { id: prog.id, maps };
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), `bpfleet-${TAG}-`));
  net = createDeviceNetwork({ tag: TAG, block: 135 });
  const keys = await writeKeyPair(join(work, 'keys'), 'operator', operator);
  edge = await startEdgeProcess({
    dataDir: join(work, 'edge'),
    fleet: FLEET,
    operatorKeyFile: keys.publicKeyPath,
    host: net.edgeAddr,
  });
  const token = await preparePublisher(edge.admin, 'acme', publisher.publicKeyPem);
  const pkg = await signedPackage(manifest, compileTestObject('evs_exec_trace'), publisher);
  await token.publish({
    namespace: 'acme',
    name: 'exec-trace',
    version: '1.0.0',
    archive: pkg.archive,
    bundle: pkg.bundle,
  });
  const login = await edge.fleet.registerDevice(DEVICE, []);
  const registryKey = await edge.admin.getRegistryKey();
  const configPath = await writeDeviceAgentConfig(
    {
      work,
      deviceId: DEVICE,
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
      events: {
        ratePerSecond: 1000,
        burst: 5000,
        batchRecords: 50,
        flushMs: 200,
        sink: { path: join(work, 'events.jsonl') },
      },
    },
  );
  agent = spawnAgent(net.deviceNs, configPath);
  const policy: Policy = {
    apiVersion: 'bpfleet/v1',
    kind: 'Policy',
    serial: (await edge.fleet.currentPolicy({ device: DEVICE })).nextSerial,
    expires: '2099-01-01T00:00:00Z',
    target: { device: DEVICE },
    fleet: FLEET,
    programs: [{ id: 'exec', package: 'acme/exec-trace', version: '1.0.0' }],
  };
  await edge.fleet.applyPolicy(await signPolicy(policy, toSigningKey(operator.privateKeyPem)));
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

test('execs traced on the device reach the edge over MQTT, decoded, and the CLI lists them', async () => {
  await until(
    async () =>
      (await edge.fleet.getDevice(DEVICE)).programs.some((p) => p.id === 'exec' && p.status === 'ATTACHED'),
    'exec-trace attached',
    45_000,
    () => agent?.logs().slice(-5),
  );
  const prog = kernelProgram('trace_exec');
  const ring = prog.maps.find((m) => m.name === 'exec_events');
  assert.equal(ring?.type, 'ringbuf', 'the program writes to its ring buffer');

  // A copy of true named for this test: its comm tells these execs apart from the machine's others.
  const probe = join(work, 'evs-probe');
  await copyFile('/bin/true', probe);
  execFileSync('chmod', ['755', probe]);
  await until(
    () => agent?.logs().some((l) => l.includes('event stream: draining')) ?? false,
    'drain started',
    15_000,
  );
  const pids = new Set<number>();
  for (let i = 0; i < PROBES; i++) {
    const r = spawnSync(probe, []);
    if (r.pid) pids.add(r.pid);
  }

  let listed: {
    events: Array<{ number: number; record: { pid: number; comm: string } }>;
    streams: unknown[];
  } = {
    events: [],
    streams: [],
  };
  const ours = () => listed.events.filter((e) => e.record.comm === 'evs-probe' && pids.has(e.record.pid));
  await until(
    async () => {
      const r = await bpfleet(
        'fleet',
        'events',
        DEVICE,
        '--program',
        'acme/exec-trace',
        '--limit',
        '2000',
        '--json',
      );
      if (r.code !== 0) throw new Error(r.stderr);
      listed = JSON.parse(r.stdout);
      return ours().length === pids.size;
    },
    'every probe exec listed at the edge',
    30_000,
    () => [ours().length, listed.streams, agent?.logs().slice(-3)],
  );
  const totals = listed.streams as Array<{ stream: string; received: number; lost: { ringFull: number } }>;
  const lostInKernel = JSON.parse(
    execFileSync('bpftool', ['-j', 'map', 'lookup', 'name', 'exec_lost', 'key', '0', '0', '0', '0'], {
      encoding: 'utf8',
    }),
  ).values.reduce(
    (s: number, v: { value: string[] }) => s + Number(Buffer.from(v.value.map(Number)).readBigUInt64LE(0)),
    0,
  );
  assert.equal(totals[0]?.stream, 'exec_events');
  assert.equal(
    totals[0]?.lost.ringFull,
    lostInKernel,
    'the edge knows what the kernel says the ring refused',
  );
  console.log(
    `edge: ${totals[0]?.received} exec records received (${pids.size} of them this test's), ring full ${lostInKernel}`,
  );

  const human = await bpfleet('fleet', 'events', DEVICE, '--program', 'acme/exec-trace');
  assert.equal(human.code, 0, human.stderr);
  assert.match(
    human.stdout,
    /exec exec_events \(acme\/exec-trace@1\.0\.0\): \d+ received, lost \d+ ring-full/,
  );
  assert.match(human.stdout, /exec\/exec_events #\d+ {2}pid=\d+ ppid=\d+ uid=0 pad=0 comm=/);

  // The agent's own /metrics (in the device namespace): what it delivered, nothing lost.
  const metrics = execFileSync(
    'nsenter',
    [`--net=/run/netns/${net.deviceNs}`, process.execPath, '-e', FETCH_METRICS],
    { encoding: 'utf8' },
  );
  const delivered = /^bpfleet_events_total\{deployment="exec",stream="exec_events"\} (\d+)$/m.exec(metrics);
  assert.ok(
    Number(delivered?.[1]) >= pids.size,
    `bpfleet_events_total counts the delivered records: ${delivered?.[0]}`,
  );
  assert.doesNotMatch(metrics, /^bpfleet_events_lost_total\{.*\} [1-9]/m, 'nothing lost at this rate');

  const sink = await readFile(join(work, 'events.jsonl'), 'utf8');
  for (const pid of pids) assert.match(sink, new RegExp(`"pid":${pid},`), `pid ${pid} in the local sink`);
  const usage = await bpfleet('fleet', 'events', DEVICE, '--limit', '0');
  assert.equal(usage.code, 2, 'a bad --limit is a usage error');
});
