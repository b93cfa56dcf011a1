// The fleet API over the real fleet runtime: embedded broker, SQLite stores, edge key, catalog-checked policies.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sha256Digest } from '@bpfleet/sdk/digest';
import { exampleManifestJson } from '@bpfleet/sdk/manifest';
import { type Policy, signPolicy, verifyPolicy } from '@bpfleet/sdk/policy';
import { deviceTopic } from '@bpfleet/sdk/protocol';
import { generateKeyPair, toSigningKey, writeKeyPair } from '@bpfleet/sdk/trust';
import mqtt from 'mqtt';
import { createApp, type RegistryApp } from '../app.js';
import { type FleetRuntime, startFleetRuntime } from '../fleet/fleet-runtime.js';
import { silentLogger } from '../logger.js';
import { createRegistryFixture, type RegistryFixture, seedNamespace } from '../testing/registry-fixture.js';
import { seedVersion } from '../testing/seed-version.js';
import { createTestKeys } from '../testing/test-keys.js';

let dir: string;
let fx: RegistryFixture;
let runtime: FleetRuntime;
let app: RegistryApp;
let operatorKey: ReturnType<typeof toSigningKey>;

const call = (path: string, init: RequestInit & { token?: string | null } = {}) => {
  const headers = new Headers(init.headers);
  if (init.token !== null) headers.set('authorization', `Bearer ${init.token ?? fx.adminToken}`);
  if (init.body) headers.set('content-type', 'application/json');
  return Promise.resolve(app.app.request(path, { ...init, headers }));
};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bpfleet-fleet-api-'));
  fx = await createRegistryFixture({ keys: createTestKeys() });
  const files = await writeKeyPair(dir, 'operator');
  operatorKey = toSigningKey(await readFile(files.privateKeyPath, 'utf8'));
  runtime = await startFleetRuntime({
    fleet: 'acme',
    dataDir: dir,
    catalog: fx.catalog,
    logger: silentLogger,
    brokerHost: '127.0.0.1',
    brokerPort: 0,
    operatorKeyFiles: [files.publicKeyPath],
  });
  app = createApp({ ...fx.deps, fleet: runtime.deps });
  await seedNamespace(fx, 'acme');
  const seeded = await seedVersion(fx, 'acme', 'fw', '1.0.0', Buffer.from('object'));
  // A full manifest, so config values and versions are checked against real declarations.
  const manifest = exampleManifestJson({ name: 'acme/fw', version: '1.1.0' });
  await fx.catalog.insertVersion({
    ...seeded,
    version: '1.1.0',
    manifest,
    manifestDigest: sha256Digest(manifest),
  });
});

after(async () => {
  await runtime.stop();
  await fx.close();
  await rm(dir, { recursive: true, force: true });
});

const policy = (serial: number, program: Partial<Policy['programs'][number]> = {}): Policy => ({
  apiVersion: 'bpfleet/v1',
  kind: 'Policy',
  serial,
  expires: '2099-01-01T00:00:00Z',
  target: { group: 'gw' },
  fleet: 'acme',
  programs: [{ id: 'fw', package: 'acme/fw', version: '^1', ...program }],
});

test('the fleet API needs the admin token', async () => {
  assert.equal((await call('/v1/fleet/devices', { token: null })).status, 401);
  assert.equal((await call('/v1/fleet/edge-key', { token: null })).status, 200);
  const doc = (await (await call('/v1/openapi.json', { token: null })).json()) as {
    paths: Record<string, unknown>;
  };
  assert.ok(doc.paths['/v1/fleet/rollouts/{id}/pause'] ?? doc.paths['/v1/fleet/rollouts/:id/pause']);
});

test('registered devices get broker credentials that work once, and show up in the fleet', async () => {
  const res = await call('/v1/fleet/devices', {
    method: 'POST',
    body: JSON.stringify({ id: 'cpe-1', groups: ['gw'] }),
  });
  assert.equal(res.status, 201);
  const created = (await res.json()) as { broker: { url: string; username: string; password: string } };
  assert.equal(
    (await call('/v1/fleet/devices', { method: 'POST', body: JSON.stringify({ id: 'cpe-1' }) })).status,
    409,
  );
  const device = await mqtt.connectAsync(created.broker.url, {
    clientId: 'cpe-1',
    username: created.broker.username,
    password: created.broker.password,
    reconnectPeriod: 0,
  });
  await device.publishAsync(deviceTopic('acme', 'cpe-1', 'presence'), 'online', { qos: 1, retain: true });
  let listed: Array<{ id: string; presence: string }> = [];
  for (let i = 0; i < 100 && listed[0]?.presence !== 'online'; i++) {
    await new Promise((r) => setTimeout(r, 20));
    listed = (await (await call('/v1/fleet/devices?group=gw')).json()) as typeof listed;
  }
  assert.deepEqual(
    listed.map((d) => [d.id, d.presence]),
    [['cpe-1', 'online']],
  );
  await device.endAsync();
});

test('policies are checked against the registry, serial-ordered and published signed', async () => {
  const apply = async (p: Policy, key = operatorKey) =>
    call('/v1/fleet/policies', { method: 'PUT', body: JSON.stringify(await signPolicy(p, key)) });
  const unknown = await apply(policy(1, { package: 'acme/nope' }));
  assert.equal(unknown.status, 400);
  assert.match(
    ((await unknown.json()) as { error: { message: string } }).error.message,
    /acme\/nope is not in the registry/,
  );
  assert.equal((await apply(policy(1, { version: '^2' }))).status, 400);
  const badConfig = await apply(policy(1, { config: { max_pps: 0 } }));
  assert.equal(badConfig.status, 400);
  assert.match(((await badConfig.json()) as { error: { message: string } }).error.message, /config\.max_pps/);
  const unknownVar = await apply(policy(1, { config: { nope: 1 } }));
  assert.match(
    ((await unknownVar.json()) as { error: { message: string } }).error.message,
    /has no config variable nope/,
  );
  const badEntry = await apply(
    policy(1, {
      maps: {
        blocklist: [
          { key: '198.51.100.7', value: 1 },
          { key: '198.51.100.x', value: 1 },
        ],
      },
    }),
  );
  assert.equal(badEntry.status, 400);
  assert.match(
    ((await badEntry.json()) as { error: { message: string } }).error.message,
    /^policy programs\[0\]\.maps\.blocklist\[1\]\.key: expected a dotted IPv4 address/,
  );
  const notManaged = await apply(policy(1, { maps: { verdicts: [] } }));
  assert.match(
    ((await notManaged.json()) as { error: { message: string } }).error.message,
    /is not policy-managed/,
  );
  assert.equal((await apply(policy(1), toSigningKey(generateKeyPair().privateKeyPem))).status, 400);
  // A blocklist far beyond the 64 KiB of other JSON bodies is taken: 20,000 entries.
  const big = Array.from({ length: 20_000 }, (_, i) => ({ key: `198.18.${i >> 8}.${i & 255}`, value: 1 }));
  const bigOk = await apply(policy(2, { maps: { blocklist: big } }));
  assert.equal(bigOk.status, 200, await bigOk.clone().text());
  const ok = await apply(policy(3));
  assert.equal(ok.status, 200, await ok.clone().text());
  assert.equal(
    ((await (await call('/v1/fleet/policies/current?group=gw')).json()) as { policy: Policy }).policy
      .programs[0]?.maps,
    undefined,
  );
  assert.equal((await apply(policy(3))).status, 409);
  const current = (await (await call('/v1/fleet/policies/current?group=gw')).json()) as {
    nextSerial: number;
  };
  assert.equal(current.nextSerial, 4);
  // What devices receive verifies with the keys they are configured with.
  const stored = runtime.deps.policies.current({ group: 'gw' })!;
  assert.equal(
    (
      await verifyPolicy(stored.bundle, [
        { keyId: operatorKey.keyId, publicKeyPem: operatorKey.publicKeyPem },
      ])
    ).serial,
    3,
  );
});

test('a rollout starts on the group and can be aborted', async () => {
  const start = await call('/v1/fleet/rollouts', {
    method: 'POST',
    body: JSON.stringify({
      group: 'gw',
      package: 'acme/fw',
      version: '1.1.0',
      waves: [1],
      waveTimeoutMs: 60_000,
    }),
  });
  assert.equal(start.status, 201, await start.clone().text());
  const rollout = (await start.json()) as { id: string; devices: Record<string, { status: string }> };
  assert.equal(rollout.devices['cpe-1']?.status, 'IN_PROGRESS');
  const device = runtime.deps.policies.current({ device: 'cpe-1' })!;
  assert.equal(device.policy.programs[0]?.version, '1.1.0', 'the wave pinned the device to the version');
  const aborted = await call(`/v1/fleet/rollouts/${rollout.id}/abort`, { method: 'POST' });
  assert.equal(((await aborted.json()) as { state: string }).state, 'ABORTED');
  assert.deepEqual(runtime.deps.policies.current({ device: 'cpe-1' })!.policy.programs, []);
  assert.equal(
    (
      await call('/v1/fleet/rollouts', {
        method: 'POST',
        body: JSON.stringify({ group: 'none', package: 'acme/fw', version: '1.0.0' }),
      })
    ).status,
    400,
  );
});
