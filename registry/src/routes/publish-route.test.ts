// Publish in-process: verified before visible, immutable versions, tampered and wrong-key bundles, limits, races.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sha256Digest } from '@bpfleet/sdk/digest';
import { signPackage } from '@bpfleet/sdk/trust';
import {
  createRegistryFixture,
  jsonBody,
  type RegistryFixture,
  seedNamespace,
} from '../testing/registry-fixture.js';
import { buildSignedPackage, publishInit } from '../testing/signed-package.js';
import { createTestKeys, createTestPublisher, type TestPublisher } from '../testing/test-keys.js';

interface ErrorBody {
  error: { code: string; message: string };
}

describe('publish', () => {
  let fx: RegistryFixture;
  let token: string;
  let otherToken: string;
  let publisher: TestPublisher;
  let stranger: TestPublisher;
  // null: no Authorization header at all.
  const put = (path: string, pkg: { archive: Uint8Array; bundle: unknown }, t: string | null = token) =>
    fx.request(path, publishInit(pkg, t ?? undefined));
  const nothingStaged = async () => assert.deepEqual(await readdir(join(fx.blobDir, 'tmp')), []);

  before(async () => {
    fx = await createRegistryFixture({ keys: createTestKeys(), limits: { maxPackageBytes: 256 * 1024 } });
    token = await seedNamespace(fx, 'acme');
    otherToken = await seedNamespace(fx, 'other');
    publisher = createTestPublisher();
    stranger = createTestPublisher();
    const added = await fx.request('/v1/namespaces/acme/keys', {
      method: 'POST',
      token: fx.adminToken,
      ...jsonBody({ publicKeyPem: publisher.pair.publicKeyPem }),
    });
    assert.equal(added.status, 201);
    await fx.request('/v1/namespaces/other/keys', {
      method: 'POST',
      token: fx.adminToken,
      ...jsonBody({ publicKeyPem: stranger.pair.publicKeyPem }),
    });
  });
  after(() => fx.close());

  it('publishes a signed package: visible, downloadable, manifest and bundle served back', async () => {
    const pkg = await buildSignedPackage('acme/xdp-fw', '1.0.0', publisher.signing);
    const res = await put('/v1/packages/acme/xdp-fw/versions/1.0.0', pkg);
    assert.equal(res.status, 201, await res.clone().text());
    const body = (await res.json()) as {
      digest: string;
      size: number;
      manifestDigest: string;
      license: string;
    };
    assert.equal(body.digest, pkg.digest);
    assert.equal(body.size, pkg.archive.length);
    assert.equal(body.manifestDigest, pkg.manifestDigest);
    assert.equal(body.license, 'Dual BSD/GPL');
    const download = await fx.request(`/v1/blobs/${pkg.digest}`);
    assert.ok(Buffer.from(await download.arrayBuffer()).equals(pkg.archive));
    const manifest = await fx.request('/v1/packages/acme/xdp-fw/versions/1.0.0/manifest');
    assert.equal(sha256Digest(Buffer.from(await manifest.arrayBuffer())), pkg.manifestDigest);
    assert.deepEqual(
      await (await fx.request('/v1/packages/acme/xdp-fw/versions/1.0.0/bundle')).json(),
      pkg.bundle,
    );
    const metrics = await (await fx.request('/metrics')).text();
    assert.match(metrics, /bpfleet_registry_publishes_total\{result="ok"\} 1/);
    await nothingStaged();
  });

  it('keeps versions immutable: a second publish is 409, with the same or other bytes', async () => {
    const same = await buildSignedPackage('acme/imm', '1.0.0', publisher.signing);
    assert.equal((await put('/v1/packages/acme/imm/versions/1.0.0', same)).status, 201);
    const again = await put('/v1/packages/acme/imm/versions/1.0.0', same);
    assert.equal(again.status, 409);
    assert.equal(((await again.json()) as ErrorBody).error.code, 'VERSION_EXISTS');
    const other = await buildSignedPackage('acme/imm', '1.0.0', publisher.signing);
    assert.equal((await put('/v1/packages/acme/imm/versions/1.0.0', other)).status, 409);
    assert.equal((await fx.catalog.getVersion('acme', 'imm', '1.0.0'))?.digest, same.digest);
  });

  it('publish auth: 401 without or with an unknown token, 403 for another namespace', async () => {
    const pkg = await buildSignedPackage('acme/authz', '1.0.0', publisher.signing);
    assert.equal((await put('/v1/packages/acme/authz/versions/1.0.0', pkg, null)).status, 401);
    assert.equal((await put('/v1/packages/acme/authz/versions/1.0.0', pkg, 'bpfp_forged')).status, 401);
    assert.equal((await put('/v1/packages/acme/authz/versions/1.0.0', pkg, otherToken)).status, 403);
    assert.equal(await fx.catalog.getVersion('acme', 'authz', '1.0.0'), undefined);
  });

  it('refuses a bundle signed by a key not registered for the namespace (400, nothing visible)', async () => {
    // The stranger's key is trusted for "other", not for "acme".
    const pkg = await buildSignedPackage('acme/wrongkey', '1.0.0', stranger.signing);
    const res = await put('/v1/packages/acme/wrongkey/versions/1.0.0', pkg);
    assert.equal(res.status, 400);
    const { error } = (await res.json()) as ErrorBody;
    assert.match(error.message, /^publish acme\/wrongkey@1\.0\.0|verify acme\/wrongkey@1\.0\.0/);
    assert.equal(await fx.catalog.getVersion('acme', 'wrongkey', '1.0.0'), undefined);
    assert.equal((await fx.request(`/v1/blobs/${pkg.digest}`)).status, 404);
    await nothingStaged();
  });

  it('refuses tampered archives and bundles with the precise reason', async () => {
    const pkg = await buildSignedPackage('acme/tamper', '1.0.0', publisher.signing);
    const flipped = Buffer.from(pkg.archive);
    flipped[flipped.length - 10]! ^= 0xff;
    const badArchive = await put('/v1/packages/acme/tamper/versions/1.0.0', {
      archive: flipped,
      bundle: pkg.bundle,
    });
    assert.equal(badArchive.status, 400);
    const sig = structuredClone(pkg.bundle);
    const envelope = sig.dsseEnvelope!;
    const raw = Buffer.from(envelope.signatures[0]!.sig, 'base64');
    raw[raw.length - 1]! ^= 0x01;
    envelope.signatures[0]!.sig = raw.toString('base64');
    const badSig = await put('/v1/packages/acme/tamper/versions/1.0.0', {
      archive: pkg.archive,
      bundle: sig,
    });
    assert.equal(badSig.status, 400);
    const otherBytes = await buildSignedPackage('acme/tamper', '1.0.0', publisher.signing);
    const swapped = await put('/v1/packages/acme/tamper/versions/1.0.0', {
      archive: otherBytes.archive,
      bundle: pkg.bundle,
    });
    assert.equal(swapped.status, 400);
    assert.match(((await swapped.json()) as ErrorBody).error.message, /digest mismatch/);
    const notJson = await fx.request('/v1/packages/acme/tamper/versions/1.0.0', {
      method: 'PUT',
      token,
      body: pkg.archive,
      headers: { 'bpfleet-bundle': 'not base64 json!' },
    });
    assert.equal(((await notJson.json()) as ErrorBody).error.code, 'INVALID_BUNDLE');
    const missing = await fx.request('/v1/packages/acme/tamper/versions/1.0.0', {
      method: 'PUT',
      token,
      body: pkg.archive,
    });
    assert.equal(((await missing.json()) as ErrorBody).error.code, 'INVALID_BUNDLE');
    assert.equal(await fx.catalog.getVersion('acme', 'tamper', '1.0.0'), undefined);
    await nothingStaged();
  });

  it('refuses a manifest whose name or version differs from the request', async () => {
    const wrongVersion = await buildSignedPackage('acme/mm', '1.0.1', publisher.signing, {
      manifestVersion: '1.0.2',
    });
    const res = await put('/v1/packages/acme/mm/versions/1.0.1', wrongVersion);
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as ErrorBody).error.code, 'VERSION_MISMATCH');
    const wrongName = await buildSignedPackage('acme/mm', '1.0.1', publisher.signing, {
      manifestName: 'acme/other',
    });
    const res2 = await put('/v1/packages/acme/mm/versions/1.0.1', wrongName);
    assert.equal(((await res2.json()) as ErrorBody).error.code, 'NAME_MISMATCH');
    // A correctly signed bundle for another version than the URL says.
    const signedOther = await buildSignedPackage('acme/mm', '1.0.3', publisher.signing);
    const res3 = await put('/v1/packages/acme/mm/versions/1.0.4', signedOther);
    assert.equal(res3.status, 400);
  });

  it('refuses what is not a package archive, with the archive error', async () => {
    const garbage = Buffer.from('this is not gzip');
    const bundle = await signPackage(
      {
        name: 'acme/junk',
        version: '1.0.0',
        digest: sha256Digest(garbage),
        manifestDigest: sha256Digest('{}'),
      },
      publisher.signing,
    );
    const res = await put('/v1/packages/acme/junk/versions/1.0.0', { archive: garbage, bundle });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as ErrorBody).error.code, 'NOT_GZIP');
  });

  it('413 for an archive over the limit, streamed without Content-Length', async () => {
    const big = await buildSignedPackage('acme/big', '1.0.0', publisher.signing, { objectBytes: 300 * 1024 });
    const chunks = [big.archive.subarray(0, 100_000), big.archive.subarray(100_000)];
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        const next = chunks.shift();
        if (next) c.enqueue(next);
        else c.close();
      },
    });
    const res = await fx.request('/v1/packages/acme/big/versions/1.0.0', {
      ...publishInit(big, token),
      body,
      duplex: 'half',
    } as RequestInit & { token: string });
    assert.equal(res.status, 413);
    assert.equal(await fx.catalog.getVersion('acme', 'big', '1.0.0'), undefined);
    await nothingStaged();
  });

  it('two concurrent publishes of one version: exactly one wins, the loser leaves only an orphan', async () => {
    const racers = await Promise.all(
      Array.from({ length: 4 }, () => buildSignedPackage('acme/race', '2.0.0', publisher.signing)),
    );
    const results = await Promise.all(racers.map((p) => put('/v1/packages/acme/race/versions/2.0.0', p)));
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [201, 409, 409, 409]);
    const winner = (await fx.catalog.getVersion('acme', 'race', '2.0.0'))!;
    assert.ok(racers.some((r) => r.digest === winner.digest));
    await nothingStaged();
  });
});
