// Fuzz: every route with a request body (found in the served OpenAPI document), fed garbage text, random JSON,
// objects shaped like its schema, and random bytes for binary bodies: never a 5xx, always a typed JSON error.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fuzzRuns } from '@bpfleet/sdk/testing/reliability-runs';
import { generateKeyPair, writeKeyPair } from '@bpfleet/sdk/trust';
import fc from 'fast-check';
import { createApp, type RegistryApp } from '../app.js';
import { type FleetRuntime, startFleetRuntime } from '../fleet/fleet-runtime.js';
import { silentLogger } from '../logger.js';
import { createRegistryFixture, type RegistryFixture, seedNamespace } from '../testing/registry-fixture.js';
import { seedVersion } from '../testing/seed-version.js';
import { createTestKeys } from '../testing/test-keys.js';

const RUNS = fuzzRuns();

interface Operation {
  method: string;
  path: string;
  contentType: string;
  properties: string[];
}

let dir: string;
let fx: RegistryFixture;
let runtime: FleetRuntime;
let app: RegistryApp;
let publishToken: string;
let operations: Operation[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bpfleet-http-fuzz-'));
  fx = await createRegistryFixture({ keys: createTestKeys() });
  const files = await writeKeyPair(dir, 'operator');
  runtime = await startFleetRuntime({
    fleet: 'acme',
    dataDir: dir,
    catalog: fx.catalog,
    logger: silentLogger,
    brokerHost: '127.0.0.1',
    brokerPort: 0,
    operatorKeyFiles: [files.publicKeyPath],
  });
  app = createApp({ ...fx.deps, fleet: runtime.deps });
  publishToken = await seedNamespace(fx, 'acme');
  await seedVersion(fx, 'acme', 'fw', '1.0.0', Buffer.from('object'));
  const doc = (await (await app.app.request('/v1/openapi.json')).json()) as {
    paths: Record<
      string,
      Record<
        string,
        { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } }
      >
    >;
  };
  operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).flatMap(([method, op]) =>
      Object.entries(op.requestBody?.content ?? {}).map(([contentType, { schema }]) => ({
        method: method.toUpperCase(),
        path,
        contentType,
        properties: Object.keys(schema.properties ?? {}),
      })),
    ),
  );
});

after(async () => {
  await runtime?.stop();
  await fx?.close();
  await rm(dir, { recursive: true, force: true });
});

// Path parameters: mostly ones that exist (so the body is reached), sometimes anything.
const param = (name: string) =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constant(
        ({ ns: 'acme', name: 'fw', version: '1.0.0' } as Record<string, string>)[name] ?? 'x1',
      ),
    },
    { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 12 }) },
  );

function body(op: Operation): fc.Arbitrary<string | Uint8Array> {
  const shaped =
    op.properties.length > 0
      ? fc
          .record(
            Object.fromEntries(
              op.properties.map((p) => [p, fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 2 }))]),
            ),
            {
              requiredKeys: [],
            },
          )
          .map((v) => JSON.stringify(v))
      : fc.constant('{}');
  return fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.json({ maxDepth: 3 }),
    shaped,
    fc.uint8Array({ maxLength: 512 }),
  );
}

test('fuzz: request bodies of every route get a 2xx/4xx with a typed JSON error, never a 5xx', async () => {
  assert.ok(operations.length >= 8, `routes with bodies: ${operations.map((o) => `${o.method} ${o.path}`)}`);
  const cases = fc.constantFrom(...operations).chain((op) => {
    const names = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '');
    return fc.record({
      op: fc.constant(op),
      params: fc.tuple(...names.map(param)),
      body: body(op),
      token: fc.constantFrom('admin', 'publish', 'none'),
      contentType: fc.constantFrom(op.contentType, 'application/json', 'text/plain'),
    });
  });
  await fc.assert(
    fc.asyncProperty(cases, async ({ op, params, body, token, contentType }) => {
      let i = 0;
      const path = op.path.replace(/\{\w+\}/g, () => encodeURIComponent(params[i++] ?? ''));
      const headers: Record<string, string> = { 'content-type': contentType };
      if (token !== 'none')
        headers.authorization = `Bearer ${token === 'admin' ? fx.adminToken : publishToken}`;
      const res = await app.app.request(path, { method: op.method, headers, body });
      const text = await res.text();
      assert.ok(res.status < 500, `${op.method} ${path}: ${res.status} ${text}`);
      if (res.status >= 400) {
        const parsed = JSON.parse(text) as { error: { code: string; message: string } };
        assert.match(parsed.error.code, /^[A-Z_]+$/, text);
        assert.equal(typeof parsed.error.message, 'string');
      }
    }),
    { numRuns: RUNS },
  );
});

test('the fuzz reaches past validation: a shaped valid body still succeeds afterwards', async () => {
  const res = await app.app.request('/v1/namespaces', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${fx.adminToken}` },
    body: JSON.stringify({ name: `after-fuzz-${generateKeyPair().keyId.slice(0, 6).toLowerCase()}` }),
  });
  assert.equal(res.status, 201, await res.text());
});
