// The edge's own TLS certificate and key, read once at start and checked as a pair (a mismatch is one clear line).
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { TlsError } from './device-ca.js';

export interface ServerTls {
  cert: string;
  key: string;
}

export async function readServerTls(files: { certFile: string; keyFile: string }): Promise<ServerTls> {
  const read = (path: string, what: string) =>
    readFile(path, 'utf8').catch((err: Error) => {
      throw new TlsError('TLS_FILE_UNREADABLE', `tls ${what} ${path}: ${err.message}`, { cause: err });
    });
  const [cert, key] = await Promise.all([read(files.certFile, 'certificate'), read(files.keyFile, 'key')]);
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new TlsError(
      'TLS_PAIR_INVALID',
      `tls ${files.certFile} + ${files.keyFile}: not a PEM certificate and its key: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return { cert, key };
}
