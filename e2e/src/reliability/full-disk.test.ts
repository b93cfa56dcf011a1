// Reliability: a full disk. bpfleet-edge runs on a 2 MiB tmpfs as its data directory: a publish that does not fit
// gets 507 STORAGE_FULL, leaves nothing staged and no version row, downloads keep working, and the same
// version publishes once space is freed. (The device's cache on a full disk: agent/src/artifacts/full-cache.test.ts.)
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readdirSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sha256Digest } from '@bpfleet/sdk/digest';
import { createRegistryClient, type RegistryClient } from '@bpfleet/sdk/registry-client';
import { generateKeyPair, type KeyPair } from '@bpfleet/sdk/trust';
import { type EdgeRegistry, startEdgeRegistry } from '../fixtures/edge-registry.js';
import { countManifest, signedPackage, standInObject } from '../fixtures/test-packages.js';

const mounts: string[] = [];
let root: string;

/** A fresh tmpfs of `size` under the test's temp dir; unmounted in `after`, even when a test fails. */
async function smallDisk(name: string, size: string): Promise<string> {
  const dir = join(root, name);
  execFileSync('mkdir', ['-p', dir]);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

/** Writes random bytes to `path` until the disk refuses (ENOSPC); returns how many it took. */
function fill(path: string): number {
  const fd = openSync(path, 'w');
  let written = 0;
  try {
    for (let chunk = 64 * 1024; chunk >= 1; ) {
      try {
        written += writeSync(fd, randomBytes(chunk));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        chunk = Math.floor(chunk / 2);
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'bpfleet-full-disk-'));
});
after(async () => {
  for (const dir of mounts.reverse()) {
    if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
  }
  await rm(root, { recursive: true, force: true });
});

let registry: EdgeRegistry | undefined;
after(async () => {
  await registry?.stop();
});

test('edge on a full disk: publish gets 507 STORAGE_FULL, nothing half-written, downloads work, recovers', async (t) => {
  const dataDir = await smallDisk('edge', '2m');
  registry = await startEdgeRegistry('127.0.0.1', { dataDir });
  const publisher: KeyPair = generateKeyPair();
  await registry.admin.createNamespace('acme');
  await registry.admin.addPublisherKey('acme', publisher.publicKeyPem);
  const { token } = await registry.admin.createToken('acme', 'disk');
  const client: RegistryClient = createRegistryClient({ url: registry.url, token });
  const publish = async (version: string, size: number) => {
    const pkg = await signedPackage(countManifest(version, 1), standInObject(size), publisher);
    const res = await fetch(`${registry?.url}/v1/packages/acme/count/versions/${version}`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/gzip',
        'bpfleet-bundle': Buffer.from(JSON.stringify(pkg.bundle)).toString('base64'),
      },
      body: pkg.archive,
    });
    return {
      pkg,
      status: res.status,
      body: (await res.json()) as { error?: { code: string; message: string } },
    };
  };
  const first = await publish('1.0.0', 100_000);
  assert.equal(first.status, 201, JSON.stringify(first.body));

  // The index for this catalog is signed (its serial stored) before the disk fills.
  const index = await (await fetch(`${registry.url}/v1/index`)).text();
  const filled = fill(join(dataDir, 'filler'));
  t.diagnostic(`filled the 2 MiB data dir with ${filled} more bytes`);
  const refused = await publish('1.1.0', 300_000);
  assert.equal(refused.status, 507, JSON.stringify(refused.body));
  assert.equal(refused.body.error?.code, 'STORAGE_FULL');
  // Nothing half-written: no staged file, no blob that is not a published version, no row for 1.1.0.
  assert.deepEqual(readdirSync(join(dataDir, 'blobs', 'tmp')), []);
  assert.deepEqual(readdirSync(join(dataDir, 'blobs', 'sha256')), [first.pkg.digest.slice('sha256:'.length)]);
  assert.deepEqual(
    (await client.listVersions('acme', 'count')).map((v) => v.version),
    ['1.0.0'],
  );
  // Downloads need no space: they still serve the exact bytes, and the unchanged index is still served.
  assert.equal(sha256Digest(await client.download(first.pkg.digest)), first.pkg.digest);
  const during = await fetch(`${registry.url}/v1/index`);
  assert.equal(during.status, 200);
  assert.equal(await during.text(), index);

  await rm(join(dataDir, 'filler'));
  const retried = await publish('1.1.0', 300_000);
  assert.equal(retried.status, 201, `the refused version left no trace: ${JSON.stringify(retried.body)}`);
  assert.equal(sha256Digest(await client.download(retried.pkg.digest)), retried.pkg.digest);
});
