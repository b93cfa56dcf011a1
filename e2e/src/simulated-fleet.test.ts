// `bpfleet-agent simulate`: 100 devices in one process (real loop, MQTT, HTTP fetch, signature checks; in-memory
// loader) against bpfleet-edge and the embedded broker with fleet logins, converging on a group policy and then
// following its channel.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { signPolicy } from '@bpfleet/sdk/policy';
import { createRegistryClient } from '@bpfleet/sdk/registry-client';
import { until } from '@bpfleet/sdk/test-kit';
import { generateKeyPair, toSigningKey } from '@bpfleet/sdk/trust';
import { stringify } from 'yaml';
import { type EdgeRegistry, startEdgeRegistry } from './fixtures/edge-registry.js';
import { type FleetEdge, startFleetEdge } from './fixtures/fleet-edge.js';
import { moveSigned } from './fixtures/signed-channel.js';
import { countManifest, signedPackage, standInObject } from './fixtures/test-packages.js';

const N = 100;
const FLEET = 'sims';
const MAIN = fileURLToPath(new URL('../../agent/dist/main.js', import.meta.url));
const operator = generateKeyPair();
const publisher = generateKeyPair();
const secret = randomBytes(16).toString('hex');
const ids = Array.from({ length: N }, (_, i) => `sim-${i}`);

let registry: EdgeRegistry;
let edge: FleetEdge;
let work: string;
let child: ReturnType<typeof spawn> | undefined;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'bpfleet-e2e-sim-'));
  registry = await startEdgeRegistry('127.0.0.1');
  edge = await startFleetEdge(
    'embedded',
    FLEET,
    '127.0.0.1',
    ids.map((id) => ({ id, groups: ['fleet-a'], secret })),
  );
});

after(async () => {
  if (child?.pid !== undefined && child.exitCode === null) {
    const exited = new Promise((r) => child?.once('exit', r));
    process.kill(child.pid, 'SIGKILL');
    await exited;
  }
  await edge?.close().catch(() => {});
  await registry?.stop().catch(() => {});
  await rm(work, { recursive: true, force: true });
});

test(`${N} simulated devices converge on a group policy and follow its channel`, async () => {
  await registry.admin.createNamespace('acme');
  await registry.admin.addPublisherKey('acme', publisher.publicKeyPem);
  const { token } = await registry.admin.createToken('acme', 'sim');
  const client = createRegistryClient({ url: registry.url, token });
  const release = async (version: string, build: number) => {
    // The simulated loader never loads the object (a valid stand-in: the edge checks its programs); the package is real and signed.
    const pkg = await signedPackage(countManifest(version, build), standInObject(64), publisher);
    await client.publish({
      namespace: 'acme',
      name: 'count',
      version,
      archive: pkg.archive,
      bundle: pkg.bundle,
    });
    await moveSigned(client, publisher, version);
  };
  await release('1.0.0', 1);

  const key = (k: typeof operator) => ({ keyId: k.keyId, publicKeyPem: k.publicKeyPem });
  const trust = join(work, 'trust.json');
  await writeFile(
    trust,
    JSON.stringify({
      operatorKeys: [key(operator)],
      registryKeys: [registry.registryKey],
      publishers: { acme: [key(publisher)] },
    }),
  );
  const base = join(work, 'base.yaml');
  await writeFile(base, stringify({ allow: { interfaces: ['wan0'] }, reconcileIntervalSeconds: 2 }));
  child = spawn(
    process.execPath,
    [
      MAIN,
      'simulate',
      '--devices',
      String(N),
      '--config',
      base,
      '--fleet',
      FLEET,
      '--broker',
      edge.brokerUrl,
      '--registry',
      registry.url,
      '--trust',
      trust,
      '--groups',
      'fleet-a',
      '--data-dir',
      join(work, 'devices'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BPFLEET_BROKER_PASSWORD: secret } },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });

  const policy = await signPolicy(
    {
      apiVersion: 'bpfleet/v1',
      kind: 'Policy',
      serial: 1,
      expires: '2099-01-01T00:00:00Z',
      target: { group: 'fleet-a' },
      fleet: FLEET,
      programs: [{ id: 'count', package: 'acme/count', channel: 'stable', attach: { interface: 'wan0' } }],
    },
    toSigningKey(operator.privateKeyPem),
  );
  await edge.publishDesired({ group: 'fleet-a' }, JSON.stringify(policy));
  const at = (version: string) =>
    edge.store
      .listDevices()
      .filter((d) => d.reported?.programs.some((p) => p.status === 'ATTACHED' && p.version === version))
      .length;
  await until(
    () => at('1.0.0') === N,
    `${N} devices on 1.0.0`,
    90_000,
    () => [at('1.0.0'), stderr.slice(-500)],
  );
  assert.equal(edge.store.listDevices({ status: 'online' }).length, N);

  await release('1.1.0', 2);
  await until(
    () => at('1.1.0') === N,
    `${N} devices on 1.1.0`,
    90_000,
    () => [at('1.1.0'), stderr.slice(-500)],
  );
  const events = edge.store
    .events('sim-42', 50)
    .map((e) => `${e.event.state} ${e.event.version ?? ''}`.trim());
  assert.ok(events.includes('ATTACHED 1.1.0'), events.join(', '));

  // A clean stop says offline for every device.
  const exited = new Promise((r) => child?.once('exit', r));
  process.kill(child.pid!, 'SIGTERM');
  assert.equal(await exited, 0);
  await until(() => edge.store.listDevices({ status: 'offline' }).length === N, 'all offline', 30_000);
});
