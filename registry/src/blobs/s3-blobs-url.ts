// The `--blobs s3://bucket[/prefix]?endpoint=…&region=…&forcePathStyle=true` URL: where the S3 blob store lives.
import { ConfigError } from '@bpfleet/sdk/errors';

export interface S3BlobsLocation {
  bucket: string;
  /** Key prefix inside the bucket, '' or ending in '/'. */
  prefix: string;
  /** An S3-compatible endpoint (radosgw, MinIO, …); the AWS default when absent. */
  endpoint?: string;
  region: string;
  /** Bucket in the path (http://host/bucket/key), which most self-hosted stores need. */
  forcePathStyle: boolean;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const KNOWN = new Set(['endpoint', 'region', 'forcePathStyle']);

/** Parses the URL; credentials never come from it (they would show in ps): the AWS environment or files do. */
export function parseS3BlobsUrl(text: string, context = 'blobs'): S3BlobsLocation {
  let url: URL;
  try {
    url = new URL(text);
  } catch (err) {
    throw new ConfigError('CONFIG_INVALID', `${context}: ${JSON.stringify(text)} is not a URL`, {
      cause: err,
    });
  }
  if (url.protocol !== 's3:')
    throw new ConfigError('CONFIG_INVALID', `${context}: ${url.protocol} is not s3:`);
  if (url.username || url.password) {
    throw new ConfigError(
      'CONFIG_INVALID',
      `${context}: credentials are not taken from the URL (every local user sees them in ps); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or AWS_SHARED_CREDENTIALS_FILE`,
    );
  }
  if (!BUCKET.test(url.hostname))
    throw new ConfigError(
      'CONFIG_INVALID',
      `${context}: ${JSON.stringify(url.hostname)} is not an S3 bucket name`,
    );
  for (const key of url.searchParams.keys())
    if (!KNOWN.has(key)) throw new ConfigError('CONFIG_INVALID', `${context}: unknown parameter ${key}`);
  const endpoint = url.searchParams.get('endpoint') ?? undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/]+\/?$/.test(endpoint))
    throw new ConfigError(
      'CONFIG_INVALID',
      `${context}: endpoint ${endpoint} is not an http(s)://host[:port] URL`,
    );
  // The URL parser has resolved dot segments already: the prefix stays inside the bucket.
  const path = decodeURIComponent(url.pathname).replace(/^\/+/, '');
  return {
    bucket: url.hostname,
    prefix: path && !path.endsWith('/') ? `${path}/` : path,
    endpoint,
    region: url.searchParams.get('region') ?? 'us-east-1',
    forcePathStyle: (url.searchParams.get('forcePathStyle') ?? (endpoint ? 'true' : 'false')) === 'true',
  };
}
