// Where the edge keeps its catalog and blobs: SQLite and a blob dir in the data dir, or PostgreSQL and S3 by URL.
import { ConfigError } from '@bpfleet/sdk/errors';
import { parseS3BlobsUrl, type S3BlobsLocation } from './blobs/s3-blobs-url.js';
import { readSecretFile } from './secrets.js';

export interface StorageConfig {
  /** A shared PostgreSQL catalog instead of `<dataDir>/catalog.db`, with its password (from a file or env). */
  database?: { url: string; password?: string };
  /** A shared S3 bucket instead of `<dataDir>/blobs`; credentials from the AWS environment or files. */
  blobs?: S3BlobsLocation;
}

export interface StorageFileConfig {
  database?: { url: string; passwordFile?: string };
  blobs?: string;
}

export interface StorageFlags {
  database?: string;
  'database-password-file'?: string;
  blobs?: string;
}

type Env = Record<string, string | undefined>;

function checkDatabaseUrl(url: string, fromArgv: boolean): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new ConfigError('CONFIG_INVALID', `database: ${JSON.stringify(url)} is not a URL`, { cause: err });
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:')
    throw new ConfigError(
      'CONFIG_INVALID',
      `database: ${parsed.protocol} is not postgres: (SQLite is the default)`,
    );
  if (fromArgv && parsed.password) {
    throw new ConfigError(
      'USAGE',
      '--database: secrets are not taken from the command line (every local user sees them in ps); use --database-password-file FILE or PGPASSWORD',
    );
  }
  return url;
}

/** Flags beat the environment beat the config file, as for every edge setting. */
export async function resolveStorageConfig(
  file: StorageFileConfig,
  flags: StorageFlags,
  env: Env,
): Promise<StorageConfig> {
  const out: StorageConfig = {};
  const url = flags.database ?? env.BPFLEET_EDGE_DATABASE ?? file.database?.url;
  if (url !== undefined) {
    checkDatabaseUrl(url, flags.database !== undefined);
    const passwordFile =
      flags['database-password-file'] ??
      env.BPFLEET_EDGE_DATABASE_PASSWORD_FILE ??
      file.database?.passwordFile;
    // Without a file, pg itself reads PGPASSWORD or ~/.pgpass (PGPASSFILE).
    const password = passwordFile ? await readSecretFile(passwordFile, 'database password file') : undefined;
    out.database = { url, ...(password ? { password } : {}) };
  }
  if (flags.blobs && /^s3:\/\/[^/?#]*@/.test(flags.blobs)) {
    throw new ConfigError(
      'USAGE',
      '--blobs: secrets are not taken from the command line (every local user sees them in ps); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or AWS_SHARED_CREDENTIALS_FILE',
    );
  }
  const blobs = flags.blobs ?? env.BPFLEET_EDGE_BLOBS ?? file.blobs;
  if (blobs !== undefined) out.blobs = parseS3BlobsUrl(blobs);
  return out;
}
