// The edge's storage settings: --database and --blobs by flag, env or config file; no secret from argv.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isBpfleetError } from '@bpfleet/sdk/errors';
import { parseS3BlobsUrl } from './blobs/s3-blobs-url.js';
import { loadEdgeConfig } from './config.js';
import { resolveStorageConfig } from './storage-config.js';

const code = (c: string) => (err: unknown) => isBpfleetError(err) && err.code === c;

test('no storage URLs: the embedded defaults (nothing set)', async () => {
  assert.deepEqual(await resolveStorageConfig({}, {}, {}), {});
});

test('flags beat the environment beat the config file', async () => {
  const file = { database: { url: 'postgres://f@h/db' }, blobs: 's3://file-bucket' };
  const env = { BPFLEET_EDGE_DATABASE: 'postgres://e@h/db', BPFLEET_EDGE_BLOBS: 's3://env-bucket' };
  assert.equal((await resolveStorageConfig(file, {}, {})).database?.url, 'postgres://f@h/db');
  assert.equal((await resolveStorageConfig(file, {}, env)).blobs?.bucket, 'env-bucket');
  const both = await resolveStorageConfig(
    file,
    { database: 'postgres://a@h/db', blobs: 's3://flag-bucket' },
    env,
  );
  assert.equal(both.database?.url, 'postgres://a@h/db');
  assert.equal(both.blobs?.bucket, 'flag-bucket');
});

test('a database password comes from a private file, never from the command line', async () => {
  await assert.rejects(
    resolveStorageConfig({}, { database: 'postgres://u:hunter2@h/db' }, {}),
    (err: Error) =>
      code('USAGE')(err) && /--database-password-file/.test(err.message) && !/hunter2/.test(err.message),
  );
  const dir = await mkdtemp(join(tmpdir(), 'bpfleet-pgs-cfg-'));
  try {
    const file = join(dir, 'pw');
    await writeFile(file, 'from-file\n', { mode: 0o600 });
    const out = await resolveStorageConfig(
      {},
      { database: 'postgres://u@h/db', 'database-password-file': file },
      {},
    );
    assert.equal(out.database?.password, 'from-file');
    await writeFile(join(dir, 'open'), 'x', { mode: 0o644 });
    await assert.rejects(
      resolveStorageConfig(
        {},
        { database: 'postgres://u@h/db', 'database-password-file': join(dir, 'open') },
        {},
      ),
      code('SECRET_FILE_PERMISSIONS'),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  await assert.rejects(resolveStorageConfig({}, { database: 'mysql://h/db' }, {}), code('CONFIG_INVALID'));
});

test('s3 URLs: bucket, prefix, endpoint, path style; no credentials, no unknown parameters', () => {
  assert.deepEqual(parseS3BlobsUrl('s3://blobs-1/edge/a?endpoint=http%3A%2F%2F127.0.0.1%3A7480'), {
    bucket: 'blobs-1',
    prefix: 'edge/a/',
    endpoint: 'http://127.0.0.1:7480',
    region: 'us-east-1',
    forcePathStyle: true,
  });
  assert.equal(parseS3BlobsUrl('s3://blobs-1?region=eu-west-1').forcePathStyle, false);
  assert.throws(() => parseS3BlobsUrl('s3://AKIA:secret@blobs-1'), /not taken from the URL/);
  assert.throws(() => parseS3BlobsUrl('s3://blobs-1?acl=public'), /unknown parameter acl/);
  assert.throws(() => parseS3BlobsUrl('s3://x'), /not an S3 bucket name/);
  assert.equal(parseS3BlobsUrl('s3://blobs-1/a/../b').prefix, 'b/', 'dot segments resolve inside the bucket');
  assert.throws(() => parseS3BlobsUrl('https://blobs-1'), /not s3:/);
});

test('the edge config file carries database and blobs; without them the edge keeps its embedded defaults', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bpfleet-pgs-cfg-'));
  try {
    const file = join(dir, 'edge.json');
    await writeFile(
      file,
      JSON.stringify({
        database: { url: 'postgres://edge@db:5432/bpfleet' },
        blobs: 's3://edge-blobs?endpoint=http://rgw:7480',
      }),
    );
    const config = await loadEdgeConfig(['--config', file], {});
    assert.equal(config.database?.url, 'postgres://edge@db:5432/bpfleet');
    assert.deepEqual([config.blobs?.bucket, config.blobs?.endpoint], ['edge-blobs', 'http://rgw:7480']);
    const plain = await loadEdgeConfig(['--data-dir', dir], {});
    assert.equal(plain.database, undefined);
    assert.equal(plain.blobs, undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
