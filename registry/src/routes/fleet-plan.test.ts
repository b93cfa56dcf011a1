// Targeting by capability over the real fleet runtime: devices report inventories over MQTT, the edge plans.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sha256Digest } from '@bpfleet/sdk/digest';
import { exampleManifestJson } from '@bpfleet/sdk/manifest';
import { type Policy, signPolicy } from '@bpfleet/sdk/policy';
import { type DeviceInventory, deviceTopic } from '@bpfleet/sdk/protocol';
import { toSigningKey, writeKeyPair } from '@bpfleet/sdk/trust';
import mqtt from 'mqtt';
import { createApp, type RegistryApp } from '../app.js';
import { type FleetRuntime, startFleetRuntime } from '../fleet/fleet-runtime.js';
import type { TargetPlan } from '../fleet/policies/target-plan.js';
import { silentLogger } from '../logger.js';
import { createRegistryFixture, type RegistryFixture, seedNamespace } from '../testing/registry-fixture.js';
import { seedVersion } from '../testing/seed-version.js';
import { createTestKeys } from '../testing/test-keys.js';

let dir: string;
let fx: RegistryFixture;
let runtime: FleetRuntime;
let app: RegistryApp;
let operatorKey: ReturnType<typeof toSigningKey>;

const call = (path: string, init: RequestInit = {}) =>
  Promise.resolve(
    app.app.request(path, {
      ...init,
      headers: { authorization: `Bearer ${fx.adminToken}`, 'content-type': 'application/json' },
    }),
  );

const inventory = (release: string, patch: Partial<DeviceInventory> = {}): DeviceInventory => ({
  arch: 'x86',
  endianness: 'little',
  kernel: { release, version: '#1 SMP' },
  btf: 'kernel',
  libbpf: '1.1',
  capabilities: ['CAP_BPF', 'CAP_NET_ADMIN'],
  programTypes: { xdp: true, sched_cls: true },
  attachTypes: {},
  agentVersion: '0.1.0',
  memoryBytes: 1 << 30,
  ...patch,
});

/** Registers `id` in group gw and publishes its reported state (with `inv`, if any) as the device would. */
async function device(id: string, inv?: DeviceInventory): Promise<void> {
  const res = await call('/v1/fleet/devices', {
    method: 'POST',
    body: JSON.stringify({ id, groups: ['gw'] }),
  });
  const { broker } = (await res.json()) as { broker: { url: string; username: string; password: string } };
  const client = await mqtt.connectAsync(broker.url, { clientId: id, ...broker, reconnectPeriod: 0 });
  const reported = {
    device: id,
    fleet: 'acme',
    time: new Date().toISOString(),
    policies: {},
    policyErrors: {},
    programs: [],
    ...(inv && { inventory: inv }),
  };
  await client.publishAsync(deviceTopic('acme', id, 'reported'), JSON.stringify(reported), {
    qos: 1,
    retain: true,
  });
  await client.endAsync();
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hei-fleet-plan-'));
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
  // requires: x86 or arm64, kernel 5.15, BTF, xdp + sched_cls, CAP_BPF + CAP_NET_ADMIN.
  const manifest = exampleManifestJson({ name: 'acme/fw', version: '1.1.0' });
  await fx.catalog.insertVersion({
    ...seeded,
    version: '1.1.0',
    manifest,
    manifestDigest: sha256Digest(manifest),
  });
  await device('new', inventory('6.18.0'));
  await device('old', inventory('5.10.43', { btf: 'none' }));
  await device('mips', inventory('6.6.1', { arch: 'mips', endianness: 'big', programTypes: {} }));
  await device('silent');
  for (let i = 0; i < 200; i++) {
    const ids = ['new', 'old', 'mips'].map((id) => runtime.deps.store.getDevice(id)?.reported?.inventory);
    if (ids.every(Boolean)) break;
    await new Promise((r) => setTimeout(r, 20));
  }
});

after(async () => {
  await runtime.stop();
  await fx.close();
  await rm(dir, { recursive: true, force: true });
});

const policy = (serial: number, where?: Policy['target']['where']): Policy => ({
  apiVersion: 'bpfleet/v1',
  kind: 'Policy',
  serial,
  expires: '2099-01-01T00:00:00Z',
  target: { group: 'gw', ...(where && { where }) },
  fleet: 'acme',
  programs: [{ id: 'fw', package: 'acme/fw', version: '^1' }],
});

test('the edge stores each device inventory and shows it with the device', async () => {
  const listed = (await (await call('/v1/fleet/devices?group=gw')).json()) as Array<{
    id: string;
    inventory: DeviceInventory | null;
  }>;
  const byId = Object.fromEntries(listed.map((d) => [d.id, d.inventory]));
  assert.deepEqual(byId.old, inventory('5.10.43', { btf: 'none' }));
  assert.equal(byId.silent, null);
});

test("plan and apply say which devices the selector and the package's requires leave out, and why", async () => {
  const plan = (await (
    await call('/v1/fleet/policies/plan', { method: 'POST', body: JSON.stringify(policy(1)) })
  ).json()) as TargetPlan;
  assert.deepEqual(plan, {
    included: ['new'],
    excluded: [
      {
        device: 'mips',
        // Left out by its arch: what it has not probed (xdp, sched_cls) no longer matters.
        reasons: ['program fw: acme/fw@1.1.0 needs arch x86 or arm64 (device is mips)'],
      },
      {
        device: 'old',
        reasons: [
          'program fw: acme/fw@1.1.0 needs kernel 5.15 or newer (device runs 5.10.43)',
          'program fw: acme/fw@1.1.0 needs the kernel BTF (device has none)',
        ],
      },
    ],
    unknown: [{ device: 'silent', reasons: ['no inventory reported yet'] }],
  });
  const applied = await call('/v1/fleet/policies', {
    method: 'PUT',
    body: JSON.stringify(await signPolicy(policy(1, { kernel: '>=99' }), operatorKey)),
  });
  assert.equal(applied.status, 200);
  const body = (await applied.json()) as { serial: number; plan: TargetPlan };
  assert.equal(body.serial, 1, 'published all the same: excluded devices must see the new serial');
  assert.deepEqual(body.plan.included, []);
  assert.deepEqual(body.plan.excluded.find((d) => d.device === 'new')?.reasons, [
    'target.where: kernel 6.18.0 is not >=99',
  ]);
  const bad = await call('/v1/fleet/policies/plan', {
    method: 'POST',
    body: JSON.stringify(policy(2, { kernel: 'new' } as never)),
  });
  assert.equal(bad.status, 400);
  assert.match(
    ((await bad.json()) as { error: { message: string } }).error.message,
    /policy target\.where\.kernel/,
  );
});
