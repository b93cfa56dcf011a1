// Certificate renewal over the edge's HTTPS: the device's current certificate authenticates it; the new key then
// replaces the old one for broker logins. Without a certificate, or with another device's, nothing is issued.
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeKeyPair } from '@bpfleet/sdk/trust';
import mqtt from 'mqtt';
import { createApp } from '../app.js';
import { type FleetRuntime, startFleetRuntime } from '../fleet/fleet-runtime.js';
import { silentLogger } from '../logger.js';
import { createNodeListener } from '../node-listener.js';
import { createRegistryFixture, type RegistryFixture } from '../testing/registry-fixture.js';
import { createTestKeys } from '../testing/test-keys.js';
import { createEdgeHttpsServer } from './https-server.js';
import { createServerPki, type ServerPki } from './testing/server-pki.js';

let dir: string;
let fx: RegistryFixture;
let runtime: FleetRuntime;
let server: Server;
let pki: ServerPki;
let url: string;

const newKey = () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
};

function post(path: string, body: unknown, client?: { cert: string; key: string }) {
  return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    // The admin token goes along (registration needs it); renewal looks only at the client certificate.
    const headers = { authorization: `Bearer ${fx.adminToken}`, 'content-type': 'application/json' };
    const req = request(`${url}${path}`, { method: 'POST', ca: pki.caPem, headers, ...client }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => {
        text += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text || '{}') }));
    });
    req.once('error', reject);
    req.end(JSON.stringify(body));
  });
}

async function register(id: string) {
  const key = newKey();
  const res = await post('/v1/fleet/devices', { id, publicKey: key.publicKeyPem });
  assert.equal(res.status, 201);
  return { cert: (res.body.broker as { tls: { certificate: string } }).tls.certificate, key: key.keyPem };
}

const login = (id: string, client: { cert: string; key: string }) =>
  mqtt
    .connectAsync(runtime.deps.brokerUrl, { clientId: id, reconnectPeriod: 0, ca: pki.caPem, ...client })
    .then(
      (c) => c.endAsync().then(() => 'in'),
      () => 'refused',
    );

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bpfleet-tls-renew-'));
  fx = await createRegistryFixture({ keys: createTestKeys() });
  pki = await createServerPki(['127.0.0.1']);
  const files = await writeKeyPair(dir, 'operator');
  runtime = await startFleetRuntime({
    fleet: 'tls',
    dataDir: dir,
    catalog: fx.catalog,
    logger: silentLogger,
    brokerHost: '127.0.0.1',
    brokerPort: 0,
    operatorKeyFiles: [files.publicKeyPath],
    tls: { cert: pki.certPem, key: pki.keyPem },
    deviceCertLifetimeMs: 3_600_000,
  });
  const app = createApp({ ...fx.deps, fleet: runtime.deps });
  const listener = createNodeListener(app, fx.deps.metrics);
  server = await createEdgeHttpsServer({ cert: pki.certPem, key: pki.keyPem }, listener, runtime.deps);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await runtime?.stop();
  await fx?.close();
  await rm(dir, { recursive: true, force: true });
});

test('the current certificate renews itself: a new one for the new key; the old key logs in no more', async () => {
  const old = await register('tls-r1');
  assert.equal(await login('tls-r1', old), 'in');
  const next = newKey();
  const res = await post('/v1/fleet/devices/tls-r1/certificate', { publicKey: next.publicKeyPem }, old);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const cert = new X509Certificate(res.body.certificate as string);
  assert.match(cert.subject, /CN=tls-r1/);
  const lifetime = Date.parse(cert.validTo) - Date.parse(cert.validFrom);
  assert.ok(
    Math.abs(lifetime - 3_600_000 - 60_000) < 2_000,
    `lifetime ${lifetime} ms (--device-cert-lifetime 1h)`,
  );
  assert.equal(await login('tls-r1', { cert: res.body.certificate as string, key: next.keyPem }), 'in');
  assert.equal(await login('tls-r1', old), 'refused');
});

test("without a certificate, or with another device's, nothing is issued", async () => {
  const a = await register('tls-r2');
  await register('tls-r3');
  const noCert = await post('/v1/fleet/devices/tls-r2/certificate', { publicKey: newKey().publicKeyPem });
  assert.equal(noCert.status, 401);
  assert.equal((noCert.body.error as { code: string }).code, 'CERTIFICATE_REQUIRED');
  const other = await post('/v1/fleet/devices/tls-r3/certificate', { publicKey: newKey().publicKeyPem }, a);
  assert.equal(other.status, 403);
  assert.equal(await login('tls-r2', a), 'in', "a refused renewal leaves the device's certificate valid");
  const bad = await post('/v1/fleet/devices/tls-r2/certificate', { publicKey: 'nope' }, a);
  assert.equal(bad.status, 400);
});
