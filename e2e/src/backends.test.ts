// Two real bpfleet-edge processes on one PostgreSQL and one radosgw bucket: `bpfleet publish` to one, download by
// digest and the same signed index from both; PostgreSQL and the bucket, read directly, hold the package.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  type PostgresServer,
  type RadosgwServer,
  type RunningEdge,
  startEdge,
  startPostgres,
  startRadosgw,
} from '@bpfleet/registry';
import { createRegistryClient } from '@bpfleet/sdk/registry-client';
import { freePort } from '@bpfleet/sdk/test-kit';
import { generateKeyPair, INDEX_PAYLOAD_TYPE, readPublicKey, verifyDocument } from '@bpfleet/sdk/trust';
import pg from 'pg';
import { countManifest, signedPackage, standInObject } from './fixtures/test-packages.js';

const CLI = fileURLToPath(new URL('../../sdk/dist/cli/main.js', import.meta.url));
const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

let postgres: PostgresServer;
let rgw: RadosgwServer;
let work: string;
const edges: RunningEdge[] = [];

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'bpfleet-pgs-backends-'));
  [postgres, rgw] = await Promise.all([startPostgres(), startRadosgw()]);
});
after(async () => {
  await Promise.all(edges.map((e) => e.stop()));
  await Promise.all([postgres?.stop(), rgw?.stop()]);
  await rm(work, { recursive: true, force: true });
});

/** VmRSS of a pid and its children, in MiB (PostgreSQL runs a process per backend). */
async function rssMiB(pids: number[]): Promise<number> {
  const { stdout } = await promisify(execFile)('ps', [
    '-o',
    'rss=',
    '--pid',
    pids.join(','),
    '--ppid',
    pids.join(','),
  ]);
  return Math.round(stdout.split('\n').reduce((sum, line) => sum + (Number(line.trim()) || 0), 0) / 1024);
}

test('two edges on PostgreSQL + radosgw: publish on one, the same package and index from both', async (t) => {
  t.diagnostic(`postgres ready in ${postgres.startMs} ms, radosgw (mon + osd + rgw) in ${rgw.startMs} ms`);
  const database = await postgres.createDatabase('bpfleet_pgs_e2e');
  const bucket = 'bpfleet-pgs-e2e';
  const adminToken = `bpa_${randomBytes(24).toString('hex')}`;
  // Secrets through the environment: the edge refuses them as arguments.
  const env = {
    BPFLEET_EDGE_ADMIN_TOKEN: adminToken,
    AWS_ACCESS_KEY_ID: rgw.accessKeyId,
    AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey,
  };
  const start = async (dataDir: string) => {
    const begun = Date.now();
    const edge = await startEdge(
      [
        ...['--data-dir', dataDir, '--port', '0', '--broker-port', String(await freePort())],
        ...['--database', database, '--blobs', rgw.blobsUrl(bucket)],
      ],
      env,
    );
    edges.push(edge);
    t.diagnostic(`edge on postgres + radosgw listening ${Date.now() - begun} ms after its start`);
    return edge;
  };
  const [dataA, dataB] = [join(work, 'edge-a'), join(work, 'edge-b')];
  const a = await start(dataA);

  const admin = createRegistryClient({ url: a.url, token: adminToken });
  const publisher = generateKeyPair();
  await admin.createNamespace('acme');
  await admin.addPublisherKey('acme', publisher.publicKeyPem);
  const { token } = await admin.createToken('acme', 'ci');
  const pkg = await signedPackage(countManifest('1.0.0', 1), standInObject(4096), publisher);
  await writeFile(join(work, 'count.tgz'), pkg.archive);
  await writeFile(join(work, 'count.bundle.json'), JSON.stringify(pkg.bundle));
  const publishing = Date.now();
  const published = await promisify(execFile)(process.execPath, [
    ...[CLI, 'publish', join(work, 'count.tgz'), '--bundle', join(work, 'count.bundle.json')],
    ...['--registry', a.url, '--token', token, '--json'],
  ]);
  assert.equal(JSON.parse(published.stdout).digest, pkg.digest);
  t.diagnostic(`bpfleet publish took ${Date.now() - publishing} ms`);

  // The edges share the registry key (a file the operator distributes), so either can sign the index.
  await mkdir(dataB, { recursive: true, mode: 0o700 });
  for (const f of ['registry.key', 'registry.pub']) await copyFile(join(dataA, f), join(dataB, f));
  const b = await start(dataB);

  const indexA = await (await fetch(`${a.url}/v1/index`)).text();
  // The index verifies with the shared registry key and lists the package at its digest.
  const registryKey = await readPublicKey(join(dataA, 'registry.pub'));
  const { document } = await verifyDocument(JSON.parse(indexA), INDEX_PAYLOAD_TYPE, [registryKey]);
  assert.ok(JSON.stringify(document).includes(pkg.digest), 'the signed index lists the published digest');
  for (const edge of [a, b]) {
    const res = await fetch(`${edge.url}/v1/blobs/${pkg.digest}`);
    assert.equal(res.status, 200);
    assert.equal(sha256(new Uint8Array(await res.arrayBuffer())), pkg.digest);
    const part = await fetch(`${edge.url}/v1/blobs/${pkg.digest}`, { headers: { range: 'bytes=0-9' } });
    assert.equal(part.status, 206);
    assert.ok(Buffer.from(await part.arrayBuffer()).equals(pkg.archive.subarray(0, 10)));
    assert.equal(
      await (await fetch(`${edge.url}/v1/index`)).text(),
      indexA,
      'one stored signed index, served by both',
    );
  }

  // Independent observers: PostgreSQL and the bucket, read directly; neither edge kept a catalog or blobs locally.
  const db = new pg.Client({ connectionString: database });
  await db.connect();
  const versions = await db
    .query('SELECT namespace, name, version, digest FROM versions')
    .finally(() => db.end());
  assert.deepEqual(versions.rows, [
    { namespace: 'acme', name: 'count', version: '1.0.0', digest: pkg.digest },
  ]);
  const s3 = new S3Client({
    endpoint: rgw.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey },
  });
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  assert.deepEqual(
    listed.Contents?.map((o) => [o.Key, o.Size]),
    [[`sha256/${pkg.digest.slice('sha256:'.length)}`, pkg.archive.length]],
  );
  for (const dir of [dataA, dataB]) {
    const files = await readdir(dir);
    assert.ok(!files.includes('catalog.db') && !files.includes('blobs'), `${dir}: ${files.join(' ')}`);
  }
  t.diagnostic(
    `RSS: postgres ${await rssMiB([postgres.pid])} MiB, ceph mon+osd+rgw ${await rssMiB(rgw.pids)} MiB, edges ${await rssMiB(edges.map((e) => e.child.pid!))} MiB`,
  );
});
