// Streams an upload into a staging object, hashing and bounding it: one PUT when small, a multipart upload when not.
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { RegistryError } from '@bpfleet/sdk/errors';

/** S3 parts are at least 5 MiB (the last excepted); a package is usually one part, so one PUT. */
const PART_BYTES = 8 * 1024 * 1024;

export interface StagedObject {
  digest: string;
  size: number;
  /** The staging object's ETag: the commit copies only this exact object. */
  etag: string;
  /**
   * The ETags an object holding exactly these bytes may carry, computed here from the bytes: the MD5 (one part)
   * or, after a multipart upload, the MD5 of the parts' MD5s with the part count (a copy may keep either).
   */
  contentEtags: string[];
}

export async function uploadStaging(
  s3: S3Client,
  bucket: string,
  key: string,
  source: AsyncIterable<Uint8Array>,
  maxBytes: number,
): Promise<StagedObject> {
  const hash = createHash('sha256');
  const md5 = createHash('md5');
  let size = 0;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let uploadId: string | undefined;
  const parts: Array<{ ETag: string; PartNumber: number }> = [];
  const partMd5s: Buffer[] = [];

  const flushPart = async () => {
    uploadId ??= (await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }))).UploadId;
    const body = Buffer.concat(pending);
    partMd5s.push(createHash('md5').update(body).digest());
    pending = [];
    pendingBytes = 0;
    const PartNumber = parts.length + 1;
    const out = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber, Body: body }),
    );
    parts.push({ ETag: out.ETag!, PartNumber });
  };

  try {
    for await (const chunk of source) {
      size += chunk.byteLength;
      if (size > maxBytes)
        throw new RegistryError('BLOB_TOO_LARGE', `stage blob: more than ${maxBytes} bytes`);
      hash.update(chunk);
      md5.update(chunk);
      pending.push(chunk);
      pendingBytes += chunk.byteLength;
      if (pendingBytes >= PART_BYTES) await flushPart();
    }
    let etag: string;
    if (uploadId === undefined) {
      const body = Buffer.concat(pending);
      etag = (
        await s3.send(
          new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length }),
        )
      ).ETag!;
    } else {
      if (pendingBytes > 0) await flushPart();
      etag = (
        await s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts },
          }),
        )
      ).ETag!;
    }
    const contentEtags = [`"${md5.digest('hex')}"`];
    if (partMd5s.length > 0) {
      const ofParts = createHash('md5').update(Buffer.concat(partMd5s)).digest('hex');
      contentEtags.push(`"${ofParts}-${partMd5s.length}"`);
    }
    return { digest: `sha256:${hash.digest('hex')}`, size, etag, contentEtags };
  } catch (err) {
    // Nothing of a refused or broken upload stays behind: its parts are dropped now, not by a later sweep.
    if (uploadId !== undefined)
      await s3
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
        .catch(() => {});
    throw err;
  }
}
