// The read side in-process: metadata, versions, search, downloads with ETag, Range, HEAD and 304, channels, yank.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sha256Digest } from '@bpfleet/sdk/digest';
import type { VersionRecord } from '../catalog/catalog.js';
import {
  createRegistryFixture,
  jsonBody,
  type RegistryFixture,
  seedNamespace,
} from '../testing/registry-fixture.js';
import { seedPublisher, type TestPublisher } from '../testing/seed-publisher.js';
import { seedVersion } from '../testing/seed-version.js';
import { createTestKeys } from '../testing/test-keys.js';

describe('read API and downloads', () => {
  let fx: RegistryFixture;
  let token: string;
  let publisher: TestPublisher;
  let strangerSign: TestPublisher['sign'];
  let v1: VersionRecord;
  let v2: VersionRecord;
  let big: VersionRecord;
  const bytes1 = randomBytes(5000);
  const bigBytes = randomBytes(300_000);
  before(async () => {
    // A tiny cache so the big blob is streamed from disk and the small one served from memory.
    fx = await createRegistryFixture({ keys: createTestKeys(), limits: { cacheBlobBytes: 100_000 } });
    token = await seedNamespace(fx, 'acme');
    await seedNamespace(fx, 'zed');
    publisher = await seedPublisher(fx, 'acme');
    // Registered for another namespace only: trusted nowhere near acme.
    strangerSign = (await seedPublisher(fx, 'zed')).sign;
    v1 = await seedVersion(fx, 'acme', 'xdp-fw', '1.0.0', bytes1);
    v2 = await seedVersion(fx, 'acme', 'xdp-fw', '1.1.0', randomBytes(10));
    big = await seedVersion(fx, 'zed', 'counter', '0.1.0', bigBytes);
  });
  after(() => fx.close());

  for (const source of ['memory', 'disk'] as const) {
    it(`downloads by digest with a strong ETag and immutable caching (${source})`, async () => {
      const [record, data] = source === 'memory' ? [v1, bytes1] : [big, bigBytes];
      for (let i = 0; i < 2; i++) {
        const res = await fx.request(`/v1/blobs/${record.digest}`);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('etag'), `"${record.digest}"`);
        assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
        assert.equal(res.headers.get('accept-ranges'), 'bytes');
        assert.equal(res.headers.get('content-length'), String(data.length));
        assert.ok(Buffer.from(await res.arrayBuffer()).equals(data));
      }
    });

    it(`serves one Range, suffix and open ranges, 416 outside (${source})`, async () => {
      const [record, data] = source === 'memory' ? [v1, bytes1] : [big, bigBytes];
      const get = (range: string, extra: Record<string, string> = {}) =>
        fx.request(`/v1/blobs/${record.digest}`, { headers: { range, ...extra } });
      const mid = await get('bytes=100-199');
      assert.equal(mid.status, 206);
      assert.equal(mid.headers.get('content-range'), `bytes 100-199/${data.length}`);
      assert.ok(Buffer.from(await mid.arrayBuffer()).equals(data.subarray(100, 200)));
      const tail = await get('bytes=-10');
      assert.ok(Buffer.from(await tail.arrayBuffer()).equals(data.subarray(data.length - 10)));
      const open = await get(`bytes=${data.length - 3}-`);
      assert.equal(open.headers.get('content-length'), '3');
      const clamp = await get(`bytes=0-${data.length * 2}`);
      assert.equal(clamp.status, 206);
      assert.equal(clamp.headers.get('content-length'), String(data.length));
      const outside = await get(`bytes=${data.length}-`);
      assert.equal(outside.status, 416);
      assert.equal(outside.headers.get('content-range'), `bytes */${data.length}`);
      const multi = await get('bytes=0-1,5-6');
      assert.equal(multi.status, 200, 'several ranges: the whole body');
      const staleIfRange = await get('bytes=0-1', { 'if-range': '"sha256:other"' });
      assert.equal(staleIfRange.status, 200);
      const freshIfRange = await get('bytes=0-1', { 'if-range': `"${record.digest}"` });
      assert.equal(freshIfRange.status, 206);
    });
  }

  it('answers 304 to a matching If-None-Match (weak or in a list), HEAD without a body', async () => {
    const notModified = await fx.request(`/v1/blobs/${v1.digest}`, {
      headers: { 'if-none-match': `"sha256:x", W/"${v1.digest}"` },
    });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.headers.get('etag'), `"${v1.digest}"`);
    assert.equal((await notModified.arrayBuffer()).byteLength, 0);
    const head = await fx.request(`/v1/blobs/${big.digest}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(bigBytes.length));
    assert.equal((await head.arrayBuffer()).byteLength, 0);
  });

  it('404s unknown, unpublished and malformed digests; serves only published blobs', async () => {
    assert.equal((await fx.request(`/v1/blobs/${sha256Digest('nothing')}`)).status, 404);
    assert.equal((await fx.request('/v1/blobs/sha256:zz')).status, 400);
    async function* one() {
      yield Buffer.from('staged but never published');
    }
    const orphan = await fx.blobs.stage(one(), { maxBytes: 1000 });
    await orphan.commit();
    assert.equal((await fx.request(`/v1/blobs/${orphan.digest}`)).status, 404);
  });

  it('downloads a version by name, its manifest and bundle with digest ETags', async () => {
    const pkg = await fx.request('/v1/packages/acme/xdp-fw/versions/1.0.0/package');
    assert.equal(pkg.headers.get('etag'), `"${v1.digest}"`);
    assert.ok(Buffer.from(await pkg.arrayBuffer()).equals(bytes1));
    const manifest = await fx.request('/v1/packages/acme/xdp-fw/versions/1.0.0/manifest');
    assert.equal(manifest.headers.get('etag'), `"${v1.manifestDigest}"`);
    assert.equal(await manifest.text(), v1.manifest);
    const cached = await fx.request('/v1/packages/acme/xdp-fw/versions/1.0.0/manifest', {
      headers: { 'if-none-match': `"${v1.manifestDigest}"` },
    });
    assert.equal(cached.status, 304);
    const bundle = await fx.request('/v1/packages/acme/xdp-fw/versions/1.0.0/bundle');
    assert.equal(bundle.headers.get('etag'), `"${sha256Digest(v1.bundle)}"`);
    assert.equal((await fx.request('/v1/packages/acme/xdp-fw/versions/9.9.9/manifest')).status, 404);
  });

  it('gives package metadata, versions newest first, search', async () => {
    const meta = (await (await fx.request('/v1/packages/acme/xdp-fw')).json()) as {
      package: string;
      latest: string;
      versionList: Array<{ version: string }>;
    };
    assert.equal(meta.package, 'acme/xdp-fw');
    assert.equal(meta.latest, '1.1.0');
    assert.deepEqual(
      meta.versionList.map((v) => v.version),
      ['1.1.0', '1.0.0'],
    );
    const versions = (await (await fx.request('/v1/packages/acme/xdp-fw/versions')).json()) as Array<{
      digest: string;
    }>;
    assert.equal(versions[1]?.digest, v1.digest);
    const one = (await (await fx.request('/v1/packages/acme/xdp-fw/versions/1.1.0')).json()) as {
      digest: string;
    };
    assert.equal(one.digest, v2.digest);
    const search = (await (await fx.request('/v1/packages?q=COUNTER')).json()) as {
      packages: Array<{ package: string }>;
    };
    assert.deepEqual(
      search.packages.map((p) => p.package),
      ['zed/counter'],
    );
    const byNs = (await (await fx.request('/v1/packages?namespace=acme')).json()) as { packages: unknown[] };
    assert.equal(byNs.packages.length, 1);
    assert.equal((await fx.request('/v1/packages?limit=0')).status, 400);
    assert.equal((await fx.request('/v1/packages/acme/nope')).status, 404);
    assert.equal((await fx.request('/v1/packages/acme/nope/versions')).status, 404);
  });

  it('moves channels and yanks only on a publisher-signed statement, yanks without deleting', async () => {
    const pkg = 'acme/xdp-fw';
    const put = (path: string, body: unknown, t = token, method = 'PUT') =>
      fx.request(`/v1/packages/acme/xdp-fw/${path}`, { method, token: t, ...jsonBody(body) });
    const move = async (
      channel: string,
      version: string,
      extra: { serial?: number; rollback?: { reason: string } } = {},
    ) =>
      put(`channels/${channel}`, {
        statement: await publisher.sign({ package: pkg, action: 'move', channel, version, ...extra }),
      });
    // A publish token alone moves nothing: the old body and a statement signed by an unregistered key are refused.
    assert.equal((await put('channels/stable', { version: '1.0.0' })).status, 400);
    const stranger = await strangerSign({
      package: pkg,
      action: 'move',
      channel: 'stable',
      version: '1.0.0',
    });
    const refused = await put('channels/stable', { statement: stranger });
    assert.equal(refused.status, 400);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'KEY_UNKNOWN');

    assert.equal((await move('stable', '1.1.0')).status, 200);
    assert.equal((await move('canary', '1.1.0')).status, 200);
    assert.deepEqual(await (await fx.request('/v1/packages/acme/xdp-fw/channels')).json(), {
      canary: '1.1.0',
      stable: '1.1.0',
    });
    const down = await move('stable', '1.0.0');
    assert.equal(down.status, 409);
    assert.equal(((await down.json()) as { error: { code: string } }).error.code, 'CHANNEL_DOWNGRADE');
    assert.equal((await move('stable', '1.0.0', { rollback: { reason: 'drops IPv6' } })).status, 200);
    const replay = await move('stable', '1.1.0', { serial: 1 });
    assert.equal(((await replay.json()) as { error: { code: string } }).error.code, 'STATEMENT_STALE');
    const mismatch = await put('channels/canary', {
      statement: await publisher.sign({ package: pkg, action: 'move', channel: 'stable', version: '1.0.0' }),
    });
    assert.equal(((await mismatch.json()) as { error: { code: string } }).error.code, 'STATEMENT_MISMATCH');
    assert.equal((await move('beta', '7.0.0')).status, 404);
    const listed = (await (await fx.request('/v1/packages/acme/xdp-fw/statements')).json()) as Array<{
      stream: string;
      serial: number;
    }>;
    assert.deepEqual(
      listed.map((s) => [s.stream, s.serial]),
      [
        ['channel:canary', 1],
        ['channel:stable', 3], // 2 was signed for the refused downgrade
      ],
    );

    // A token without a statement cannot yank; the admin can, in an emergency, but cannot unyank.
    const tokenYank = await put('versions/1.1.0/yank', { reason: 'x' });
    assert.equal(tokenYank.status, 403);
    assert.equal(((await tokenYank.json()) as { error: { code: string } }).error.code, 'YANK_UNSIGNED');
    const yank = await put('versions/1.1.0/yank', { reason: 'CVE-2026-1' }, fx.adminToken);
    assert.equal(yank.status, 200);
    assert.equal(((await yank.json()) as { yankReason: string }).yankReason, 'CVE-2026-1');
    assert.equal((await put('versions/1.1.0/yank', {}, fx.adminToken, 'DELETE')).status, 400);
    assert.equal((await move('canary', '1.1.0')).status, 409, 'no move to a yanked version');
    assert.equal(
      ((await (await fx.request('/v1/packages/acme/xdp-fw')).json()) as { latest: string }).latest,
      '1.0.0',
    );
    assert.equal(
      (await fx.request(`/v1/blobs/${v2.digest}`)).status,
      200,
      'a yanked version stays downloadable',
    );
    const anonymous = await fx.request('/v1/packages/acme/xdp-fw/versions/1.1.0/yank', { method: 'DELETE' });
    assert.equal(anonymous.status, 401);
    const unyank = await put(
      'versions/1.1.0/yank',
      { statement: await publisher.sign({ package: pkg, action: 'unyank', version: '1.1.0' }) },
      token,
      'DELETE',
    );
    assert.equal(((await unyank.json()) as { yanked: boolean }).yanked, false);
    const signedYank = await put('versions/1.1.0/yank', {
      statement: await publisher.sign({
        package: pkg,
        action: 'yank',
        version: '1.1.0',
        reason: 'drops IPv6',
      }),
    });
    assert.equal(((await signedYank.json()) as { yankReason: string }).yankReason, 'drops IPv6');
  });
});
