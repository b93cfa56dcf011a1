// Disabling a device on the embedded broker: its live session closed at once, its logins refused, enable lets it back.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeKeyPair } from '@bpfleet/sdk/trust';
import mqtt from 'mqtt';
import { createApp } from '../app.js';
import { type FleetRuntime, startFleetRuntime } from '../fleet/fleet-runtime.js';
import { silentLogger } from '../logger.js';
import { createRegistryFixture, type RegistryFixture } from '../testing/registry-fixture.js';
import { createTestKeys } from '../testing/test-keys.js';

let dir: string;
let fx: RegistryFixture;
let runtime: FleetRuntime;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bpfleet-thp-disable-'));
  fx = await createRegistryFixture({ keys: createTestKeys() });
  const files = await writeKeyPair(dir, 'operator');
  runtime = await startFleetRuntime({
    fleet: 'thp',
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

test('disable closes the session within 5 s and refuses logins; the state shows DISABLED; enable lets it in', async () => {
  const { app } = createApp({ ...fx.deps, fleet: runtime.deps });
  const call = (path: string, method = 'GET', body?: unknown) =>
    Promise.resolve(
      app.request(path, {
        method,
        headers: { authorization: `Bearer ${fx.adminToken}`, 'content-type': 'application/json' },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      }),
    );
  const registered = await call('/v1/fleet/devices', 'POST', { id: 'thp-d1', groups: ['gw'] });
  const { broker } = (await registered.json()) as {
    broker: { url: string; username: string; password: string };
  };
  const options = { clientId: 'thp-d1', ...broker, protocolVersion: 4 as const, reconnectPeriod: 0 };
  const client = await mqtt.connectAsync(broker.url, options);
  const closed = new Promise<number>((resolve) => client.once('close', () => resolve(Date.now())));
  const asked = Date.now();
  const disabled = await call('/v1/fleet/devices/thp-d1/disable', 'POST');
  assert.equal(disabled.status, 200);
  assert.deepEqual(await disabled.json(), { id: 'thp-d1', state: 'DISABLED' });
  const at = await Promise.race([closed, sleep(5000).then(() => undefined)]);
  assert.ok(at !== undefined, 'the session is still open 5 s after disable');
  assert.ok(at - asked < 5000);
  await assert.rejects(mqtt.connectAsync(broker.url, options), 'a disabled device logged in');
  const view = (await (await call('/v1/fleet/devices/thp-d1')).json()) as { state: string };
  assert.equal(view.state, 'DISABLED');
  const listed = (await (await call('/v1/fleet/devices?status=DISABLED')).json()) as Array<{ id: string }>;
  assert.deepEqual(
    listed.map((d) => d.id),
    ['thp-d1'],
  );
  assert.equal((await call('/v1/fleet/devices/nobody/disable', 'POST')).status, 404);
  // An external broker the edge does not manage: refused rather than stored as if it took effect.
  const unmanaged = createApp({ ...fx.deps, fleet: { ...runtime.deps, brokerLogins: undefined } }).app;
  const refused = await unmanaged.request('/v1/fleet/devices/thp-d1/enable', {
    method: 'POST',
    headers: { authorization: `Bearer ${fx.adminToken}` },
  });
  assert.equal(refused.status, 409);
  const still = (await (await call('/v1/fleet/devices/thp-d1')).json()) as { state: string };
  assert.equal(still.state, 'DISABLED', 'the refused enable changed nothing');

  assert.equal((await call('/v1/fleet/devices/thp-d1/enable', 'POST')).status, 200);
  const back = await mqtt.connectAsync(broker.url, options);
  assert.ok(back.connected);
  await back.endAsync(true);
  await client.endAsync(true);
});
