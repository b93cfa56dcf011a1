// The real bpfleet-edge process against a misbehaving device, with its embedded broker and with a real mosquitto
// (dynamic security): a 20 MB publish, a message flood, removal with the session open. Judged by /proc and /metrics.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { issueSecret, renderDynsecConfig, renderMosquittoConf } from '@bpfleet/registry';
import { deviceTopic } from '@bpfleet/sdk/protocol';
import { freePort } from '@bpfleet/sdk/test-kit';
import { generateKeyPair, writeKeyPair } from '@bpfleet/sdk/trust';
import mqtt, { type MqttClient } from 'mqtt';
import { type EdgeProcess, startEdgeProcess } from './fixtures/edge-process.js';

const FLEET = 'hab';
const MB = 1024 * 1024;
let work: string;
let edge: EdgeProcess;
const clients: MqttClient[] = [];

let mosquitto: ChildProcess | undefined;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'bpfleet-e2e-hab-'));
});

after(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
  await edge?.stop();
  const child = mosquitto;
  if (child?.exitCode === null && child.pid !== undefined) {
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(child.pid, 'SIGTERM');
    await exited;
  }
  await rm(work, { recursive: true, force: true });
});

async function startEdge(name: string, broker?: { url: string; username: string; password: string }) {
  await edge?.stop();
  const keys = await writeKeyPair(join(work, name, 'keys'), 'operator', generateKeyPair());
  edge = await startEdgeProcess({
    dataDir: join(work, name, 'data'),
    fleet: FLEET,
    operatorKeyFile: keys.publicKeyPath,
    ...(broker ? { broker, args: ['--broker-dynsec'] } : {}),
  });
}

/** A real mosquitto whose dynamic-security config knows only the controller; the edge adds the devices. */
async function startMosquitto(): Promise<{ url: string; username: string; password: string; pid: number }> {
  const dir = join(work, 'mosquitto');
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const username = 'bpfleet-controller';
  const { secret } = issueSecret();
  const dynsecConfigFile = join(dir, 'dynamic-security.json');
  await writeFile(
    dynsecConfigFile,
    renderDynsecConfig(FLEET, [{ identity: { role: 'controller', fleet: FLEET, name: username }, secret }]),
    { mode: 0o600 },
  );
  const confFile = join(dir, 'mosquitto.conf');
  await writeFile(confFile, renderMosquittoConf({ port, dynsecConfigFile, user: userInfo().username }));
  const child = spawn('mosquitto', ['-c', confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  mosquitto = child;
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const url = `mqtt://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const up = await mqtt
      .connectAsync(url, {
        reconnectPeriod: 0,
        connectTimeout: 500,
        username,
        password: secret,
        clientId: 'hab-probe',
      })
      .then((c) => c.endAsync().then(() => true))
      .catch(() => false);
    if (up) break;
    if (i > 50 || child.exitCode !== null) throw new Error(`mosquitto did not start: ${stderr}`);
    await sleep(100);
  }
  return { url, username, password: secret, pid: child.pid! };
}

/** Writes one QoS 0 PUBLISH of `size` payload bytes onto the client's socket, 64 KiB at a time, until it closes. */
async function streamPublish(client: MqttClient, topicName: string, size: number): Promise<void> {
  const topic = Buffer.from(topicName);
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
}

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

describe('embedded broker', () => {
  before(() => startEdge('embedded'));

  test('a 20 MB telemetry publish closes the device connection; the edge grows < 30 MB', async () => {
    const { client } = await device('hab-big');
    const pid = edge.pid()!;
    await sleep(300);
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    const before = memoryOf(pid);
    await streamPublish(client, deviceTopic(FLEET, 'hab-big', 'telemetry'), 20 * MB);
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
});

describe('mosquitto with its dynamic security plugin', () => {
  let pid: number;
  before(async () => {
    const broker = await startMosquitto();
    pid = broker.pid;
    await startEdge('mosquitto', broker);
  });

  test('the edge adds a registered device; another client id is refused', async () => {
    const { client } = await device('hab-m1');
    assert.equal(client.connected, true);
    const registered = await edge.fleet.getDevice('hab-m1');
    assert.equal(registered.id, 'hab-m1');
    const impostor = mqtt.connectAsync(edge.brokerUrl, {
      clientId: 'hab-m2',
      username: 'hab-m1',
      password: 'irrelevant',
      reconnectPeriod: 0,
    });
    await assert.rejects(impostor);
  });

  test('a 20 MB publish closes the connection; mosquitto and the edge grow < 30 MB', async () => {
    const { client } = await device('hab-m-big');
    const edgePid = edge.pid()!;
    await sleep(300);
    for (const p of [pid, edgePid]) writeFileSync(`/proc/${p}/clear_refs`, '5');
    const before = [memoryOf(pid), memoryOf(edgePid)];
    await streamPublish(client, deviceTopic(FLEET, 'hab-m-big', 'telemetry'), 20 * MB);
    const closed = await closedWithin(client, 3000);
    await sleep(300);
    const growth = [memoryOf(pid).peak - before[0]!.rss, memoryOf(edgePid).peak - before[1]!.rss];
    console.log(
      `mosquitto growth ${(growth[0]! / MB).toFixed(1)} MB, edge growth ${(growth[1]! / MB).toFixed(1)} MB`,
    );
    assert.ok(
      growth[0]! < 30 * MB && growth[1]! < 30 * MB,
      `grew ${growth.map((g) => (g / MB).toFixed(1))} MB`,
    );
    assert.equal(closed, true, 'the connection stayed open');
  });

  test('a deleted device is disconnected within 5 s and cannot log in again', async () => {
    const { client, login } = await device('hab-m-gone');
    const started = performance.now();
    const res = await fetch(`${edge.url}/v1/fleet/devices/hab-m-gone`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${edge.adminToken}` },
    });
    assert.equal(res.status, 204);
    assert.equal(await closedWithin(client, 5000), true, 'session still open after 5 s');
    console.log(
      `mosquitto: deleted device's session closed after ${(performance.now() - started).toFixed(0)} ms`,
    );
    await assert.rejects(login());
  });
});
