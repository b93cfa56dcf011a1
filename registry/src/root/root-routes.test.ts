// The edge's root chain over HTTP: first root, next root, skipped, rolled back, a foreign registry key, admin only.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateKeyPair, type KeyPair, type RootDocument, signRoot, toSigningKey } from '@bpfleet/sdk/trust';
import { createRegistryFixture, jsonBody, type RegistryFixture } from '../testing/registry-fixture.js';
import { createTestKeys } from '../testing/test-keys.js';
import { createRootService } from './root-service.js';

const [r1, r2, operator, publisher] = Array.from({ length: 4 }, generateKeyPair) as [
  KeyPair,
  KeyPair,
  KeyPair,
  KeyPair,
];
const key = (k: { keyId: string; publicKeyPem: string }) => ({
  keyId: k.keyId,
  publicKeyPem: k.publicKeyPem,
});

describe('root routes', () => {
  let fx: RegistryFixture;
  const rootOf = (version: number, registryKeys = [key(fx.deps.keys)]): RootDocument => ({
    schema: 'bpfleet.root/v1',
    version,
    expires: '2027-01-01T00:00:00Z',
    roles: {
      root: { keys: [key(r1), key(r2)], threshold: 2 },
      registry: { keys: registryKeys },
      operators: { keys: [key(operator)], threshold: 1 },
      edge: { keys: [] },
      publishers: { acme: { keys: [key(publisher)] } },
    },
  });
  const sign = (root: RootDocument, keys = [r1, r2]) =>
    signRoot(
      root,
      keys.map((k) => toSigningKey(k.privateKeyPem)),
    );
  const put = async (bundle: unknown, token = fx.adminToken) => {
    const res = await fx.request('/v1/root', { method: 'PUT', token, ...jsonBody(bundle) });
    return {
      status: res.status,
      body: (await res.json()) as { version?: number; error?: { code: string; message: string } },
    };
  };

  before(async () => {
    fx = await createRegistryFixture({ keys: createTestKeys() });
  });
  after(() => fx.close());

  it('publishes v1 and v2 and serves each by version; 404 past the newest', async () => {
    assert.equal((await fx.request('/v1/root/1.json')).status, 404);
    const v1 = await sign(rootOf(1));
    assert.equal((await put(v1)).status, 200);
    const v2 = await sign(rootOf(2));
    assert.deepEqual((await put(v2)).body, { version: 2, expires: '2027-01-01T00:00:00Z' });
    const got = await fx.request('/v1/root/2.json');
    assert.equal(got.status, 200);
    assert.match(got.headers.get('cache-control') ?? '', /immutable/);
    assert.deepEqual(await got.json(), v2);
    assert.equal((await fx.request('/v1/root/3.json')).status, 404);
    assert.equal((await fx.request('/v1/root')).headers.get('bpfleet-root-version'), '2');
  });

  it('refuses a skipped version, a rollback and too few signatures, with codes', async () => {
    const skipped = await put(await sign(rootOf(4)));
    assert.deepEqual([skipped.status, skipped.body.error?.code], [400, 'ROOT_VERSION_SKIPPED']);
    const rollback = await put(await sign(rootOf(1)));
    assert.deepEqual([rollback.status, rollback.body.error?.code], [400, 'ROOT_ROLLBACK']);
    const few = await put(await sign(rootOf(3), [r1]));
    assert.equal(few.body.error?.code, 'THRESHOLD_NOT_MET');
    assert.equal((await fx.request('/v1/root/3.json')).status, 404);
  });

  it('refuses a root whose registry role lacks the key this edge signs the index with', async () => {
    const other = generateKeyPair();
    const res = await put(await sign(rootOf(3, [key(other)])));
    assert.equal(res.body.error?.code, 'ROOT_REGISTRY_KEY_MISSING');
    assert.match(res.body.error?.message ?? '', /registry role does not list this edge's index key/);
  });

  it('at start, says so when the newest root does not list the key the edge now signs with', async () => {
    const announced: number[] = [];
    const service = (registryKeyId: string) =>
      createRootService({
        catalog: fx.catalog,
        registryKeyId,
        now: () => fx.clock.now(),
        announce: async (v) => void announced.push(v),
      });
    await service(fx.deps.keys.keyId).resume();
    await assert.rejects(service(generateKeyPair().keyId).resume(), {
      code: 'ROOT_REGISTRY_KEY_MISSING',
    });
    assert.deepEqual(announced, [2, 2]);
  });

  it('needs the admin token', async () => {
    const res = await fx.request('/v1/root', { method: 'PUT', ...jsonBody(await sign(rootOf(3))) });
    assert.equal(res.status, 401);
  });
});
