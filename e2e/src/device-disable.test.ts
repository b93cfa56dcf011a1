// `bpfleet fleet device disable|enable` against the real bpfleet-edge, on its embedded broker and on a real
// mosquitto (dynamic security): the live session closed within 5 s, logins refused, DISABLED shown, enable undoes it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generateKeyPair, writeKeyPair } from '@bpfleet/sdk/trust';
import mqtt, { type MqttClient } from 'mqtt';
import { type EdgeProcess, startEdgeProcess } from './fixtures/edge-process.js';
import { type MosquittoProcess, startDynsecMosquitto } from './fixtures/mosquitto-dynsec.js';

const FLEET = 'thp';
const CLI = fileURLToPath(new URL('../../sdk/dist/cli/main.js', import.meta.url));
let work: string;
let edge: EdgeProcess | undefined;
let mosquitto: MosquittoProcess | undefined;
const clients: MqttClient[] = [];

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'bpfleet-e2e-thp-disable-'));
});

after(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
  await edge?.stop();
  await mosquitto?.stop();
  await rm(work, { recursive: true, force: true });
});

async function startEdge(name: string, broker?: MosquittoProcess['broker']): Promise<EdgeProcess> {
  await edge?.stop();
  const keys = await writeKeyPair(join(work, name, 'keys'), 'operator', generateKeyPair());
  edge = await startEdgeProcess({
    dataDir: join(work, name, 'data'),
    fleet: FLEET,
    operatorKeyFile: keys.publicKeyPath,
    ...(broker ? { broker, args: ['--broker-dynsec'] } : {}),
  });
  return edge;
}

async function bpfleet(e: EdgeProcess, ...args: string[]) {
  const argv = [CLI, ...args, '--registry', e.url, '--token', e.adminToken];
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, argv, {
      env: { PATH: process.env.PATH ?? '', HOME: work, XDG_CONFIG_HOME: work },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const x = err as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

/** Registers `id` and returns a login function with its credentials (a device as the broker sees it). */
async function device(e: EdgeProcess, id: string) {
  const { broker } = await e.fleet.registerDevice(id, ['gw']);
  return async () => {
    const client = await mqtt.connectAsync(e.brokerUrl, {
      clientId: id,
      username: id,
      password: broker.password,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    clients.push(client);
    return client;
  };
}

const closedWithin = (client: MqttClient, ms: number) =>
  Promise.race([
    new Promise<boolean>((resolve) =>
      client.connected ? client.once('close', () => resolve(true)) : resolve(true),
    ),
    sleep(ms).then(() => false),
  ]);

/** The disable/enable story, the same on both brokers. */
async function disableStory(e: EdgeProcess, id: string, broker: string): Promise<void> {
  const login = await device(e, id);
  const client = await login();
  const started = performance.now();
  const disabled = await bpfleet(e, 'fleet', 'device', 'disable', id, '--json');
  assert.equal(disabled.code, 0, disabled.stderr);
  assert.deepEqual(JSON.parse(disabled.stdout), { id, state: 'DISABLED' });
  assert.equal(await closedWithin(client, 5000), true, `${broker}: session still open 5 s after disable`);
  console.log(
    `${broker}: disabled device's session closed after ${(performance.now() - started).toFixed(0)} ms`,
  );
  await assert.rejects(login(), `${broker}: a disabled device logged in`);

  const table = await bpfleet(e, 'fleet', 'status', '--status', 'DISABLED');
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, new RegExp(`^${id}\\s+DISABLED\\s+gw`, 'm'));
  assert.equal((await e.fleet.getDevice(id)).state, 'DISABLED');

  const enabled = await bpfleet(e, 'fleet', 'device', 'enable', id);
  assert.equal(enabled.code, 0, enabled.stderr);
  assert.match(enabled.stdout, /ENABLED/);
  const back = await login();
  assert.equal(back.connected, true, `${broker}: the enabled device cannot log in`);
  assert.equal((await e.fleet.getDevice(id)).state, 'ENABLED');
  const unknown = await bpfleet(e, 'fleet', 'device', 'disable', 'thp-nobody');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /thp-nobody: not registered/);
}

describe('embedded broker', () => {
  test('a disabled device is disconnected within 5 s, refused, shown DISABLED; enable lets it back', async () => {
    await disableStory(await startEdge('embedded'), 'thp-e1', 'embedded');
  });
});

describe('mosquitto with its dynamic security plugin', () => {
  test('a disabled device is disconnected within 5 s, refused, shown DISABLED; enable lets it back', async () => {
    mosquitto = await startDynsecMosquitto(join(work, 'mosquitto'), FLEET);
    await disableStory(await startEdge('mosquitto', mosquitto.broker), 'thp-m1', 'mosquitto');
  });
});
