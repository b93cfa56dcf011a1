// Key files: 0600 private keys whatever the umask, no overwriting, refusal of readable or indirect private keys.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readPrivateKey, readPublicKey, writeKeyPair } from './key-files.js';
import { generateKeyPair } from './keys.js';
import { trustErrorOf } from './trust-fixtures.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bpfleet-trust-keys-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeKeyPair / readPrivateKey / readPublicKey', () => {
  it('writes <name>.key with mode 0600 even under umask 0, and reads both back', async () => {
    const previous = process.umask(0);
    let files: Awaited<ReturnType<typeof writeKeyPair>>;
    try {
      files = await writeKeyPair(join(dir, 'new', 'nested'), 'publisher');
    } finally {
      process.umask(previous);
    }
    assert.equal((await stat(files.privateKeyPath)).mode & 0o777, 0o600);
    assert.equal((await stat(files.publicKeyPath)).mode & 0o777, 0o644);
    assert.ok(files.privateKeyPath.endsWith('publisher.key'));
    const key = await readPrivateKey(files.privateKeyPath);
    assert.equal(key.keyId, files.keyId);
    const pub = await readPublicKey(files.publicKeyPath);
    assert.equal(pub.keyId, files.keyId);
    assert.equal(pub.publicKeyPem, key.publicKeyPem);
  });

  it('refuses to overwrite either file and leaves what was there untouched', async () => {
    const sub = join(dir, 'overwrite');
    const first = await writeKeyPair(sub, 'k');
    const before = await readFile(first.privateKeyPath, 'utf8');
    const err = await trustErrorOf(() => writeKeyPair(sub, 'k'));
    assert.equal(err.code, 'KEY_FILE_EXISTS');
    assert.equal(await readFile(first.privateKeyPath, 'utf8'), before);
    // Only the .pub exists: the clash must not leave a fresh .key behind.
    await writeFile(join(sub, 'lonely.pub'), 'x');
    assert.equal((await trustErrorOf(() => writeKeyPair(sub, 'lonely'))).code, 'KEY_FILE_EXISTS');
    assert.deepEqual((await readdir(sub)).sort(), ['k.key', 'k.pub', 'lonely.pub']);
  });

  it('rejects key names that are not plain file names', async () => {
    for (const name of ['', '../up', 'a/b', '.hidden', '-x', 'a'.repeat(65)]) {
      assert.equal((await trustErrorOf(() => writeKeyPair(dir, name))).code, 'KEY_NAME_INVALID', name);
    }
  });

  it('refuses private key files that group or others can read or write', async () => {
    const files = await writeKeyPair(join(dir, 'perm'), 'k');
    for (const mode of [0o640, 0o604, 0o620, 0o602, 0o660, 0o644, 0o666]) {
      await chmod(files.privateKeyPath, mode);
      const err = await trustErrorOf(() => readPrivateKey(files.privateKeyPath));
      assert.equal(err.code, 'KEY_FILE_PERMISSIONS', mode.toString(8));
      assert.match(err.message, /lets other users read or change it; run chmod 600/);
    }
    for (const mode of [0o600, 0o400]) {
      await chmod(files.privateKeyPath, mode);
      assert.equal((await readPrivateKey(files.privateKeyPath)).keyId, files.keyId);
    }
    // Public keys are public.
    await chmod(files.publicKeyPath, 0o644);
    assert.equal((await readPublicKey(files.publicKeyPath)).keyId, files.keyId);
  });

  it('refuses symlinks, directories, missing files and non-keys', async () => {
    const files = await writeKeyPair(join(dir, 'odd'), 'k');
    const link = join(dir, 'odd', 'link.key');
    await symlink(files.privateKeyPath, link);
    assert.equal((await trustErrorOf(() => readPrivateKey(link))).code, 'KEY_FILE_UNREADABLE');
    await mkdir(join(dir, 'odd', 'dir.key'), { mode: 0o700 });
    assert.equal(
      (await trustErrorOf(() => readPrivateKey(join(dir, 'odd', 'dir.key')))).code,
      'KEY_FILE_UNREADABLE',
    );
    assert.equal(
      (await trustErrorOf(() => readPrivateKey(join(dir, 'odd', 'none.key')))).code,
      'KEY_FILE_UNREADABLE',
    );
    const junk = join(dir, 'odd', 'junk.key');
    await writeFile(junk, 'hello', { mode: 0o600 });
    const err = await trustErrorOf(() => readPrivateKey(junk));
    assert.equal(err.code, 'KEY_INVALID');
    assert.ok(err.message.startsWith(`private key ${junk}:`));
    const pubAsPriv = join(dir, 'odd', 'pub-as.key');
    await writeFile(pubAsPriv, generateKeyPair().publicKeyPem, { mode: 0o600 });
    const pub = await trustErrorOf(() => readPrivateKey(pubAsPriv));
    assert.equal(pub.code, 'KEY_IS_PUBLIC');
    assert.match(pub.message, /this is a public key; sign with the private key/);
    assert.equal((await trustErrorOf(() => readPublicKey(files.privateKeyPath))).code, 'KEY_INVALID');
  });
});
