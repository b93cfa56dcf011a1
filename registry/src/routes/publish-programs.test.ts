// Publish refuses a package whose object holds a program its manifest does not list (a real compiled object
// with a hidden raw_tp/sys_enter program), and an object that is not ELF; `load: false` accounts for one.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { packArchive } from '@bpfleet/sdk/archive';
import { sha256Digest } from '@bpfleet/sdk/digest';
import { exampleManifest, type Manifest, manifestDigest } from '@bpfleet/sdk/manifest';
import { signPackage } from '@bpfleet/sdk/trust';
import {
  createRegistryFixture,
  jsonBody,
  type RegistryFixture,
  seedNamespace,
} from '../testing/registry-fixture.js';
import { publishInit } from '../testing/signed-package.js';
import { createTestKeys, createTestPublisher, type TestPublisher } from '../testing/test-keys.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..', '..');
const hiddenObject = () => readFileSync(join(ROOT, 'build', 'bpf', 'hidden_raw_tp.bpf.o'));

interface ErrorBody {
  error: { code: string; message: string };
}

describe('publish: the manifest accounts for every program', () => {
  let fx: RegistryFixture;
  let token: string;
  let publisher: TestPublisher;

  async function signed(version: string, programs: Manifest['programs'], object: Uint8Array) {
    const manifest: Manifest = {
      ...exampleManifest(),
      name: 'acme/hidden',
      version,
      license: 'GPL',
      programs,
      maps: {},
      config: {},
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const archive = await packArchive([
      { path: 'manifest.json', data: manifestBytes },
      { path: 'bpf/any/hidden.bpf.o', data: object },
    ]);
    const bundle = await signPackage(
      {
        name: 'acme/hidden',
        version,
        digest: sha256Digest(archive),
        manifestDigest: manifestDigest(manifestBytes),
      },
      publisher.signing,
    );
    return fx.request(
      `/v1/packages/acme/hidden/versions/${version}`,
      publishInit({ archive, bundle }, token),
    );
  }

  before(async () => {
    fx = await createRegistryFixture({ keys: createTestKeys() });
    token = await seedNamespace(fx, 'acme');
    publisher = createTestPublisher();
    const added = await fx.request('/v1/namespaces/acme/keys', {
      method: 'POST',
      token: fx.adminToken,
      ...jsonBody({ publicKeyPem: publisher.pair.publicKeyPem }),
    });
    assert.equal(added.status, 201);
  });
  after(() => fx.close());

  it('refuses a signed package whose object hides an unlisted raw_tp/sys_enter program: 400, nothing visible', async () => {
    const res = await signed('1.0.0', [{ name: 'h1c_visible' }], hiddenObject());
    assert.equal(res.status, 400);
    const body = (await res.json()) as ErrorBody;
    assert.equal(body.error.code, 'PROGRAM_UNDECLARED');
    assert.match(
      body.error.message,
      /^publish acme\/hidden@1\.0\.0: bpf\/any\/hidden\.bpf\.o: the object holds a program .*: h1c_hidden/,
    );
    assert.equal((await fx.request('/v1/packages/acme/hidden/versions/1.0.0')).status, 404);
  });

  it('refuses a manifest listing a program the object does not have', async () => {
    const res = await signed(
      '1.0.1',
      [{ name: 'h1c_visible' }, { name: 'h1c_hidden' }, { name: 'h1c_ghost' }],
      hiddenObject(),
    );
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as ErrorBody).error.code, 'PROGRAM_MISSING');
  });

  it('refuses an object that is not ELF', async () => {
    const res = await signed('1.0.2', [{ name: 'h1c_visible' }], Buffer.from('not an object at all'));
    assert.equal(res.status, 400);
    const body = (await res.json()) as ErrorBody;
    assert.equal(body.error.code, 'OBJECT_INVALID');
    assert.match(body.error.message, /bpf\/any\/hidden\.bpf\.o is not a BPF object/);
  });

  it('publishes when the extra program is listed with load: false and a description', async () => {
    const res = await signed(
      '1.1.0',
      [
        { name: 'h1c_visible' },
        { name: 'h1c_hidden', load: false, description: 'counts syscalls; kept for debugging, never loaded' },
      ],
      hiddenObject(),
    );
    assert.equal(res.status, 201, await res.clone().text());
  });
});
