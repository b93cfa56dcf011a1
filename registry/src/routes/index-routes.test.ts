// The signed index: registry signature, contents, a serial that only grows, expiry and re-signing, 304.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { INDEX_PAYLOAD_TYPE, type TrustedKey, verifyDocument } from '@bpfleet/sdk/trust';
import type { IndexDocument } from '../index-doc/index-document.js';
import {
  createRegistryFixture,
  jsonBody,
  type RegistryFixture,
  seedNamespace,
} from '../testing/registry-fixture.js';
import { seedPublisher, type TestPublisher } from '../testing/seed-publisher.js';
import { seedVersion } from '../testing/seed-version.js';
import { createTestKeys } from '../testing/test-keys.js';

async function fetchIndex(
  fx: RegistryFixture,
  path = '/v1/index',
): Promise<{ doc: IndexDocument; res: Response }> {
  const res = await fx.request(path);
  assert.equal(res.status, 200, await res.clone().text());
  const keyInfo = (await (await fx.request('/v1/keys/registry')).json()) as TrustedKey & {
    payloadType: string;
  };
  assert.equal(keyInfo.payloadType, INDEX_PAYLOAD_TYPE);
  const trusted: TrustedKey[] = [{ keyId: keyInfo.keyId, publicKeyPem: keyInfo.publicKeyPem }];
  const { document } = await verifyDocument(await res.json(), INDEX_PAYLOAD_TYPE, trusted, fx.clock.now());
  return { doc: document as IndexDocument, res };
}

describe('signed index', () => {
  let fx: RegistryFixture;
  let token: string;
  let publisher: TestPublisher;
  const ttl = 24 * 60 * 60 * 1000;
  before(async () => {
    fx = await createRegistryFixture({ keys: createTestKeys(), indexTtlMs: ttl });
    token = await seedNamespace(fx, 'acme');
    publisher = await seedPublisher(fx, 'acme');
    await seedNamespace(fx, 'zed');
    await seedVersion(fx, 'acme', 'xdp-fw', '1.0.0', randomBytes(100));
    await seedVersion(fx, 'zed', 'counter', '0.1.0', randomBytes(200));
  });
  after(() => fx.close());

  it('is signed by the registry key and lists versions with digests, sizes, yanked flags and channels', async () => {
    const move = await publisher.sign({
      package: 'acme/xdp-fw',
      action: 'move',
      channel: 'stable',
      version: '1.0.0',
    });
    const set = await fx.request('/v1/packages/acme/xdp-fw/channels/stable', {
      method: 'PUT',
      token,
      ...jsonBody({ statement: move }),
    });
    assert.equal(set.status, 200, await set.text());
    const { doc, res } = await fetchIndex(fx);
    const v = (await fx.catalog.getVersion('acme', 'xdp-fw', '1.0.0'))!;
    assert.equal(doc.schema, 'bpfleet.index/v1');
    assert.equal(doc.namespace, null);
    assert.deepEqual(doc.packages['acme/xdp-fw'], {
      versions: { '1.0.0': { digest: v.digest, size: 100, manifestDigest: v.manifestDigest, yanked: false } },
      channels: { stable: '1.0.0' },
      statements: [move],
    });
    assert.ok(doc.packages['zed/counter']);
    assert.equal(new Date(doc.expires).getTime() - new Date(doc.issuedAt).getTime(), ttl);
    assert.equal(res.headers.get('bpfleet-index-serial'), String(doc.serial));
  });

  it('is not accepted with another key or another payload type', async () => {
    const res = await fx.request('/v1/index');
    const bundle = await res.json();
    const other = createTestKeys();
    await assert.rejects(
      verifyDocument(
        bundle,
        INDEX_PAYLOAD_TYPE,
        [{ keyId: other.keyId, publicKeyPem: other.publicKeyPem }],
        fx.clock.now(),
      ),
    );
    const key = (await (await fx.request('/v1/keys/registry')).json()) as TrustedKey;
    await assert.rejects(
      verifyDocument(bundle, 'application/vnd.bpfleet.policy.v1+json', [key], fx.clock.now()),
    );
  });

  it('keeps one serial while nothing changes (304 on its ETag), takes a higher one on every change', async () => {
    const first = await fetchIndex(fx);
    const again = await fetchIndex(fx);
    assert.equal(again.doc.serial, first.doc.serial);
    const etag = first.res.headers.get('etag')!;
    assert.equal((await fx.request('/v1/index', { headers: { 'if-none-match': etag } })).status, 304);
    await fx.request('/v1/packages/acme/xdp-fw/versions/1.0.0/yank', {
      method: 'PUT',
      token,
      ...jsonBody({
        statement: await publisher.sign({ package: 'acme/xdp-fw', action: 'yank', version: '1.0.0' }),
      }),
    });
    const yanked = await fetchIndex(fx);
    assert.ok(yanked.doc.serial > first.doc.serial);
    assert.equal(yanked.doc.packages['acme/xdp-fw']?.versions['1.0.0']?.yanked, true);
    assert.equal((await fx.request('/v1/index', { headers: { 'if-none-match': etag } })).status, 200);
  });

  it('is re-signed with a later expiry once half its lifetime has passed, and expires', async () => {
    const first = await fetchIndex(fx);
    fx.clock.advance(ttl / 2 - 1000);
    assert.equal((await fetchIndex(fx)).doc.serial, first.doc.serial);
    const stale = await (await fx.request('/v1/index')).json();
    fx.clock.advance(2000);
    const resigned = await fetchIndex(fx);
    assert.ok(resigned.doc.serial > first.doc.serial);
    assert.ok(new Date(resigned.doc.expires) > new Date(first.doc.expires));
    // An agent holding the old document past its expiry must see it is expired.
    fx.clock.advance(ttl);
    assert.ok(new Date(first.doc.expires) < fx.clock.now());
    assert.ok(stale);
  });

  it('is served per namespace with only that namespace', async () => {
    const { doc } = await fetchIndex(fx, '/v1/index/zed');
    assert.equal(doc.namespace, 'zed');
    assert.deepEqual(Object.keys(doc.packages), ['zed/counter']);
    assert.equal((await fx.request('/v1/index/ghost')).status, 404);
  });

  it('shares one signing among concurrent requests', async () => {
    await fx.request('/v1/packages/acme/xdp-fw/versions/1.0.0/yank', {
      method: 'DELETE',
      token,
      ...jsonBody({
        statement: await publisher.sign({ package: 'acme/xdp-fw', action: 'unyank', version: '1.0.0' }),
      }),
    });
    const docs = await Promise.all(Array.from({ length: 5 }, () => fetchIndex(fx)));
    assert.equal(new Set(docs.map((d) => d.doc.serial)).size, 1);
  });
});

it('across a restart the stored index is served again, and the next change takes a higher serial', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bpfleet-index-'));
  try {
    const open = () =>
      createRegistryFixture({
        keys: createTestKeys(),
        catalogPath: join(dir, 'catalog.db'),
        blobDir: join(dir, 'blobs'),
      });
    const a = await open();
    await seedNamespace(a, 'acme');
    await seedVersion(a, 'acme', 'fw', '1.0.0', randomBytes(10));
    const first = await fetchIndex(a);
    await a.close();
    // A new instance on the same files, as after a restart (and a new registry key: tests make their own),
    // serves the stored document.
    const b = await open();
    const res = await b.request('/v1/index');
    assert.equal(res.headers.get('bpfleet-index-serial'), String(first.doc.serial));
    await seedVersion(b, 'acme', 'fw', '1.1.0', randomBytes(10));
    const second = await fetchIndex(b);
    await b.close();
    assert.ok(second.doc.serial > first.doc.serial);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// Two instances in this process, each with its own SQLite connection to the file: SQLite locks and WAL act per
// connection as they do per process. Two real bpfleet-edge processes are not started here.
it('two registry instances (separate SQLite connections) on one catalog never serve a lower serial after a higher one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bpfleet-index-'));
  try {
    const keys = createTestKeys();
    const open = () =>
      createRegistryFixture({ keys, catalogPath: join(dir, 'catalog.db'), blobDir: join(dir, 'blobs') });
    const a = await open();
    const b = await open();
    // Each fixture sets its own admin token; the last one opened holds the valid one.
    await seedNamespace(b, 'acme');
    let highest = 0;
    for (let i = 0; i < 6; i++) {
      await seedVersion(i % 2 ? a : b, 'acme', 'fw', `1.0.${i}`, randomBytes(10));
      // Both instances race to re-sign; then every response that follows must be at least as high.
      await Promise.all([a, b].map((fx) => fx.request('/v1/index')));
      for (const fx of [a, b, a, b]) {
        const serial = Number((await fx.request('/v1/index')).headers.get('bpfleet-index-serial'));
        assert.ok(serial >= highest, `serial ${serial} after ${highest}`);
        highest = Math.max(highest, serial);
      }
    }
    await a.close();
    await b.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
