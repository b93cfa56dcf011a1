// Publisher-signed channel moves and yanks end to end: the real edge and agent, the kernel as the observer.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { DeviceSummary } from '@bpfleet/sdk';
import { RegistryError } from '@bpfleet/sdk/errors';
import { type Policy, signPolicy } from '@bpfleet/sdk/policy';
import {
  createRegistryClient,
  moveChannel,
  type RegistryClient,
  signChannelChange,
} from '@bpfleet/sdk/registry-client';
import { until } from '@bpfleet/sdk/test-kit';
import { generateKeyPair, toSigningKey, writeKeyPair } from '@bpfleet/sdk/trust';
import Database from 'better-sqlite3';
import { type AgentProcess, spawnAgent } from './fixtures/agent-process.js';
import { writeDeviceAgentConfig } from './fixtures/device-agent-config.js';
import { createDeviceNetwork, type DeviceNetwork } from './fixtures/device-network.js';
import { type EdgeProcess, startEdgeProcess } from './fixtures/edge-process.js';
import { xdpPrograms } from './fixtures/kernel-state.js';
import { compileProgram, countManifest, signedPackage } from './fixtures/test-packages.js';
import { preparePublisher } from './quickstart/publishing.js';

const TAG = 'hcc';
const FLEET = 'hcc';
const DEVICE = 'hcc-device';
const ID = 'count';
const CLI = fileURLToPath(new URL('../../sdk/dist/cli/main.js', import.meta.url));
const operator = generateKeyPair();
const publisher = generateKeyPair();
const pkg = { namespace: 'acme', name: 'count' };
const pinRoot = `/sys/fs/bpf/bpfleet-${TAG}-${randomBytes(4).toString('hex')}`;

let net: DeviceNetwork;
let edge: EdgeProcess;
let agent: AgentProcess | undefined;
let work: string;
let token: RegistryClient;
let tokenSecret: string;
let publisherKeyFile: string;

type Program = DeviceSummary['programs'][number];
const shown = async (): Promise<Program | undefined> =>
  (await edge.fleet.getDevice(DEVICE)).programs.find((p) => p.id === ID);

/** The `version` constant (the package's build number) of the XDP program on wan, read from its .rodata. */
function runningBuild(): { prog: number; build: number | undefined } {
  const [prog] = xdpPrograms(net.deviceNs, net.wan);
  assert.ok(prog !== undefined, 'an XDP program is attached to wan');
  const info = JSON.parse(
    execFileSync('bpftool', ['-j', 'prog', 'show', 'id', String(prog)], { encoding: 'utf8' }),
  ) as {
    map_ids?: number[];
  };
  for (const id of info.map_ids ?? []) {
    const dump = execFileSync('bpftool', ['-j', 'map', 'dump', 'id', String(id)], { encoding: 'utf8' });
    const m = /"version":\s*(\d+)/.exec(dump);
    if (m) return { prog, build: Number(m[1]) };
  }
  return { prog, build: undefined };
}

/** Waits until the edge shows `count` as `check` wants, and returns it. */
async function edgeShows(what: string, check: (p: Program) => boolean, timeoutMs = 45_000): Promise<Program> {
  let last: Program | undefined;
  await until(
    async () => {
      last = await shown();
      return last !== undefined && check(last);
    },
    what,
    timeoutMs,
    () => [last, agent?.logs().slice(-5)],
  );
  return last!;
}

/** As a compromised registry (or a bypassed check) would: edits the edge's catalog behind its routes. */
function tamperCatalog(sql: string[], ...params: unknown[][]): void {
  const db = new Database(join(work, 'edge', 'catalog.db'));
  try {
    db.pragma('busy_timeout = 5000');
    db.transaction(() => {
      for (const [i, s] of sql.entries()) db.prepare(s).run(...(params[i] ?? []));
      // The index is re-signed on the next request: the catalog changed.
      db.prepare("UPDATE counters SET value = value + 1 WHERE name = 'changes'").run();
    })();
  } finally {
    db.close();
  }
}

async function bpfleet(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: work, XDG_CONFIG_HOME: work },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const errorCode = async (p: Promise<unknown>): Promise<string | undefined> =>
  p.then(
    () => undefined,
    (err: unknown) => (err instanceof RegistryError ? err.code : String(err)),
  );

before(async () => {
  work = await mkdtemp(join(tmpdir(), `bpfleet-${TAG}-`));
  net = createDeviceNetwork({ tag: TAG, block: 123 });
  const keys = await writeKeyPair(join(work, 'keys'), 'operator', operator);
  publisherKeyFile = (await writeKeyPair(join(work, 'keys'), 'publisher', publisher)).privateKeyPath;
  edge = await startEdgeProcess({
    dataDir: join(work, 'edge'),
    fleet: FLEET,
    operatorKeyFile: keys.publicKeyPath,
    host: net.edgeAddr,
  });
  token = await preparePublisher(edge.admin, 'acme', publisher.publicKeyPem);
  tokenSecret = (await edge.admin.createToken('acme', 'attacker')).token;
  const login = await edge.fleet.registerDevice(DEVICE, []);
  const registryKey = await edge.admin.getRegistryKey();
  const object = compileProgram('xdp_count');
  for (const [version, build] of [
    ['1.0.0', 1],
    ['1.1.0', 2],
    ['1.2.0', 3],
  ] as const) {
    const p = await signedPackage(countManifest(version, build), object, publisher);
    await token.publish({ ...pkg, version, archive: p.archive, bundle: p.bundle });
  }
  const configPath = await writeDeviceAgentConfig({
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
  });
  agent = spawnAgent(net.deviceNs, configPath);
  const policy: Policy = {
    apiVersion: 'bpfleet/v1',
    kind: 'Policy',
    serial: (await edge.fleet.currentPolicy({ device: DEVICE })).nextSerial,
    expires: '2099-01-01T00:00:00Z',
    target: { device: DEVICE },
    fleet: FLEET,
    programs: [{ id: ID, package: 'acme/count', channel: 'stable', attach: { interface: net.wan } }],
  };
  await moveChannel(token, toSigningKey(publisher.privateKeyPem), pkg, 'stable', '1.0.0');
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

test('a signed move is followed; the admin yanks 1.0.0 in an emergency with the CLI', async () => {
  await edgeShows('1.0.0 attached', (p) => p.status === 'ATTACHED' && p.version === '1.0.0');
  assert.equal(runningBuild().build, 1, 'the kernel runs build 1 (1.0.0)');
  const moved = await bpfleet(
    'channel',
    'set',
    'acme/count',
    'stable',
    '1.2.0',
    '--key',
    publisherKeyFile,
    '--registry',
    edge.url,
    '--token',
    tokenSecret,
    '--json',
  );
  assert.equal(moved.code, 0, moved.stderr);
  await edgeShows('1.2.0 attached', (p) => p.status === 'ATTACHED' && p.version === '1.2.0');
  assert.equal(runningBuild().build, 3, 'the kernel runs build 3 (1.2.0)');
  const yanked = await bpfleet(
    'yank',
    'acme/count@1.0.0',
    '--emergency',
    '--reason',
    'CVE-2026-0001',
    '--registry',
    edge.url,
    '--token',
    edge.adminToken,
    '--json',
  );
  assert.equal(yanked.code, 0, yanked.stderr);
  assert.equal((JSON.parse(yanked.stdout) as { yanked: boolean }).yanked, true);
});

test('a stolen publish token can neither unyank nor move the channel', async () => {
  const before = runningBuild();
  const attacker = createRegistryClient({ url: edge.url, token: tokenSecret });
  const raw = (path: string, method: string, body: unknown) =>
    fetch(`${edge.url}/v1/packages/acme/count/${path}`, {
      method,
      headers: { authorization: `Bearer ${tokenSecret}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  // The old token-only requests, as the attack in issue #15 sent them.
  assert.equal((await raw('versions/1.0.0/yank', 'DELETE', {})).status, 400);
  assert.equal((await raw('channels/stable', 'PUT', { version: '1.0.0' })).status, 400);
  assert.equal((await raw('versions/1.2.0/yank', 'PUT', { reason: 'grief' })).status, 403);
  // A statement signed by a key the attacker made is not one of the namespace's keys.
  const own = toSigningKey(generateKeyPair().privateKeyPem);
  const forged = await signChannelChange(attacker, own, { ...pkg, action: 'unyank', version: '1.0.0' });
  assert.equal(await errorCode(attacker.unyank('acme', 'count', '1.0.0', forged)), 'KEY_UNKNOWN');
  const cli = await bpfleet(
    'yank',
    'acme/count@1.0.0',
    '--undo',
    '--registry',
    edge.url,
    '--token',
    tokenSecret,
    '--json',
  );
  assert.equal((JSON.parse(cli.stdout) as { error: { code: string } }).error.code, 'KEY_REQUIRED');
  assert.deepEqual(await attacker.listChannels('acme', 'count'), { stable: '1.2.0' });
  assert.equal((await attacker.getVersion('acme', 'count', '1.0.0')).yanked, true);
  assert.deepEqual(runningBuild(), before);
});

test('a registry that moves the channel on its own word: the device keeps 1.2.0, the edge shows CHANNEL_UNSIGNED', async () => {
  const before = runningBuild();
  tamperCatalog([
    "UPDATE versions SET yanked = 0, yank_reason = NULL WHERE namespace = 'acme' AND name = 'count' AND version = '1.0.0'",
    "UPDATE channels SET version = '1.0.0' WHERE namespace = 'acme' AND name = 'count' AND channel = 'stable'",
  ]);
  const refused = await edgeShows('CHANNEL_UNSIGNED shown', (p) => p.lastError?.code === 'CHANNEL_UNSIGNED');
  assert.equal(refused.version, '1.2.0');
  assert.equal(refused.status, 'ATTACHED');
  assert.match(refused.lastError?.message ?? '', /points it at 1\.0\.0, the publisher signed 1\.2\.0/);
  assert.deepEqual(runningBuild(), before, 'the kernel still runs the same program, build 3');
  tamperCatalog([
    "UPDATE versions SET yanked = 1, yank_reason = 'CVE-2026-0001' WHERE namespace = 'acme' AND name = 'count' AND version = '1.0.0'",
    "UPDATE channels SET version = '1.2.0' WHERE namespace = 'acme' AND name = 'count' AND channel = 'stable'",
  ]);
  await edgeShows('the error clears once the index agrees with the publisher', (p) => !p.lastError);
});

test('an older move without a signed rollback is refused by the device; the signed rollback is followed', async () => {
  const before = runningBuild();
  const key = toSigningKey(publisher.privateKeyPem);
  // The publisher's real key, but no rollback: the edge refuses it ...
  const down = await signChannelChange(token, key, {
    ...pkg,
    action: 'move',
    channel: 'stable',
    version: '1.1.0',
  });
  assert.equal(await errorCode(token.setChannel('acme', 'count', 'stable', down)), 'CHANNEL_DOWNGRADE');
  // ... and a registry that skipped that check serves it: the device refuses it on its own.
  const { serial } = JSON.parse(
    Buffer.from((down as { dsseEnvelope: { payload: string } }).dsseEnvelope.payload, 'base64').toString(),
  ) as { serial: number };
  tamperCatalog(
    [
      `INSERT INTO statements (namespace, name, stream, serial, body, stored_at) VALUES ('acme', 'count', 'channel:stable', ?, ?, ?)
       ON CONFLICT (namespace, name, stream) DO UPDATE SET serial = excluded.serial, body = excluded.body`,
      "UPDATE channels SET version = '1.1.0' WHERE namespace = 'acme' AND name = 'count' AND channel = 'stable'",
    ],
    [serial, JSON.stringify(down), new Date().toISOString()],
  );
  const refused = await edgeShows(
    'CHANNEL_DOWNGRADE shown',
    (p) => p.lastError?.code === 'CHANNEL_DOWNGRADE',
  );
  assert.equal(refused.version, '1.2.0');
  assert.deepEqual(runningBuild(), before, 'the kernel still runs build 3');
  // The publisher signs the rollback with a reason (the CLI takes the next serial): followed.
  const rollback = await bpfleet(
    'channel',
    'set',
    'acme/count',
    'stable',
    '1.1.0',
    '--rollback-reason',
    '1.2.0 drops IPv6',
    '--key',
    publisherKeyFile,
    '--registry',
    edge.url,
    '--token',
    tokenSecret,
    '--json',
  );
  assert.equal(rollback.code, 0, rollback.stderr);
  await edgeShows('1.1.0 attached', (p) => p.status === 'ATTACHED' && p.version === '1.1.0' && !p.lastError);
  assert.equal(runningBuild().build, 2, 'the kernel runs build 2 (1.1.0)');
});
