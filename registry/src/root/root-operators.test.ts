// With a root published, the edge applies policies signed by the root's operators role, not by --operator-key.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sha256Digest } from '@bpfleet/sdk/digest';
import { exampleManifestJson } from '@bpfleet/sdk/manifest';
import { cosignPolicy, type Policy, signPolicy } from '@bpfleet/sdk/policy';
import {
  generateKeyPair,
  type KeyPair,
  type SigningKey,
  signRoot,
  toSigningKey,
  writeKeyPair,
} from '@bpfleet/sdk/trust';
import { createApp, type RegistryApp } from '../app.js';
import { type FleetRuntime, startFleetRuntime } from '../fleet/fleet-runtime.js';
import { silentLogger } from '../logger.js';
import {
  createRegistryFixture,
  jsonBody,
  type RegistryFixture,
  seedNamespace,
} from '../testing/registry-fixture.js';
import { seedVersion } from '../testing/seed-version.js';
import { createTestKeys } from '../testing/test-keys.js';

let dir: string;
let fx: RegistryFixture;
let runtime: FleetRuntime;
let app: RegistryApp;
let fileOperator: SigningKey;
const [rootKey, rootOperatorA, rootOperatorB] = [generateKeyPair(), generateKeyPair(), generateKeyPair()] as [
  KeyPair,
  KeyPair,
  KeyPair,
];
const key = (k: { keyId: string; publicKeyPem: string }) => ({
  keyId: k.keyId,
  publicKeyPem: k.publicKeyPem,
});

const call = (path: string, init: RequestInit = {}) =>
  Promise.resolve(
    app.app.request(path, {
      ...init,
      headers: { ...init.headers, authorization: `Bearer ${fx.adminToken}` },
    }),
  );

let serial = 0;
async function apply(keys: SigningKey[]): Promise<{ status: number; text: string }> {
  const policy: Policy = {
    apiVersion: 'bpfleet/v1',
    kind: 'Policy',
    serial: ++serial,
    expires: '2099-01-01T00:00:00Z',
    target: { group: 'gw' },
    fleet: 'rta',
    programs: [{ id: 'fw', package: 'acme/fw', version: '1.1.0' }],
  };
  let bundle: unknown = await signPolicy(policy, keys[0]!);
  for (const k of keys.slice(1)) bundle = await cosignPolicy(bundle, k);
  const res = await call('/v1/fleet/policies', { method: 'PUT', ...jsonBody(bundle) });
  return { status: res.status, text: await res.text() };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bpfleet-rta-operators-'));
  fx = await createRegistryFixture({ keys: createTestKeys() });
  const files = await writeKeyPair(dir, 'operator');
  fileOperator = toSigningKey(await readFile(files.privateKeyPath, 'utf8'));
  runtime = await startFleetRuntime({
    fleet: 'rta',
    dataDir: dir,
    catalog: fx.catalog,
    logger: silentLogger,
    brokerHost: '127.0.0.1',
    brokerPort: 0,
    operatorKeyFiles: [files.publicKeyPath],
  });
  app = createApp({ ...fx.deps, fleet: runtime.deps });
  await seedNamespace(fx, 'acme');
  const seeded = await seedVersion(fx, 'acme', 'fw', '1.0.0', Buffer.from('object'));
  // A full manifest: the edge checks a policy's package against it.
  const manifest = exampleManifestJson({ name: 'acme/fw', version: '1.1.0' });
  await fx.catalog.insertVersion({
    ...seeded,
    version: '1.1.0',
    manifest,
    manifestDigest: sha256Digest(manifest),
  });
});

after(async () => {
  await runtime.stop();
  await fx.close();
  await rm(dir, { recursive: true, force: true });
});

test("a published root's operators role (2 of 2) replaces the edge's --operator-key", async () => {
  const before = await apply([fileOperator]);
  assert.equal(before.status, 200, before.text);
  const root = await signRoot(
    {
      schema: 'bpfleet.root/v1',
      version: 1,
      expires: '2099-01-01T00:00:00Z',
      roles: {
        root: { keys: [key(rootKey)], threshold: 1 },
        registry: { keys: [key(fx.deps.keys)] },
        operators: { keys: [key(rootOperatorA), key(rootOperatorB)], threshold: 2 },
        edge: { keys: [key(runtime.deps.edgeKey)] },
        publishers: {},
      },
    },
    [toSigningKey(rootKey.privateKeyPem)],
  );
  const put = await call('/v1/root', { method: 'PUT', ...jsonBody(root) });
  assert.equal(put.status, 200, await put.text());
  const [a, b] = [toSigningKey(rootOperatorA.privateKeyPem), toSigningKey(rootOperatorB.privateKeyPem)];
  const byFileKey = await apply([fileOperator]);
  assert.equal(byFileKey.status, 400, byFileKey.text);
  const oneOfTwo = await apply([a]);
  assert.equal(oneOfTwo.status, 400, oneOfTwo.text);
  assert.match(oneOfTwo.text, /THRESHOLD_NOT_MET|need 2/);
  const twoOfTwo = await apply([a, b]);
  assert.equal(twoOfTwo.status, 200, twoOfTwo.text);
});
