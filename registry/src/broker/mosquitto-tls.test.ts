// A real mosquitto with the rendered certificate listener (require_certificate, use_identity_as_username): the
// edge's device certificates log in as the device they name and nothing else; passwords stay on the other listener.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt, { type MqttClient } from 'mqtt';
import { type DeviceCa, loadOrCreateDeviceCa } from '../tls/device-ca.js';
import { createServerPki, type ServerPki } from '../tls/testing/server-pki.js';
import type { BrokerIdentity } from './access-policy.js';
import { issueSecret } from './credentials.js';
import { createDynsecAdmin } from './mosquitto-dynsec.js';
import { type MosquittoProcess, startMosquitto } from './testing/mosquitto-process.js';

const FLEET = 'tls';
const desired = (id: string) => `bpfleet/v1/${FLEET}/dev/${id}/desired`;

describe('mosquitto certificate listener', () => {
  let work: string;
  let ca: DeviceCa;
  let server: ServerPki;
  let broker: MosquittoProcess;
  let controller: MqttClient;
  const clients: MqttClient[] = [];
  const controllerLogin = { name: 'bpfleet-controller', ...issueSecret() };
  const bLogin = issueSecret();
  const certs: Record<string, { cert: string; key: string }> = {};

  const certify = async (authority: DeviceCa, id: string) => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const issued = await authority.issue(id, publicKey.export({ type: 'spki', format: 'pem' }) as string);
    return { cert: issued.certPem, key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'bpfleet-tls-mosquitto-'));
    ca = await loadOrCreateDeviceCa(join(work, 'edge'));
    server = await createServerPki(['127.0.0.1']);
    certs.a = await certify(ca, 'tls-a');
    certs.foreign = await certify(await loadOrCreateDeviceCa(join(work, 'other')), 'tls-a');
    const device = (id: string): BrokerIdentity => ({
      role: 'device',
      fleet: FLEET,
      deviceId: id,
      groups: [],
    });
    broker = await startMosquitto(
      FLEET,
      [
        {
          identity: { role: 'controller', fleet: FLEET, name: controllerLogin.name },
          secret: controllerLogin.secret,
        },
        // A certificate device still has a dynsec client: it carries the device's ACL (the password is never used).
        { identity: device('tls-a'), secret: issueSecret().secret },
        { identity: device('tls-b'), secret: bLogin.secret },
      ],
      { tls: { ca: ca.certPem, cert: server.certPem, key: server.keyPem } },
    );
    controller = await mqtt.connectAsync(broker.url, {
      clientId: controllerLogin.name,
      username: controllerLogin.name,
      password: controllerLogin.secret,
      reconnectPeriod: 0,
    });
  });

  after(async () => {
    await Promise.all([controller, ...clients].map((c) => c?.endAsync(true).catch(() => {})));
    await broker?.stop();
    await rm(work, { recursive: true, force: true });
  });

  const connect = async (clientId: string, cert = certs.a!) => {
    const client = await mqtt.connectAsync(broker.tlsUrl!, {
      clientId,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ca: server.caPem,
      cert: cert.cert,
      key: cert.key,
    });
    clients.push(client);
    return client;
  };

  test("a device certificate logs in as its CN and gets that device's topics only", async () => {
    const a = await connect('tls-a');
    const [own] = await a.subscribeAsync(desired('tls-a'), { qos: 1 });
    assert.equal(own?.qos, 1);
    // mqtt.js rejects a SUBACK of 0x80 (refused).
    await assert.rejects(a.subscribeAsync(desired('tls-b'), { qos: 1 }), /Subscribe error/);
    await a.endAsync();
  });

  test("A's certificate under B's client id acts as A: B's live session is untouched", async () => {
    const b = await mqtt.connectAsync(broker.url, {
      clientId: 'tls-b',
      username: 'tls-b',
      password: bLogin.secret,
      reconnectPeriod: 0,
    });
    clients.push(b);
    let bClosed = false;
    b.on('close', () => {
      bClosed = true;
    });
    const impostor = await connect('tls-b');
    await assert.rejects(impostor.subscribeAsync(desired('tls-b'), { qos: 1 }), /Subscribe error/);
    await sleep(300);
    assert.equal(bClosed, false, "B's session was not taken over");
    await impostor.endAsync();
  });

  test('no certificate, or one from another CA, is refused at the handshake', async () => {
    await assert.rejects(
      mqtt.connectAsync(broker.tlsUrl!, { clientId: 'tls-a', reconnectPeriod: 0, ca: server.caPem }),
    );
    await assert.rejects(connect('tls-a', certs.foreign));
  });

  test('a disabled device is closed and its certificate reaches no topic until it is enabled again', async () => {
    const a = await connect('tls-a');
    const closed = new Promise<void>((resolve) => a.once('close', () => resolve()));
    const admin = createDynsecAdmin(controller);
    await admin.disableClient('tls-a');
    await closed;
    const again = await connect('tls-a');
    await assert.rejects(again.subscribeAsync(desired('tls-a'), { qos: 1 }), /Subscribe error/);
    await again.endAsync();
    await admin.enableClient('tls-a');
    const back = await connect('tls-a');
    const [own] = await back.subscribeAsync(desired('tls-a'), { qos: 1 });
    assert.equal(own?.qos, 1, 'enabled: its own topics again');
    await back.endAsync();
  });

  test('a deleted device keeps nothing: its session is closed and its certificate reaches no topic', async () => {
    const a = await connect('tls-a');
    const closed = new Promise<void>((resolve) => a.once('close', () => resolve()));
    await createDynsecAdmin(controller).deleteDevice('tls-a');
    await closed;
    const again = await connect('tls-a');
    await assert.rejects(again.subscribeAsync(desired('tls-a'), { qos: 1 }), /Subscribe error/);
  });
});
