// The real bpfleet-edge process and its embedded broker against a misbehaving device: a 20 MB publish, a message
// flood, and removal with the session open. Judged by the edge process's own memory (/proc) and its /metrics.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { deviceTopic } from '@bpfleet/sdk/protocol';
import { generateKeyPair, writeKeyPair } from '@bpfleet/sdk/trust';
import mqtt, { type MqttClient } from 'mqtt';
import { type EdgeProcess, startEdgeProcess } from './fixtures/edge-process.js';

const FLEET = 'hab';
const MB = 1024 * 1024;
let work: string;
let edge: EdgeProcess;
const clients: MqttClient[] = [];

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'bpfleet-e2e-hab-'));
  const keys = await writeKeyPair(join(work, 'keys'), 'operator', generateKeyPair());
  edge = await startEdgeProcess({
    dataDir: join(work, 'data'),
    fleet: FLEET,
    operatorKeyFile: keys.publicKeyPath,
  });
});

after(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
  await edge?.stop();
  await rm(work, { recursive: true, force: true });
});

async function device(id: string): Promise<{ client: MqttClient; login: () => Promise<MqttClient> }> {
  const registered = await edge.fleet.registerDevice(id, []);
  const login = async () => {
    const client = await mqtt.connectAsync(edge.brokerUrl, {
      clientId: id,
      username: id,
      password: registered.broker.password,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    clients.push(client);
    return client;
  };
  return { client: await login(), login };
}

function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${edge.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

const closedWithin = (client: MqttClient, ms: number) =>
  Promise.race([
    new Promise<boolean>((resolve) =>
      client.connected ? client.once('close', () => resolve(true)) : resolve(true),
    ),
    sleep(ms).then(() => false),
  ]);

test('a 20 MB telemetry publish closes the device connection; the edge grows < 30 MB', async () => {
  const { client } = await device('hab-big');
  const pid = edge.pid()!;
  await sleep(300);
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
  const before = memoryOf(pid);
  const topic = Buffer.from(deviceTopic(FLEET, 'hab-big', 'telemetry'));
  const size = 20 * MB;
  let remaining = 2 + topic.length + size;
  const length: number[] = [];
  do {
    length.push((remaining % 128) | (remaining >= 128 ? 0x80 : 0));
    remaining = Math.floor(remaining / 128);
  } while (remaining > 0);
  const socket = client.stream;
  socket.on('error', () => {});
  socket.write(
    Buffer.concat([Buffer.from([0x30, ...length, topic.length >> 8, topic.length & 0xff]), topic]),
  );
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  for (let sent = 0; sent < size && !socket.destroyed; sent += chunk.length) {
    if (!socket.write(chunk)) {
      await Promise.race([
        new Promise((r) => socket.once('drain', r)),
        new Promise((r) => socket.once('close', r)),
      ]);
    }
  }
  const closed = await closedWithin(client, 3000);
  await sleep(300);
  const afterwards = memoryOf(pid);
  const growth = afterwards.peak - before.rss;
  console.log(
    `edge RSS ${(before.rss / MB).toFixed(1)} MB → peak ${(afterwards.peak / MB).toFixed(1)} MB (growth ${(growth / MB).toFixed(1)} MB)`,
  );
  assert.ok(growth < 30 * MB, `the edge grew ${(growth / MB).toFixed(1)} MB`);
  assert.equal(closed, true, 'the connection stayed open');
  assert.equal(await metric('bpfleet_broker_packets_refused_total'), 1);
});

test('a flood of 3,000 messages is dropped over the rate, counted, one RATE_LIMITED event', async () => {
  const { client } = await device('hab-loud');
  const topic = deviceTopic(FLEET, 'hab-loud', 'telemetry');
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 3000 }, (_, i) =>
      client.publishAsync(topic, JSON.stringify({ time: new Date().toISOString(), metrics: [], i }), {
        qos: 1,
      }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const dropped = await metric('bpfleet_broker_messages_dropped_total{reason="rate"}');
  console.log(`3000 messages in ${seconds.toFixed(2)} s: ${dropped} dropped`);
  assert.ok(dropped >= 3000 - 100 - Math.ceil(seconds * 20) - 1, `${dropped} dropped`);
  const events = await edge.fleet.deviceEvents('hab-loud');
  assert.deepEqual(
    events.filter((e) => (e.event.reason as { code?: string } | undefined)?.code === 'RATE_LIMITED').length,
    1,
    JSON.stringify(events.slice(0, 3)),
  );
  assert.equal(client.connected, true);
});

test('a deleted device is disconnected within 5 s and cannot log in again', async () => {
  const { client, login } = await device('hab-gone');
  const started = performance.now();
  const res = await fetch(`${edge.url}/v1/fleet/devices/hab-gone`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${edge.adminToken}` },
  });
  assert.equal(res.status, 204);
  assert.equal(await closedWithin(client, 5000), true, 'session still open after 5 s');
  console.log(`deleted device's session closed after ${(performance.now() - started).toFixed(0)} ms`);
  await assert.rejects(login());
});
