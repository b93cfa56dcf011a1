// GET /v1/fleet/devices/:id/program-events: records a device sent over MQTT (as the device, with its issued
// login), filtered by program and stream, admin only; a removed device's records go with it.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { deviceTopic, type ProgramEventBatch } from '@bpfleet/sdk/protocol';
import { writeKeyPair } from '@bpfleet/sdk/trust';
import mqtt from 'mqtt';
import { createApp, type RegistryApp } from '../app.js';
import { type FleetRuntime, startFleetRuntime } from '../fleet/fleet-runtime.js';
import { silentLogger } from '../logger.js';
import { createRegistryFixture, type RegistryFixture } from '../testing/registry-fixture.js';
import { createTestKeys } from '../testing/test-keys.js';

let dir: string;
let fx: RegistryFixture;
let runtime: FleetRuntime;
let app: RegistryApp;

// biome-ignore lint/suspicious/noExplicitAny: response bodies read by the assertions
const json = async (res: Response): Promise<any> => res.json();

const call = (path: string, init: RequestInit = {}, token = fx.adminToken) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  if (init.body) headers.set('content-type', 'application/json');
  return Promise.resolve(app.app.request(path, { ...init, headers }));
};

const batch = (deployment: string, stream: string, pids: number[]): ProgramEventBatch => ({
  kind: 'program-events',
  time: new Date().toISOString(),
  deployment,
  package: `acme/${deployment}`,
  version: '1.0.0',
  stream,
  first: 0,
  records: pids.map((pid) => ({ pid })),
  lost: { ringFull: 1, budget: 2, malformed: 0 },
});

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bpfleet-evs-routes-'));
  fx = await createRegistryFixture({ keys: createTestKeys() });
  const files = await writeKeyPair(dir, 'operator');
  runtime = await startFleetRuntime({
    fleet: 'evs',
    dataDir: dir,
    catalog: fx.catalog,
    logger: silentLogger,
    brokerHost: '127.0.0.1',
    brokerPort: 0,
    operatorKeyFiles: [files.publicKeyPath],
  });
  app = createApp({ ...fx.deps, fleet: runtime.deps });
});

after(async () => {
  await runtime.stop();
  await fx.close();
  await rm(dir, { recursive: true, force: true });
});

test('records sent by the device are listed newest first, by program and stream, with stream totals', async () => {
  const res = await call('/v1/fleet/devices', { method: 'POST', body: JSON.stringify({ id: 'evs-r1' }) });
  const { broker } = (await res.json()) as { broker: { url: string; username: string; password: string } };
  const client = await mqtt.connectAsync(broker.url, { clientId: 'evs-r1', ...broker, protocolVersion: 4 });
  const topic = deviceTopic('evs', 'evs-r1', 'events');
  await client.publishAsync(topic, JSON.stringify(batch('exec', 'exec_events', [1, 2, 3])), { qos: 1 });
  await client.publishAsync(topic, JSON.stringify(batch('dns', 'dns_events', [9])), { qos: 1 });
  // An agent lifecycle event on the same topic still goes to the device's event history.
  await client.publishAsync(topic, JSON.stringify({ time: new Date().toISOString(), state: 'ATTACHED' }), {
    qos: 1,
  });
  await client.endAsync();
  let body: { events: Array<{ deployment: string; record: { pid: number } }>; streams: unknown[] } = {
    events: [],
    streams: [],
  };
  for (let i = 0; i < 100 && body.events.length < 4; i++) {
    await new Promise((r) => setTimeout(r, 20));
    body = await json(await call('/v1/fleet/devices/evs-r1/program-events'));
  }
  assert.deepEqual(
    body.events.map((e) => [e.deployment, e.record.pid]),
    [
      ['dns', 9],
      ['exec', 3],
      ['exec', 2],
      ['exec', 1],
    ],
  );
  assert.equal(body.streams.length, 2);
  const exec = await json(await call('/v1/fleet/devices/evs-r1/program-events?program=acme/exec&limit=2'));
  assert.equal(exec.events.length, 2);
  const byStream = await json(await call('/v1/fleet/devices/evs-r1/program-events?stream=dns_events'));
  assert.equal(byStream.events.length, 1);
  const history = await json(await call('/v1/fleet/devices/evs-r1/events'));
  assert.equal(history[0]?.event?.state, 'ATTACHED');

  assert.equal((await call('/v1/fleet/devices/evs-none/program-events')).status, 404);
  assert.equal((await call('/v1/fleet/devices/evs-r1/program-events', {}, 'not-a-token')).status, 401);
  assert.equal((await call('/v1/fleet/devices/evs-r1', { method: 'DELETE' })).status, 204);
  await call('/v1/fleet/devices', { method: 'POST', body: JSON.stringify({ id: 'evs-r1' }) });
  const fresh = await json(await call('/v1/fleet/devices/evs-r1/program-events'));
  assert.deepEqual(fresh, { events: [], streams: [] }, 'a removed device leaves no records behind');
});
