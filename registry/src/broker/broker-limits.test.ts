// Broker limits on the embedded aedes broker and a real mosquitto: packet size, retained kinds, rate, removal.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { deviceTopic, fleetDeviceFilter } from '@bpfleet/sdk/protocol';
import { until } from '@bpfleet/sdk/test-kit';
import mqtt, { type MqttClient } from 'mqtt';
import type { BrokerIdentity } from './access-policy.js';
import { createCredentialAuthenticator, issueSecret, usernameOf } from './credentials.js';
import { startEmbeddedBroker } from './embedded-broker.js';
import { createDynsecAdmin } from './mosquitto-dynsec.js';
import { startMosquitto } from './testing/mosquitto-process.js';

const FLEET = 'hab';
const MB = 1024 * 1024;
const controller: BrokerIdentity = { role: 'controller', fleet: FLEET, name: 'bpfleet-controller' };
const devices = ['hab-big', 'hab-retain', 'hab-gone', 'hab-off'].map(
  (id): BrokerIdentity => ({ role: 'device', fleet: FLEET, deviceId: id, groups: [] }),
);
const credentials = [controller, ...devices].map((identity) => ({ identity, ...issueSecret() }));
const secretOf = (name: string) => credentials.find((c) => usernameOf(c.identity) === name)!.secret;

interface BrokerUnderTest {
  url: string;
  /** The process whose memory holds what the broker reads. */
  pid: number;
  remove(deviceId: string, ctl: MqttClient): Promise<void>;
  disable(deviceId: string, ctl: MqttClient): Promise<void>;
  close(): Promise<void>;
}

const brokers: Record<string, () => Promise<BrokerUnderTest>> = {
  embedded: async () => {
    const removed = new Set<string>();
    const broker = await startEmbeddedBroker({
      authenticator: createCredentialAuthenticator((username) =>
        removed.has(username) ? undefined : credentials.find((c) => usernameOf(c.identity) === username),
      ),
    });
    const cut = async (id: string) => {
      removed.add(id);
      await broker.disconnect(id);
    };
    return { url: broker.url, pid: process.pid, remove: cut, disable: cut, close: () => broker.close() };
  },
  mosquitto: async () => {
    const mosquitto = await startMosquitto(FLEET, credentials);
    return {
      url: mosquitto.url,
      pid: mosquitto.pid,
      remove: (id, ctl) => createDynsecAdmin(ctl).deleteDevice(id),
      disable: (id, ctl) => createDynsecAdmin(ctl).disableClient(id),
      close: () => mosquitto.stop(),
    };
  },
};

async function connectAs(url: string, name: string): Promise<MqttClient> {
  const client = mqtt.connect(url, {
    clientId: name,
    username: name,
    password: secretOf(name),
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
    client.once('close', () => reject(new Error(`connection of ${name} closed`)));
  });
  return client;
}

const closed = (client: MqttClient) =>
  new Promise<void>((resolve) => (client.connected ? client.once('close', () => resolve()) : resolve()));

/** Resident and peak resident memory of a process, in bytes (VmHWM reset by writing 5 to clear_refs). */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** Writes one QoS 0 PUBLISH of `size` payload bytes straight onto the client's socket, 64 KiB at a time. */
async function streamPublish(
  client: MqttClient,
  topic: string,
  size: number,
  retain = false,
): Promise<number> {
  const socket = client.stream;
  const topicBytes = Buffer.from(topic);
  let remaining = 2 + topicBytes.length + size;
  const length: number[] = [];
  do {
    let byte = remaining % 128;
    remaining = Math.floor(remaining / 128);
    if (remaining > 0) byte |= 0x80;
    length.push(byte);
  } while (remaining > 0);
  const header = Buffer.concat([
    Buffer.from([0x30 | (retain ? 1 : 0), ...length]),
    Buffer.from([topicBytes.length >> 8, topicBytes.length & 0xff]),
    topicBytes,
  ]);
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  let open = true;
  socket.once('close', () => {
    open = false;
  });
  socket.on('error', () => {
    open = false;
  });
  socket.write(header);
  while (open && sent < size) {
    const piece = chunk.subarray(0, Math.min(chunk.length, size - sent));
    sent += piece.length;
    if (!socket.write(piece)) {
      await Promise.race([
        new Promise((resolve) => socket.once('drain', resolve)),
        new Promise((resolve) => socket.once('close', resolve)),
      ]);
    }
  }
  return sent;
}

for (const [name, start] of Object.entries(brokers)) {
  describe(`broker limits (${name})`, () => {
    let broker: BrokerUnderTest;
    const clients: MqttClient[] = [];
    const connect = async (id: string) => {
      const client = await connectAs(broker.url, id);
      clients.push(client);
      return client;
    };

    before(async () => {
      broker = await start();
    });
    after(async () => {
      await Promise.all(clients.map((c) => c.endAsync(true)));
      await broker.close();
    });

    test('a 20 MB publish on a device topic closes the connection; the broker holds none of it', async () => {
      const ctl = await connect('bpfleet-controller');
      const seen: string[] = [];
      ctl.on('message', (topic) => seen.push(topic));
      await ctl.subscribeAsync(fleetDeviceFilter(FLEET, 'telemetry'), { qos: 1 });
      const big = await connect('hab-big');
      // Settle, then reset the peak so it measures this publish alone.
      await sleep(200);
      writeFileSync(`/proc/${broker.pid}/clear_refs`, '5');
      const before = memoryOf(broker.pid);
      const sent = await streamPublish(big, deviceTopic(FLEET, 'hab-big', 'telemetry'), 20 * MB);
      await Promise.race([closed(big), sleep(3000)]);
      const afterwards = memoryOf(broker.pid);
      const growth = afterwards.peak - before.rss;
      console.log(
        `${name}: sent ${(sent / MB).toFixed(1)} MB before the close; broker RSS ${(before.rss / MB).toFixed(1)} → peak ${(afterwards.peak / MB).toFixed(1)} MB (growth ${(growth / MB).toFixed(1)} MB)`,
      );
      assert.ok(growth < 30 * MB, `the broker's RSS grew ${(growth / MB).toFixed(1)} MB`);
      assert.equal(big.connected, false, 'the connection stayed open');
      assert.deepEqual(seen, []);
      // The device reconnects and is heard again: only the oversized packet was refused.
      const again = await connect('hab-big');
      await again.publishAsync(deviceTopic(FLEET, 'hab-big', 'telemetry'), 'small', { qos: 1 });
      await until(() => seen.length === 1, 'one message seen', 5000);
    });

    test('a deleted device is disconnected within 5 s and cannot log in again', async () => {
      const ctl = await connect('bpfleet-controller');
      const gone = await connect('hab-gone');
      const started = performance.now();
      await broker.remove('hab-gone', ctl);
      await Promise.race([closed(gone), sleep(5000).then(() => assert.fail('session still open after 5 s'))]);
      console.log(
        `${name}: deleted device's session closed after ${(performance.now() - started).toFixed(0)} ms`,
      );
      await assert.rejects(connectAs(broker.url, 'hab-gone'));
    });

    test('a disabled device is disconnected within 5 s and cannot log in again', async () => {
      const ctl = await connect('bpfleet-controller');
      const off = await connect('hab-off');
      await broker.disable('hab-off', ctl);
      await Promise.race([closed(off), sleep(5000).then(() => assert.fail('session still open after 5 s'))]);
      await assert.rejects(connectAs(broker.url, 'hab-off'));
    });
  });
}
