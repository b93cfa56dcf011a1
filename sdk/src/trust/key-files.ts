// Key files on disk: `<name>.key` (PKCS#8 PEM, mode 0600, never overwritten) and `<name>.pub` (SPKI PEM).
import { constants } from 'node:fs';
import { type FileHandle, mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage, TrustError } from '../errors.js';
import { generateKeyPair, type KeyPair, keyIdOf, type SigningKey, toSigningKey } from './keys.js';

export interface KeyPairFiles {
  keyId: string;
  privateKeyPath: string;
  publicKeyPath: string;
}

export interface PublicKeyFile {
  keyId: string;
  publicKeyPem: string;
}

const KEY_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
// Key files are a few hundred bytes; anything much larger is not a key.
const MAX_KEY_FILE_BYTES = 64 * 1024;

/** Writes a key pair as `<dir>/<name>.key` and `<dir>/<name>.pub`; refuses to replace either file. */
export async function writeKeyPair(
  dir: string,
  name: string,
  pair: KeyPair = generateKeyPair(),
): Promise<KeyPairFiles> {
  if (!KEY_NAME_PATTERN.test(name)) {
    throw new TrustError(
      'KEY_NAME_INVALID',
      `write key ${JSON.stringify(name)}: a key name is 1-64 letters, digits, '.', '_' or '-', not starting with '.', '_' or '-'`,
    );
  }
  const privateKeyPath = join(dir, `${name}.key`);
  const publicKeyPath = join(dir, `${name}.pub`);
  await mkdir(dir, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
    throw new TrustError('KEY_FILE_UNWRITABLE', `write key ${name}: cannot create ${dir}`, { cause: err });
  });
  // O_EXCL makes "refuse to overwrite" atomic; a clash on the second file removes the first, still empty, one.
  const key = await createExclusive(privateKeyPath, 0o600, name);
  let pub: FileHandle;
  try {
    pub = await createExclusive(publicKeyPath, 0o644, name);
  } catch (err) {
    await key.close();
    await rm(privateKeyPath, { force: true });
    throw err;
  }
  try {
    // The mode passed to open is masked by the umask; chmod states it exactly.
    await key.chmod(0o600);
    await key.writeFile(pair.privateKeyPem);
    await key.sync();
    await pub.writeFile(pair.publicKeyPem);
    await pub.sync();
  } catch (err) {
    await Promise.all([rm(privateKeyPath, { force: true }), rm(publicKeyPath, { force: true })]);
    throw new TrustError('KEY_FILE_UNWRITABLE', `write key ${name}: ${errorMessage(err)}`, { cause: err });
  } finally {
    await Promise.all([key.close(), pub.close()]);
  }
  return { keyId: pair.keyId, privateKeyPath, publicKeyPath };
}

/** Reads a private key file; refuses one that its group or others can read or write. */
export async function readPrivateKey(path: string): Promise<SigningKey> {
  const text = await readKeyFile(path, true);
  return toSigningKey(text, `private key ${path}`);
}

export async function readPublicKey(path: string): Promise<PublicKeyFile> {
  const text = await readKeyFile(path, false);
  return { keyId: keyIdOf(text, `public key ${path}`), publicKeyPem: text };
}

async function readKeyFile(path: string, secret: boolean): Promise<string> {
  const what = secret ? 'private key' : 'public key';
  let handle: FileHandle;
  try {
    // O_NOFOLLOW: a private key reached through a symlink could be someone else's file.
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    throw new TrustError('KEY_FILE_UNREADABLE', `${what} ${path}: ${errorMessage(err)}`, { cause: err });
  }
  try {
    // fstat on the open handle checks the very file that is read, not whatever the path names later.
    const stat = await handle.stat();
    if (!stat.isFile()) throw new TrustError('KEY_FILE_UNREADABLE', `${what} ${path}: not a regular file`);
    if (stat.size > MAX_KEY_FILE_BYTES) {
      throw new TrustError('KEY_INVALID', `${what} ${path}: ${stat.size} bytes is too large for a key file`);
    }
    const text = await handle.readFile('utf8');
    // Checked before the mode: advising chmod 600 on a public key would send the user the wrong way.
    if (secret && text.includes('-----BEGIN PUBLIC KEY-----')) {
      const sibling = path.endsWith('.pub') ? `${path.slice(0, -4)}.key` : 'the .key file beside it';
      throw new TrustError(
        'KEY_IS_PUBLIC',
        `${what} ${path}: this is a public key; sign with the private key (${sibling}, from bpfleet keys generate)`,
      );
    }
    if (secret && (stat.mode & 0o077) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
      throw new TrustError(
        'KEY_FILE_PERMISSIONS',
        `${what} ${path}: mode ${mode} lets other users read or change it; run chmod 600 ${path}`,
      );
    }
    return text;
  } finally {
    await handle.close();
  }
}

async function createExclusive(path: string, mode: number, name: string): Promise<FileHandle> {
  try {
    return await open(
      path,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      mode,
    );
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'EEXIST') {
      throw new TrustError(
        'KEY_FILE_EXISTS',
        `write key ${name}: ${path} already exists; not overwriting it`,
        {
          cause: err,
        },
      );
    }
    throw new TrustError('KEY_FILE_UNWRITABLE', `write key ${name}: ${errorMessage(err)}`, { cause: err });
  }
}
