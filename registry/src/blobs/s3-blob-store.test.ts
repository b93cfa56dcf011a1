// Runs the BlobStore contract against a real radosgw (mon + memstore OSD), started once for this file.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type RadosgwServer, startRadosgw } from '../testing/radosgw-server.js';
import { readBlob } from './blob-store.js';
import { runBlobStoreContract } from './blob-store-contract.js';
import { createS3BlobStore } from './s3-blob-store.js';
import { parseS3BlobsUrl } from './s3-blobs-url.js';

let rgw: RadosgwServer;
let buckets = 0;
before(async () => {
  rgw = await startRadosgw();
});
after(() => rgw?.stop());

const open = (bucket = `bpfleet-pgs-${process.pid}-${++buckets}`) =>
  createS3BlobStore(parseS3BlobsUrl(rgw.blobsUrl(bucket)), {
    credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey },
  });

runBlobStoreContract('s3 (radosgw 16, memstore)', async () => ({
  store: await open(),
  close: async () => {},
}));

test('s3: a blob larger than one part goes up as a multipart upload and reads back whole and by range', async () => {
  const store = await open();
  const bytes = randomBytes(20 * 1024 * 1024 + 123);
  async function* source() {
    for (let i = 0; i < bytes.length; i += 1024 * 1024) yield bytes.subarray(i, i + 1024 * 1024);
  }
  const staged = await store.stage(source(), { maxBytes: bytes.length });
  await staged.commit();
  assert.equal((await store.stat(staged.digest))?.size, bytes.length);
  assert.ok((await readBlob(store, staged.digest))?.equals(bytes));
  const tail: Buffer[] = [];
  for await (const c of (await store.read(staged.digest, {
    start: bytes.length - 10,
    end: bytes.length - 1,
  }))!)
    tail.push(Buffer.from(c));
  assert.ok(Buffer.concat(tail).equals(bytes.subarray(bytes.length - 10)));
});

test('s3: a second store on the same bucket (another edge) sees committed blobs', async () => {
  const bucket = `bpfleet-pgs-${process.pid}-shared`;
  const [a, b] = [await open(bucket), await open(bucket)];
  const staged = await a.stage(
    (async function* () {
      yield Buffer.from('shared bytes');
    })(),
    { maxBytes: 100 },
  );
  assert.equal(await b.stat(staged.digest), undefined);
  await staged.commit();
  assert.equal((await readBlob(b, staged.digest))?.toString(), 'shared bytes');
});

test('s3: a staged upload abandoned by a crash is swept, a committed blob is not', async () => {
  const store = await open();
  const bytes = (text: string) =>
    (async function* () {
      yield Buffer.from(text);
    })();
  const kept = await store.stage(bytes('kept'), { maxBytes: 100 });
  await kept.commit();
  await store.stage(bytes('left by kill -9'), { maxBytes: 100 });
  assert.equal(await store.sweepStaging(new Date(Date.now() + 60_000)), 1);
  assert.equal(await store.sweepStaging(new Date(Date.now() + 60_000)), 0);
  assert.ok(await store.stat(kept.digest));
});

test('s3: a staging object swapped before the commit (another writer on the bucket) is never committed', async () => {
  const bucket = `bpfleet-pgs-${process.pid}-swap`;
  const store = await open(bucket);
  const staged = await store.stage(
    (async function* () {
      yield Buffer.from('the verified bytes');
    })(),
    { maxBytes: 100 },
  );
  const s3 = new S3Client({
    endpoint: rgw.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey },
  });
  const [key] =
    (await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'staging/' }))).Contents ?? [];
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: key!.Key!, Body: Buffer.from('swapped bytes!!') }),
  );
  await assert.rejects(staged.commit(), (err: Error & { code?: string }) => err.code === 'BLOB_STORE_FAILED');
  assert.equal(await store.stat(staged.digest), undefined, 'nothing under the digest of the verified bytes');
});
