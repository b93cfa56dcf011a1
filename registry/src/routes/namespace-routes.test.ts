// The auth matrix and the namespace/key/token lifecycle, in-process.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  createRegistryFixture,
  jsonBody,
  type RegistryFixture,
  seedNamespace,
} from '../testing/registry-fixture.js';
import { createTestKeys } from '../testing/test-keys.js';

function p256PublicPem(): string {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

describe('namespaces, keys and tokens', () => {
  let fx: RegistryFixture;
  let acmeToken: string;
  let otherToken: string;
  before(async () => {
    fx = await createRegistryFixture({ keys: createTestKeys() });
    acmeToken = await seedNamespace(fx, 'acme');
    otherToken = await seedNamespace(fx, 'other');
  });
  after(() => fx.close());

  it('admin endpoints: 401 without or with an unknown token, 403 with a publish token', async () => {
    const create = (token?: string) =>
      fx.request('/v1/namespaces', { method: 'POST', token, ...jsonBody({ name: 'x' }) });
    const none = await create();
    assert.equal(none.status, 401);
    assert.deepEqual(Object.keys(((await none.json()) as { error: object }).error).sort(), [
      'code',
      'message',
    ]);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="bpfleet"');
    const unknown = await create('bpfa_not-a-real-token');
    assert.equal(unknown.status, 401);
    assert.equal(unknown.headers.get('www-authenticate'), 'Bearer realm="bpfleet", error="invalid_token"');
    const forbidden = await create(acmeToken);
    assert.equal(forbidden.status, 403);
    assert.equal(((await forbidden.json()) as { error: { code: string } }).error.code, 'FORBIDDEN');
    for (const [method, path] of [
      ['POST', '/v1/namespaces/acme/keys'],
      ['POST', '/v1/namespaces/acme/tokens'],
      ['GET', '/v1/namespaces/acme/tokens'],
      ['DELETE', '/v1/namespaces/acme/tokens/tok_x'],
      ['DELETE', '/v1/namespaces/acme/keys/k'],
      ['POST', '/v1/admin/gc'],
    ] as const) {
      assert.equal((await fx.request(path, { method })).status, 401, `${method} ${path} anonymous`);
      assert.equal(
        (await fx.request(path, { method, token: acmeToken })).status,
        403,
        `${method} ${path} publisher`,
      );
    }
  });

  it('creates a namespace once (409 the second time), validates the name', async () => {
    const first = await fx.request('/v1/namespaces', {
      method: 'POST',
      token: fx.adminToken,
      ...jsonBody({ name: 'zed' }),
    });
    assert.equal(first.status, 201);
    const again = await fx.request('/v1/namespaces', {
      method: 'POST',
      token: fx.adminToken,
      ...jsonBody({ name: 'zed' }),
    });
    assert.equal(again.status, 409);
    const bad = await fx.request('/v1/namespaces', {
      method: 'POST',
      token: fx.adminToken,
      ...jsonBody({ name: 'Bad Name' }),
    });
    assert.equal(bad.status, 400);
    assert.match(
      ((await bad.json()) as { error: { message: string } }).error.message,
      /body\.name: must match/,
    );
    const extra = await fx.request('/v1/namespaces', {
      method: 'POST',
      token: fx.adminToken,
      ...jsonBody({ name: 'ok', owner: 'me' }),
    });
    assert.match(
      ((await extra.json()) as { error: { message: string } }).error.message,
      /body\.owner: unknown field/,
    );
    const list = (await (await fx.request('/v1/namespaces')).json()) as Array<{ name: string }>;
    assert.deepEqual(
      list.map((n) => n.name),
      ['acme', 'other', 'zed'],
    );
  });

  it('registers P-256 publisher keys, refuses other keys, lists and removes them', async () => {
    const pem = p256PublicPem();
    const added = await fx.request('/v1/namespaces/acme/keys', {
      method: 'POST',
      token: fx.adminToken,
      ...jsonBody({ publicKeyPem: pem }),
    });
    assert.equal(added.status, 201);
    const { keyId } = (await added.json()) as { keyId: string };
    assert.match(keyId, /^sha256:[0-9a-f]{64}$/);
    const dup = await fx.request('/v1/namespaces/acme/keys', {
      method: 'POST',
      token: fx.adminToken,
      ...jsonBody({ publicKeyPem: pem }),
    });
    assert.equal(dup.status, 409);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
      type: 'spki',
      format: 'pem',
    });
    const wrongType = await fx.request('/v1/namespaces/acme/keys', {
      method: 'POST',
      token: fx.adminToken,
      ...jsonBody({ publicKeyPem: rsa.toString() }),
    });
    assert.equal(wrongType.status, 400);
    const missingNs = await fx.request('/v1/namespaces/ghost/keys', {
      method: 'POST',
      token: fx.adminToken,
      ...jsonBody({ publicKeyPem: pem }),
    });
    assert.equal(missingNs.status, 404);
    const listed = (await (await fx.request('/v1/namespaces/acme/keys')).json()) as Array<{ keyId: string }>;
    assert.deepEqual(
      listed.map((k) => k.keyId),
      [keyId],
    );
    const removed = await fx.request(`/v1/namespaces/acme/keys/${encodeURIComponent(keyId)}`, {
      method: 'DELETE',
      token: fx.adminToken,
    });
    assert.equal(removed.status, 204);
    assert.deepEqual(await (await fx.request('/v1/namespaces/acme/keys')).json(), []);
  });

  it('issues tokens shown once, lists them without secrets, revokes them (401 afterwards)', async () => {
    const issued = await fx.request('/v1/namespaces/other/tokens', {
      method: 'POST',
      token: fx.adminToken,
      ...jsonBody({ label: 'ci' }),
    });
    assert.equal(issued.status, 201);
    const { id, token } = (await issued.json()) as { id: string; token: string };
    assert.match(token, /^bpfp_/);
    const listText = await (await fx.request('/v1/namespaces/other/tokens', { token: fx.adminToken })).text();
    assert.ok(listText.includes(id));
    assert.ok(!listText.includes(token), 'the secret is never listed');
    assert.ok(!listText.includes('hash'), 'nor its hash');
    const stored = await fx.catalog.listTokens('other');
    assert.ok(stored.every((t) => t.hash !== token && !t.hash.includes(token)));

    const setChannel = (t: string) =>
      fx.request('/v1/packages/other/pkg/channels/stable', {
        method: 'PUT',
        token: t,
        ...jsonBody({ statement: {} }),
      });
    // Past authorization the handler refuses: there is no such package to move a channel of.
    const passed = await setChannel(token);
    assert.equal(passed.status, 404, 'valid token reaches the handler');
    assert.equal(((await passed.json()) as { error: { code: string } }).error.code, 'PACKAGE_NOT_FOUND');
    assert.equal((await setChannel(acmeToken)).status, 403, 'token of another namespace');
    const revoked = await fx.request(`/v1/namespaces/other/tokens/${id}`, {
      method: 'DELETE',
      token: fx.adminToken,
    });
    assert.equal(revoked.status, 204);
    const after = await setChannel(token);
    assert.equal(after.status, 401);
    assert.match(((await after.json()) as { error: { message: string } }).error.message, /revoked/);
    assert.equal((await setChannel(otherToken)).status, 404, 'the other token of the namespace still works');
    const twice = await fx.request(`/v1/namespaces/other/tokens/${id}`, {
      method: 'DELETE',
      token: fx.adminToken,
    });
    assert.equal(twice.status, 404);
    const crossNs = await fx.request(`/v1/namespaces/acme/tokens/${id}`, {
      method: 'DELETE',
      token: fx.adminToken,
    });
    assert.equal(crossNs.status, 404);
  });
});

it('refuses oversized JSON bodies, chunked or declared, with 413', async () => {
  const fx = await createRegistryFixture({ keys: createTestKeys() });
  try {
    const huge = JSON.stringify({ name: 'x'.repeat(100_000) });
    const declared = await fx.request('/v1/namespaces', {
      method: 'POST',
      token: fx.adminToken,
      ...jsonBody(JSON.parse(huge)),
    });
    assert.equal(declared.status, 413);
    const chunked = await fx.request('/v1/namespaces', {
      method: 'POST',
      token: fx.adminToken,
      body: new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode(huge));
          c.close();
        },
      }),
      duplex: 'half',
    } as RequestInit & { token: string });
    assert.equal(chunked.status, 413);
  } finally {
    await fx.close();
  }
});
