// Over a real socket: the client against a served registry, downloads, and a publish killed mid-upload.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isBpfleetError } from '@bpfleet/sdk/errors';
import { RegistryClient } from '@bpfleet/sdk/registry-client';
import { until } from '@bpfleet/sdk/test-kit';
import { createRegistryFixture, type RegistryFixture } from '../testing/registry-fixture.js';
import { seedVersion } from '../testing/seed-version.js';
import { type ServedFixture, serveFixture } from '../testing/serve-fixture.js';
import { createTestKeys, createTestPublisher } from '../testing/test-keys.js';

describe('registry over a real socket', () => {
  let fx: RegistryFixture;
  let served: ServedFixture;
  let admin: RegistryClient;
  let token: string;
  before(async () => {
    fx = await createRegistryFixture({ keys: createTestKeys() });
    served = await serveFixture(fx);
    admin = new RegistryClient({ url: served.url, token: fx.adminToken });
    await admin.createNamespace('acme');
    await admin.addPublisherKey('acme', createTestPublisher().pair.publicKeyPem);
    token = (await admin.createToken('acme', 'socket')).token;
  });
  after(async () => {
    await served.close();
    await fx.close();
  });

  it('the client speaks the API: errors carry the server code', async () => {
    const anonymous = new RegistryClient({ url: served.url });
    await assert.rejects(
      anonymous.createNamespace('x'),
      (e: unknown) => isBpfleetError(e) && e.code === 'TOKEN_MISSING',
    );
    const wrong = new RegistryClient({ url: served.url, token });
    await assert.rejects(
      wrong.createNamespace('x'),
      (e: unknown) => isBpfleetError(e) && e.code === 'FORBIDDEN',
    );
    await assert.rejects(
      admin.createNamespace('acme'),
      (e: unknown) => isBpfleetError(e) && e.code === 'NAMESPACE_EXISTS',
    );
    await assert.rejects(
      admin.getPackage('acme', 'none'),
      (e: unknown) => isBpfleetError(e) && e.code === 'PACKAGE_NOT_FOUND',
    );
    const down = new RegistryClient({ url: 'http://127.0.0.1:1' });
    await assert.rejects(
      down.listNamespaces(),
      (e: unknown) => isBpfleetError(e) && e.code === 'REGISTRY_UNREACHABLE',
    );
    assert.equal((await admin.listPublisherKeys('acme')).length, 1);
  });

  it('downloads with Range and 304 over the socket', async () => {
    const bytes = randomBytes(70_000);
    const v = await seedVersion(fx, 'acme', 'fw', '1.0.0', bytes);
    const client = new RegistryClient({ url: served.url });
    assert.ok((await client.download(v.digest)).equals(bytes));
    const ranged = await fetch(`${served.url}/v1/blobs/${v.digest}`, {
      headers: { range: 'bytes=1000-1999' },
    });
    assert.equal(ranged.status, 206);
    assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(bytes.subarray(1000, 2000)));
    const cached = await fetch(`${served.url}/v1/blobs/${v.digest}`, {
      headers: { 'if-none-match': `"${v.digest}"` },
    });
    assert.equal(cached.status, 304);
    const head = await fetch(`${served.url}/v1/blobs/${v.digest}`, { method: 'HEAD' });
    assert.equal(head.headers.get('content-length'), String(bytes.length));
  });

  it('the download fast path answers exactly as the Hono route does, and is counted', async () => {
    const bytes = randomBytes(20_000);
    const v = await seedVersion(fx, 'acme', 'fast', '1.0.0', bytes);
    const pick = (res: Response) =>
      ['content-type', 'etag', 'cache-control', 'accept-ranges', 'content-length'].map((h) =>
        res.headers.get(h),
      );
    const cold = await fetch(`${served.url}/v1/blobs/${v.digest}`); // through Hono: fills the cache
    const coldBody = Buffer.from(await cold.arrayBuffer());
    const hot = await fetch(`${served.url}/v1/blobs/${v.digest}`); // fast path
    assert.deepEqual(pick(hot), pick(cold));
    assert.ok(Buffer.from(await hot.arrayBuffer()).equals(coldBody));
    assert.ok(coldBody.equals(bytes));
    const hot304 = await fetch(`${served.url}/v1/blobs/${v.digest}`, {
      headers: { 'if-none-match': `"${v.digest}"` },
    });
    assert.equal(hot304.status, 304);
    const hotHead = await fetch(`${served.url}/v1/blobs/${v.digest}`, { method: 'HEAD' });
    assert.equal(hotHead.headers.get('content-length'), String(bytes.length));
    const metrics = await (await fetch(`${served.url}/metrics`)).text();
    const count = (status: string) =>
      Number(
        new RegExp(
          `bpfleet_registry_http_requests_total\\{method="GET",route="/v1/blobs/:digest",status="${status}"\\} (\\d+)`,
        ).exec(metrics)?.[1] ?? 0,
      );
    assert.ok(count('200') >= 2);
    assert.ok(count('304') >= 1);
  });

  it('the document fast path answers the index and bundles exactly as the Hono routes do, and counts them', async () => {
    await seedVersion(fx, 'acme', 'docs', '1.0.0-rc.1+b7', randomBytes(100));
    const pick = (res: Response) =>
      [
        'content-type',
        'etag',
        'cache-control',
        'content-length',
        'bpfleet-index-serial',
        'bpfleet-index-expires',
      ].map((h) => res.headers.get(h));
    const bundlePath = `/v1/packages/acme/docs/versions/${encodeURIComponent('1.0.0-rc.1+b7')}/bundle`;
    for (const path of ['/v1/index', bundlePath]) {
      // A query string sends the same request through Hono.
      const viaHono = await fetch(`${served.url}${path}?via=hono`);
      const honoBody = await viaHono.text();
      const fast = await fetch(`${served.url}${path}`);
      assert.equal(fast.status, 200, path);
      assert.deepEqual(pick(fast), pick(viaHono), path);
      assert.equal(await fast.text(), honoBody, path);
      const etag = fast.headers.get('etag') ?? '';
      const again = await fetch(`${served.url}${path}`, { headers: { 'if-none-match': etag } });
      assert.equal(again.status, 304, path);
      assert.equal(again.headers.get('etag'), etag);
    }
    // What the fast path does not serve still gets the documented answers.
    const missing = await fetch(`${served.url}/v1/packages/acme/docs/versions/9.9.9/bundle`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'VERSION_NOT_FOUND');
    assert.equal((await fetch(`${served.url}/v1/packages/Acme/docs/versions/1.0.0/bundle`)).status, 400);
    const metrics = await (await fetch(`${served.url}/metrics`)).text();
    const count = (route: string, status: string) =>
      Number(
        new RegExp(
          `bpfleet_registry_http_requests_total\\{method="GET",route="${route}",status="${status}"\\} (\\d+)`,
        ).exec(metrics)?.[1] ?? 0,
      );
    assert.ok(count('/v1/index', '200') >= 1);
    assert.ok(count('/v1/index', '304') >= 1);
    assert.ok(count('/v1/packages/:ns/:name/versions/:version/bundle', '200') >= 1);
    assert.ok(count('/v1/packages/:ns/:name/versions/:version/bundle', '404') >= 1);
  });

  it('a publish whose connection dies mid-body leaves nothing visible and nothing staged', async () => {
    const bundle = Buffer.from(
      JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' }),
    ).toString('base64');
    const socket = connect(served.port, '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(
      [
        'PUT /v1/packages/acme/killed/versions/1.0.0 HTTP/1.1',
        `Host: 127.0.0.1:${served.port}`,
        `Authorization: Bearer ${token}`,
        'Content-Type: application/gzip',
        'Content-Length: 1000000',
        `Bpfleet-Bundle: ${bundle}`,
        '',
        '',
      ].join('\r\n'),
    );
    socket.write(randomBytes(300_000));
    // Let the server start staging before the connection dies.
    await until(async () => (await readdir(join(fx.blobDir, 'tmp'))).length > 0, 'staging to start', 5000);
    socket.destroy();
    await until(
      async () => (await readdir(join(fx.blobDir, 'tmp'))).length === 0,
      'staging to be cleaned',
      5000,
    );
    assert.equal(await fx.catalog.getVersion('acme', 'killed', '1.0.0'), undefined);
    assert.equal((await fetch(`${served.url}/v1/packages/acme/killed`)).status, 404);
    const blobs: string[] = [];
    for await (const b of fx.blobs.list()) blobs.push(b.digest);
    assert.deepEqual(
      new Set(blobs),
      await fx.catalog.referencedDigests(),
      'no blob beyond the published ones',
    );
    const metrics = await (await fetch(`${served.url}/metrics`)).text();
    assert.doesNotMatch(metrics, /bpfleet_registry_publishes_total\{result="ok"\}/);
  });

  it('refuses an archive over the limit with 413 before reading it (declared length)', async () => {
    const res = await fetch(`${served.url}/v1/packages/acme/big/versions/1.0.0`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${token}`,
        'content-length': String(fx.deps.limits.maxPackageBytes + 1),
        'bpfleet-bundle': Buffer.from('{}').toString('base64'),
      },
      body: new ReadableStream({
        pull(c) {
          c.enqueue(new Uint8Array(65536));
        },
      }),
      duplex: 'half',
    } as RequestInit).catch((e: unknown) => e);
    // The server answers and closes; depending on timing fetch sees the 413 or a reset.
    if (res instanceof Response) assert.equal(res.status, 413);
    assert.equal(await fx.catalog.getVersion('acme', 'big', '1.0.0'), undefined);
  });
});
