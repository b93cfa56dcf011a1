// Health, metrics, the OpenAPI document generated from the route table, JSON 404s, orphan collection.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createRegistryFixture, type RegistryFixture, seedNamespace } from '../testing/registry-fixture.js';
import { seedVersion } from '../testing/seed-version.js';
import { createTestKeys } from '../testing/test-keys.js';

describe('system routes', () => {
  let fx: RegistryFixture;
  before(async () => {
    fx = await createRegistryFixture({ keys: createTestKeys() });
  });
  after(() => fx.close());

  it('healthz answers ok', async () => {
    const res = await fx.request('/healthz');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });

  it('unknown routes get the JSON error shape', async () => {
    const res = await fx.request('/v2/nothing');
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
  });

  it('openapi.json documents every mounted route with its parameters and security', async () => {
    const doc = (await (await fx.request('/v1/openapi.json')).json()) as {
      openapi: string;
      paths: Record<
        string,
        Record<string, { operationId: string; security?: unknown; parameters: unknown[] }>
      >;
    };
    assert.equal(doc.openapi, '3.1.0');
    for (const route of fx.routes) {
      const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const op = doc.paths[path]?.[route.method];
      assert.ok(op, `${route.method} ${path} documented`);
      assert.equal(op.operationId, route.operationId);
      assert.deepEqual(op.security, route.access === 'public' ? [] : [{ bearer: [] }]);
    }
    const publish = doc.paths['/v1/packages/{ns}/{name}/versions/{version}']?.put;
    assert.ok(publish);
    assert.equal(publish.parameters.length, 5);
    const ids = fx.routes.map((r) => r.operationId);
    assert.equal(new Set(ids).size, ids.length, 'operation ids are unique');
  });

  it('metrics count requests by route pattern and bytes served', async () => {
    await seedNamespace(fx, 'acme');
    const v = await seedVersion(fx, 'acme', 'fw', '1.0.0', randomBytes(1234));
    await fx.request(`/v1/blobs/${v.digest}`);
    const text = await (await fx.request('/metrics')).text();
    assert.match(
      text,
      /bpfleet_registry_http_requests_total\{method="GET",route="\/v1\/blobs\/:digest",status="200"\} 1/,
    );
    assert.match(text, /bpfleet_registry_bytes_served_total\{kind="package"\} 1234/);
    assert.match(text, /bpfleet_registry_http_request_duration_seconds_bucket/);
  });

  it('collects orphans older than the grace period, never published blobs', async () => {
    async function* one(s: string) {
      yield Buffer.from(s);
    }
    const orphan = await fx.blobs.stage(one('orphan'), { maxBytes: 100 });
    await orphan.commit();
    const early = await fx.request('/v1/admin/gc', { method: 'POST', token: fx.adminToken });
    assert.deepEqual(await early.json(), { orphans: 0, staging: 0 }, 'young orphans are spared');
    fx.clock.advance(24 * 60 * 60 * 1000);
    // The fixture's clock is manual while file times are real: move the clock far past the blob's mtime.
    fx.clock.advance(Date.now() - fx.clock.now().getTime() + 60 * 60 * 1000);
    const late = await fx.request('/v1/admin/gc', { method: 'POST', token: fx.adminToken });
    assert.deepEqual(await late.json(), { orphans: 1, staging: 0 });
    assert.equal(await fx.blobs.stat(orphan.digest), undefined);
    const published = (await fx.catalog.listVersions('acme', 'fw'))[0]!;
    assert.ok(await fx.blobs.stat(published.digest), 'published blobs stay');
  });
});
