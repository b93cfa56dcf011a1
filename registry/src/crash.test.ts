// bpfleet-edge as a process: kill -9 mid-publish and at rest; the data directory reopens consistent.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RegistryClient } from '@bpfleet/sdk/registry-client';
import Database from 'better-sqlite3';
import { buildSignedPackage } from './testing/signed-package.js';
import { createTestPublisher } from './testing/test-keys.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
let dir: string;
const adminToken = `bpfa_${randomBytes(24).toString('base64url')}`;
const running = new Set<ChildProcess>();

async function startEdge(): Promise<{ child: ChildProcess; url: string; port: number }> {
  const child = spawn(process.execPath, [MAIN, '--data-dir', dir, '--port', '0', '--broker-port', '0'], {
    env: { ...process.env, BPFLEET_EDGE_ADMIN_TOKEN: adminToken },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.on('exit', () => running.delete(child));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`bpfleet-edge exited ${code}: ${out}`)));
  });
  return { child, url, port: Number(new URL(url).port) };
}

function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bpfleet-edge-crash-'));
});
after(async () => {
  for (const child of running) child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

it('survives kill -9 mid-upload and at rest: published versions stay, the half upload never appears', async () => {
  const publisher = createTestPublisher();
  const first = await startEdge();
  const admin = new RegistryClient({ url: first.url, token: adminToken });
  await admin.createNamespace('acme');
  await admin.addPublisherKey('acme', publisher.pair.publicKeyPem);
  const { token } = await admin.createToken('acme');
  const client = new RegistryClient({ url: first.url, token });
  const v1 = await buildSignedPackage('acme/fw', '1.0.0', publisher.signing);
  await client.publish({
    namespace: 'acme',
    name: 'fw',
    version: '1.0.0',
    archive: v1.archive,
    bundle: v1.bundle,
  });
  const index = (await client.getIndex()) as object;
  assert.ok(index);

  // Start a publish, send half the body, then kill the server.
  const v2 = await buildSignedPackage('acme/fw', '2.0.0', publisher.signing, { objectBytes: 200_000 });
  const socket = connect(first.port, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', () => r()));
  socket.on('error', () => {});
  socket.write(
    [
      'PUT /v1/packages/acme/fw/versions/2.0.0 HTTP/1.1',
      `Host: 127.0.0.1:${first.port}`,
      `Authorization: Bearer ${token}`,
      `Content-Length: ${v2.archive.length}`,
      `Bpfleet-Bundle: ${Buffer.from(JSON.stringify(v2.bundle)).toString('base64')}`,
      '',
      '',
    ].join('\r\n'),
  );
  socket.write(v2.archive.subarray(0, v2.archive.length >> 1));
  for (let i = 0; i < 200 && (await readdir(join(dir, 'blobs', 'tmp'))).length === 0; i++) {
    await new Promise((r) => setTimeout(r, 25));
  }
  await kill9(first.child);
  socket.destroy();

  const db = new Database(join(dir, 'catalog.db'), { readonly: true });
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  db.close();

  const second = await startEdge();
  const reader = new RegistryClient({ url: second.url, token });
  const info = await reader.getPackage('acme', 'fw');
  assert.deepEqual(
    info.versionList.map((v) => v.version),
    ['1.0.0'],
  );
  assert.ok((await reader.download(v1.digest)).equals(v1.archive));
  // The interrupted version can be published whole now.
  await reader.publish({
    namespace: 'acme',
    name: 'fw',
    version: '2.0.0',
    archive: v2.archive,
    bundle: v2.bundle,
  });
  assert.equal((await reader.getVersion('acme', 'fw', '2.0.0')).digest, v2.digest);
  await kill9(second.child);

  const third = await startEdge();
  const after3 = new RegistryClient({ url: third.url });
  assert.deepEqual(
    (await after3.listVersions('acme', 'fw')).map((v) => v.version),
    ['2.0.0', '1.0.0'],
  );
  third.child.kill('SIGTERM');
});
