// The S3 BlobStore (radosgw, MinIO, AWS): uploads staged under staging/, committed by a conditional copy to sha256/<hex>.
import { randomBytes } from 'node:crypto';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { digestHex, isDigest } from '@bpfleet/sdk/digest';
import { RegistryError } from '@bpfleet/sdk/errors';
import type { BlobStat, BlobStore, ByteRange, StagedBlob } from './blob-store.js';
import type { S3BlobsLocation } from './s3-blobs-url.js';
import { uploadStaging } from './s3-staging.js';

export interface S3BlobStoreOptions {
  /** Explicit credentials; the AWS default chain (environment, AWS_SHARED_CREDENTIALS_FILE, …) otherwise. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

const status = (err: unknown) =>
  (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

export async function createS3BlobStore(
  where: S3BlobsLocation,
  options: S3BlobStoreOptions = {},
): Promise<BlobStore> {
  const s3 = new S3Client({
    endpoint: where.endpoint,
    region: where.region,
    forcePathStyle: where.forcePathStyle,
    credentials: options.credentials,
    // Only what S3 requires: stores like radosgw 16 know no trailing (aws-chunked) checksums.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const Bucket = where.bucket;
  const label = `blob store s3://${Bucket}/${where.prefix}`;
  const blobKey = (digest: string) => `${where.prefix}sha256/${digestHex(digest)}`;
  const stagingPrefix = `${where.prefix}staging/`;
  const fail = (what: string, err: unknown) =>
    new RegistryError('BLOB_STORE_FAILED', `${label}: ${what}: ${(err as Error).message}`, { cause: err });

  try {
    await s3.send(new HeadBucketCommand({ Bucket }));
  } catch (err) {
    if (status(err) !== 404) throw fail('head bucket', err);
    // Two edges starting at once may both create it; the second's "already yours" is fine.
    await s3.send(new CreateBucketCommand({ Bucket })).catch((e: unknown) => {
      if ((e as Error).name !== 'BucketAlreadyOwnedByYou') throw fail('create bucket', e);
    });
  }

  async function head(key: string): Promise<{ size: number; modified: Date } | undefined> {
    try {
      const out = await s3.send(new HeadObjectCommand({ Bucket, Key: key }));
      return { size: out.ContentLength ?? 0, modified: out.LastModified ?? new Date(0) };
    } catch (err) {
      if (status(err) === 404) return undefined;
      throw fail(`head ${key}`, err);
    }
  }

  async function headEtag(key: string): Promise<string | undefined> {
    try {
      return (await s3.send(new HeadObjectCommand({ Bucket, Key: key }))).ETag;
    } catch (err) {
      if (status(err) === 404) return undefined;
      throw fail(`head ${key}`, err);
    }
  }

  async function get(key: string, range?: ByteRange): Promise<AsyncIterable<Uint8Array> | undefined> {
    try {
      const out = await s3.send(
        new GetObjectCommand({
          Bucket,
          Key: key,
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
      return out.Body as AsyncIterable<Uint8Array>;
    } catch (err) {
      if (status(err) === 404) return undefined;
      throw fail(`get ${key}`, err);
    }
  }

  async function* listPrefix(prefix: string) {
    let ContinuationToken: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken }));
      for (const item of page.Contents ?? []) yield item;
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  return {
    async stage(source, options): Promise<StagedBlob> {
      const stagingKey = `${stagingPrefix}${Date.now()}-${randomBytes(8).toString('hex')}`;
      const staged = await uploadStaging(s3, Bucket, stagingKey, source, options.maxBytes);
      const { digest, size } = staged;
      let state: 'staged' | 'committed' | 'discarded' = 'staged';
      return {
        digest,
        size,
        read: () => ({
          async *[Symbol.asyncIterator]() {
            const body = await get(stagingKey);
            if (!body) throw new RegistryError('BLOB_DISCARDED', `${label}: staged ${digest} is gone`);
            yield* body;
          },
        }),
        async commit() {
          if (state === 'committed') return;
          if (state === 'discarded')
            throw new RegistryError('BLOB_DISCARDED', `commit blob ${digest}: already discarded`);
          const key = blobKey(digest);
          let copied = false;
          try {
            // Copy only the object this process staged (its ETag), and only onto an absent key: a blob once
            // committed is never rewritten.
            await s3.send(
              new CopyObjectCommand({
                Bucket,
                Key: key,
                CopySource: `${Bucket}/${stagingKey}`,
                CopySourceIfMatch: staged.etag,
                IfNoneMatch: '*',
              }),
            );
            copied = true;
          } catch (err) {
            // 412: the digest exists already (idempotent), or the staging object changed (checked below).
            if (status(err) !== 412) throw fail(`commit ${digest}`, err);
          }
          // radosgw 16 honours neither condition on a copy (measured): the copy's ETag, derived from what it holds,
          // must be one this process computed from the bytes it hashed, or the blob is not the one verified.
          if (!staged.contentEtags.includes((await headEtag(key)) ?? '')) {
            if (copied) await s3.send(new DeleteObjectCommand({ Bucket, Key: key })).catch(() => {});
            throw new RegistryError(
              'BLOB_STORE_FAILED',
              `${label}: commit ${digest}: the staged object changed before its commit (another writer on the bucket?); nothing committed`,
            );
          }
          state = 'committed';
          await s3.send(new DeleteObjectCommand({ Bucket, Key: stagingKey })).catch(() => {});
        },
        async discard() {
          if (state !== 'staged') return;
          state = 'discarded';
          await s3.send(new DeleteObjectCommand({ Bucket, Key: stagingKey }));
        },
      };
    },
    async stat(digest): Promise<BlobStat | undefined> {
      if (!isDigest(digest)) return undefined;
      const found = await head(blobKey(digest));
      return found && { digest, ...found };
    },
    async read(digest, range) {
      return isDigest(digest) ? get(blobKey(digest), range) : undefined;
    },
    async delete(digest) {
      if (!isDigest(digest) || !(await head(blobKey(digest)))) return false;
      await s3.send(new DeleteObjectCommand({ Bucket, Key: blobKey(digest) }));
      return true;
    },
    async *list() {
      for await (const item of listPrefix(`${where.prefix}sha256/`)) {
        const digest = `sha256:${item.Key!.slice(where.prefix.length + 'sha256/'.length)}`;
        if (isDigest(digest))
          yield { digest, size: item.Size ?? 0, modified: item.LastModified ?? new Date(0) };
      }
    },
    async sweepStaging(olderThan) {
      let removed = 0;
      for await (const item of listPrefix(stagingPrefix)) {
        if ((item.LastModified ?? new Date(0)) >= olderThan) continue;
        await s3.send(new DeleteObjectCommand({ Bucket, Key: item.Key! }));
        removed++;
      }
      return removed;
    },
  };
}
