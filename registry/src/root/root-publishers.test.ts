// Once a root is published, the edge accepts publisher statements only from namespace keys the root also lists.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { generateKeyPair, type KeyPair, signRoot, toSigningKey } from '@bpfleet/sdk/trust';
import {
  createRegistryFixture,
  jsonBody,
  type RegistryFixture,
  seedNamespace,
} from '../testing/registry-fixture.js';
import { seedPublisher, type TestPublisher } from '../testing/seed-publisher.js';
import { seedVersion } from '../testing/seed-version.js';
import { createTestKeys } from '../testing/test-keys.js';

const [rootKey, operator] = [generateKeyPair(), generateKeyPair()] as [KeyPair, KeyPair];
const key = (k: { keyId: string; publicKeyPem: string }) => ({
  keyId: k.keyId,
  publicKeyPem: k.publicKeyPem,
});

describe('publisher keys under a root', () => {
  let fx: RegistryFixture;
  let token: string;
  let kept: TestPublisher;
  let revoked: TestPublisher;
  // One serial stream per channel, whoever signs: each move takes the next serial.
  let serial = 0;
  const move = async (publisher: TestPublisher) => {
    serial += 1;
    const statement = await publisher.sign({
      package: 'acme/fw',
      action: 'move',
      channel: 'stable',
      version: '1.0.0',
      serial,
    });
    const res = await fx.request('/v1/packages/acme/fw/channels/stable', {
      method: 'PUT',
      token,
      ...jsonBody({ statement }),
    });
    return { status: res.status, text: await res.text() };
  };

  before(async () => {
    fx = await createRegistryFixture({ keys: createTestKeys() });
    token = await seedNamespace(fx, 'acme');
    await seedVersion(fx, 'acme', 'fw', '1.0.0', randomBytes(100));
    kept = await seedPublisher(fx, 'acme');
    revoked = await seedPublisher(fx, 'acme');
  });
  after(() => fx.close());

  it('before any root every namespace key moves channels; after it, only those the root lists', async () => {
    const first = await move(revoked);
    assert.equal(first.status, 200, first.text);
    const keptKey = (await fx.catalog.listPublisherKeys('acme')).find((k) => k.keyId === kept.keyId)!;
    const root = await signRoot(
      {
        schema: 'bpfleet.root/v1',
        version: 1,
        expires: '2027-01-01T00:00:00Z',
        roles: {
          root: { keys: [key(rootKey)], threshold: 1 },
          registry: { keys: [key(fx.deps.keys)] },
          operators: { keys: [key(operator)], threshold: 1 },
          edge: { keys: [] },
          publishers: { acme: { keys: [key(keptKey)] } },
        },
      },
      [toSigningKey(rootKey.privateKeyPem)],
    );
    const put = await fx.request('/v1/root', { method: 'PUT', token: fx.adminToken, ...jsonBody(root) });
    assert.equal(put.status, 200, await put.text());
    const refused = await move(revoked);
    assert.equal(refused.status, 400, refused.text);
    assert.match(refused.text, /KEY_UNKNOWN|KEY_NOT_TRUSTED/);
    const ok = await move(kept);
    assert.equal(ok.status, 200, ok.text);
  });
});
