// The device runtime over real MQTT (mosquitto), real signed policies, a real HTTP index/blob server and the real
// signature checks and real packages; the kernel side is an in-memory loader here (the kernel end-to-end test is e2e/).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Policy, signPolicy, verifyPolicy } from '@bpfleet/sdk/policy';
import {
  type AgentEvent,
  parseAgentEvent,
  parseReportedState,
  type ReportedState,
} from '@bpfleet/sdk/protocol';
import { until } from '@bpfleet/sdk/test-kit';
import { generateKeyPair, toSigningKey } from '@bpfleet/sdk/trust';
import mqtt from 'mqtt';
import { ArtifactCache } from './artifacts/artifact-cache.js';
import { SignedPackageVerifier } from './artifacts/package-verifier.js';
import { RegistryFetcher } from './artifacts/registry-fetcher.js';
import { unpackPackage } from './artifacts/unpack-package.js';
import { toAgentConfig } from './config/agent-config.js';
import { type AgentState, DeviceAgent, initialAgentState } from './device-agent.js';
import { RegistryIndex } from './index/registry-index.js';
import { type Logger, silentLogger } from './logger.js';
import { AgentMetrics } from './metrics/agent-metrics.js';
import { deviceTopics } from './mqtt/topics.js';
import { MemoryLoader } from './simulate/memory-loader.js';
import { StateFile } from './state/state-file.js';
import { startMosquitto, type TestBroker } from './testing/brokers.js';
import { buildPackage, counterManifest } from './testing/kernel-fixtures.js';
import { TestRegistry } from './testing/test-registry.js';

const operator = generateKeyPair();
const registryKey = generateKeyPair();
const publisher = generateKeyPair();
const intruder = generateKeyPair();
const key = (k: typeof operator) => ({ keyId: k.keyId, publicKeyPem: k.publicKeyPem });
const topics = deviceTopics('home', 'dev-1');

// Real packages (packed and unpacked by the sdk archive code); the object is never loaded by the memory loader.
async function archiveOf(
  name: string,
  version: string,
): Promise<{ archive: Buffer; manifestDigest: string }> {
  const manifest = { ...counterManifest(version), name };
  const { archive, contents } = await buildPackage(manifest, Buffer.from(`object of ${name}@${version}`));
  return { archive, manifestDigest: contents.manifestDigest };
}

let broker: TestBroker;
let registry: TestRegistry;
let edge: mqtt.MqttClient;
let dir: string;
const reported: ReportedState[] = [];
const events: AgentEvent[] = [];
/** What the agent wrote to its journal (the JSON-lines logger's input). */
const journal: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
const journalLogger: Logger = {
  debug: () => {},
  info: (message, fields = {}) => journal.push({ level: 'info', message, fields }),
  warn: (message, fields = {}) => journal.push({ level: 'warn', message, fields }),
  error: (message, fields = {}) => journal.push({ level: 'error', message, fields }),
};
const agents: DeviceAgent[] = [];

before(async () => {
  broker = await startMosquitto();
  registry = new TestRegistry(registryKey);
  await registry.start();
  dir = await mkdtemp(join(tmpdir(), 'bpfleet-device-agent-'));
  edge = await mqtt.connectAsync(broker.url, {
    clientId: 'edge',
    protocolVersion: 4,
    clean: false,
    reconnectPeriod: 50,
  });
  edge.on('message', (topic, payload) => {
    if (topic === topics.reported) reported.push(parseReportedState(payload));
    if (topic === topics.events) events.push(parseAgentEvent(payload));
  });
  await edge.subscribeAsync([topics.reported, topics.events], { qos: 1 });
});

after(async () => {
  for (const a of agents) await a.stop().catch(() => {});
  await edge?.endAsync(true);
  await registry?.close();
  await broker?.close();
  await rm(dir, { recursive: true, force: true });
});

function policy(serial: number, programs: Policy['programs'], expires = '2099-01-01T00:00:00Z'): Policy {
  return {
    apiVersion: 'bpfleet/v1',
    kind: 'Policy',
    serial,
    expires,
    target: { device: 'dev-1' },
    fleet: 'home',
    programs,
  };
}

async function apply(p: Policy, signer = operator): Promise<void> {
  const bundle = await signPolicy(p, toSigningKey(signer.privateKeyPem));
  await edge.publishAsync(topics.device, JSON.stringify(bundle), { qos: 1, retain: true });
}

async function startAgent(loader: MemoryLoader, metrics = new AgentMetrics()): Promise<DeviceAgent> {
  const config = toAgentConfig({
    deviceId: 'dev-1',
    fleet: 'home',
    broker: { url: broker.url, keepaliveSeconds: 5 },
    registry: { url: registry.url },
    trust: {
      operatorKeys: [key(operator)],
      registryKeys: [key(registryKey)],
      publishers: { acme: [key(publisher)] },
    },
    dataDir: dir,
    reconcileIntervalSeconds: 1,
    telemetryIntervalSeconds: 1,
    driftCheckIntervalSeconds: 1,
    metrics: { port: 0 },
  });
  const cache = new ArtifactCache(join(dir, 'cache'));
  await cache.init();
  const agent = await DeviceAgent.start({
    config,
    ports: {
      fetcher: new RegistryFetcher(registry.url, cache, {
        attempts: 2,
        backoff: { initialMs: 10, maxMs: 50 },
        stallTimeoutMs: 2000,
        logger: silentLogger,
      }),
      verifier: new SignedPackageVerifier({ publishers: config.trust.publishers }, unpackPackage),
      probe: { missing: async () => [] },
      loader,
    },
    createIndex: (lastSerial, onSerial) =>
      new RegistryIndex({
        registryUrl: registry.url,
        registryKeys: config.trust.registryKeys,
        lastSerial,
        onSerial,
        publishers: config.trust.publishers,
      }),
    verifyPolicy: (bundle, now) => verifyPolicy(bundle, config.trust.operatorKeys, now),
    state: new StateFile<AgentState>(join(dir, 'state.json'), initialAgentState),
    metrics,
    logger: journalLogger,
  });
  agents.push(agent);
  return agent;
}

const last = () => reported.at(-1);
const program = (id: string) => last()?.programs.find((p) => p.id === id);

test('policy → attached → channel followed → bad versions and policies refused → broker outage → restart', async () => {
  const v1 = await archiveOf('acme/count', '1.0.0');
  await registry.publish('acme/count', '1.0.0', v1.archive, v1.manifestDigest, publisher, 'stable');
  const loader = new MemoryLoader();
  const agent = await startAgent(loader);
  await apply(policy(1, [{ id: 'count', package: 'acme/count', channel: 'stable' }]));
  await until(() => program('count')?.status === 'ATTACHED', 'count attached');
  assert.equal(program('count')?.version, '1.0.0');
  assert.deepEqual(
    events.filter((e) => e.deployment === 'count').map((e) => e.state),
    ['QUEUED', 'DOWNLOADING', 'VERIFYING', 'ATTACHED'],
  );

  // A new version on the channel is followed (the timer pass picks it up).
  const v2 = await archiveOf('acme/count', '1.1.0');
  await registry.publish('acme/count', '1.1.0', v2.archive, v2.manifestDigest, publisher, 'stable');
  await until(() => program('count')?.version === '1.1.0', 'upgrade to 1.1.0');
  assert.deepEqual(loader.calls, ['attach count 1.0.0', 'upgrade count 1.0.0->1.1.0']);

  // A tampered mirror and a package signed by an unknown key: refused, the old version keeps running.
  const v3 = await archiveOf('acme/count', '1.2.0');
  const tampered = await registry.publish(
    'acme/count',
    '1.2.0',
    v3.archive,
    v3.manifestDigest,
    publisher,
    'stable',
  );
  const flipped = Buffer.from(v3.archive);
  flipped[flipped.length - 9] = (flipped[flipped.length - 9] ?? 0) ^ 0xff;
  tampered.served = flipped;
  await until(() => program('count')?.lastError?.code === 'DIGEST_MISMATCH', 'tampered package refused');
  assert.equal(program('count')?.version, '1.1.0');
  const v4 = await archiveOf('acme/count', '1.3.0');
  // The genuine publisher moved the channel; the package itself is signed by a key no one trusts.
  await registry.publish('acme/count', '1.3.0', v4.archive, v4.manifestDigest, intruder, 'stable', publisher);
  await until(() => program('count')?.lastError?.code === 'KEY_UNKNOWN', 'wrong-key package refused');
  assert.equal(program('count')?.status, 'ROLLED_BACK');
  assert.equal(program('count')?.version, '1.1.0');
  assert.ok(
    events.some(
      (e) => e.state === 'ROLLED_BACK' && e.version === '1.3.0' && e.reason?.code === 'KEY_UNKNOWN',
    ),
  );
  // The journal says the same, with ids and reasons as fields an operator can filter on.
  assert.ok(
    journal.some(
      (l) =>
        l.level === 'info' &&
        l.message === 'program attached' &&
        l.fields.deployment === 'count' &&
        l.fields.version === '1.0.0',
    ),
    JSON.stringify(journal.slice(0, 5)),
  );
  assert.ok(
    journal.some(
      (l) =>
        l.level === 'warn' &&
        l.message === 'program rolled back' &&
        l.fields.reason === 'KEY_UNKNOWN' &&
        l.fields.version === '1.3.0' &&
        typeof l.fields.detail === 'string',
    ),
  );
  assert.deepEqual(loader.calls, ['attach count 1.0.0', 'upgrade count 1.0.0->1.1.0']);

  // Policies: expired, replayed and wrongly signed ones are refused with the reason reported.
  await apply(policy(2, [], '2020-01-01T00:00:00Z'));
  await until(() => last()?.policyErrors[topics.device]?.code === 'POLICY_EXPIRED', 'expired policy refused');
  await apply(policy(3, []), intruder);
  await until(() => last()?.policyErrors[topics.device]?.code === 'KEY_UNKNOWN', 'wrong-key policy refused');
  await apply(policy(4, [{ id: 'count', package: 'acme/count', version: '1.1.0' }]));
  await until(() => last()?.policies[topics.device]?.serial === 4, 'serial 4 applied');
  await apply(policy(1, []));
  await until(() => last()?.policyErrors[topics.device]?.code === 'POLICY_REPLAYED', 'replay refused');
  assert.equal(loader.live.size, 1);

  // Broker down: the program keeps running; the agent reconnects and converges on what arrives after.
  await broker.stop();
  await until(() => !agent.session.connected, 'agent sees the outage');
  assert.equal(loader.live.get('count')?.version, '1.1.0');
  await broker.start();
  await until(() => agent.session.connected && edge.connected, 'reconnected');
  await edge.subscribeAsync([topics.reported, topics.events], { qos: 1 });
  await apply(policy(5, [{ id: 'count', package: 'acme/count', version: '1.0.0' }]));
  await until(
    () => program('count')?.version === '1.0.0' && program('count')?.status === 'ATTACHED',
    'converged',
  );

  // Restart: adopts what runs, attaches nothing again.
  await agent.stop();
  const before = loader.calls.length;
  const restarted = await startAgent(loader.restart());
  await until(
    () => restarted.session.connected && restarted.agent.programReports()[0]?.status === 'ATTACHED',
    'adopted',
  );
  assert.equal(loader.calls.length, before);
});

test('drift on the timer: DRIFTED reported and counted, ATTACHED again once repaired, redeployed when lost', async () => {
  // One agent per device id: the earlier test's restarted agent would take the MQTT session over.
  for (const a of agents.splice(0)) await a.stop();
  const v1 = await archiveOf('acme/guard', '1.0.0');
  await registry.publish('acme/guard', '1.0.0', v1.archive, v1.manifestDigest, publisher, 'stable');
  const loader = new MemoryLoader();
  const metrics = new AgentMetrics();
  await startAgent(loader, metrics);
  await apply(policy(10, [{ id: 'guard', package: 'acme/guard', version: '1.0.0' }]));
  await until(() => program('guard')?.status === 'ATTACHED', 'guard attached');
  const from = events.length;
  const gone = { code: 'DRIFT_TARGET_MISSING', message: 'check guard: interface wan0 is gone' };
  loader.drift('guard', gone, 'waiting');
  await until(() => program('guard')?.status === 'DRIFTED', 'reported DRIFTED');
  assert.deepEqual(program('guard')?.lastError, gone);
  loader.undrift('guard');
  await until(() => program('guard')?.status === 'ATTACHED', 'ATTACHED again');
  assert.deepEqual(
    events
      .slice(from)
      .filter((e) => e.deployment === 'guard')
      .map((e) => `${e.state} ${e.reason?.code ?? ''}`.trim()),
    ['DRIFTED DRIFT_TARGET_MISSING', 'ATTACHED'],
  );
  loader.drift('guard', { code: 'DRIFT_DETACHED', message: 'check guard: link gone' }, 'redeploy');
  await until(() => loader.calls.filter((c) => c === 'attach guard 1.0.0').length === 2, 'deployed again');
  await until(() => program('guard')?.status === 'ATTACHED', 'ATTACHED after the redeploy');
  const text = await metrics.registry.metrics();
  assert.match(text, /bpfleet_agent_drift_total\{deployment="guard",code="DRIFT_TARGET_MISSING"\} 1/);
  assert.match(text, /bpfleet_agent_drift_total\{deployment="guard",code="DRIFT_DETACHED"\} 1/);
});
