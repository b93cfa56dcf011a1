// Device registration and removal reach the broker: a removed device's live session is closed, and a login the
// broker refuses to add leaves no half-registered device.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeKeyPair } from '@bpfleet/sdk/trust';
import mqtt from 'mqtt';
import { createApp, type RegistryApp } from '../app.js';
import { DynsecError } from '../broker/mosquitto-dynsec.js';
import { type FleetRuntime, startFleetRuntime } from '../fleet/fleet-runtime.js';
import { silentLogger } from '../logger.js';
import { createRegistryFixture, type RegistryFixture } from '../testing/registry-fixture.js';
import { createTestKeys } from '../testing/test-keys.js';

let dir: string;
let fx: RegistryFixture;
let runtime: FleetRuntime;

const call = (app: RegistryApp, path: string, init: RequestInit = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${fx.adminToken}`);
  if (init.body) headers.set('content-type', 'application/json');
  return Promise.resolve(app.app.request(path, { ...init, headers }));
};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bpfleet-hab-removal-'));
  fx = await createRegistryFixture({ keys: createTestKeys() });
  const files = await writeKeyPair(dir, 'operator');
  runtime = await startFleetRuntime({
    fleet: 'hab',
    dataDir: dir,
    catalog: fx.catalog,
    logger: silentLogger,
    brokerHost: '127.0.0.1',
    brokerPort: 0,
    operatorKeyFiles: [files.publicKeyPath],
  });
});

after(async () => {
  await runtime.stop();
  await fx.close();
  await rm(dir, { recursive: true, force: true });
});

test('DELETE closes the device session on the embedded broker at once; it cannot log in again', async () => {
  const app = createApp({ ...fx.deps, fleet: runtime.deps });
  const res = await call(app, '/v1/fleet/devices', {
    method: 'POST',
    body: JSON.stringify({ id: 'hab-r1' }),
  });
  const { broker } = (await res.json()) as { broker: { url: string; username: string; password: string } };
  const options = { clientId: 'hab-r1', ...broker, protocolVersion: 4 as const, reconnectPeriod: 0 };
  const client = await mqtt.connectAsync(broker.url, options);
  const closed = new Promise<boolean>((resolve) => client.once('close', () => resolve(true)));
  assert.equal((await call(app, '/v1/fleet/devices/hab-r1', { method: 'DELETE' })).status, 204);
  assert.equal(await Promise.race([closed, sleep(5000).then(() => false)]), true, 'still open after 5 s');
  await assert.rejects(mqtt.connectAsync(broker.url, options));
  await client.endAsync(true);
});

test('a login the broker refuses to add fails the registration (502) and leaves no device', async () => {
  const refusing = {
    add: async () => {
      throw new DynsecError('DYNSEC_REFUSED', 'dynsec: createClient: Client already exists');
    },
    remove: async () => {},
    disable: async () => {},
    enable: async () => {},
  };
  const app = createApp({ ...fx.deps, fleet: { ...runtime.deps, brokerLogins: refusing } });
  const res = await call(app, '/v1/fleet/devices', {
    method: 'POST',
    body: JSON.stringify({ id: 'hab-r2' }),
  });
  assert.equal(res.status, 502);
  assert.equal(runtime.deps.store.getDevice('hab-r2'), undefined);
});
