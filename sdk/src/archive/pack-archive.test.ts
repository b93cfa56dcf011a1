import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { sha256Digest } from '../digest.js';
import { ArchiveError } from '../errors.js';
import { exampleManifestJson } from '../manifest/example-manifest.js';
import { packArchive } from './pack-archive.js';
import { packDirectory } from './pack-directory.js';
import { packageFileName } from './package-file-name.js';
import { validFiles } from './tar-fixtures.js';
import { unpackArchive } from './unpack-archive.js';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

function shuffled<T>(list: T[], seed: number): T[] {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = (seed * (i + 7)) % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

test('the same files in any order give the same bytes', async () => {
  const first = await packArchive(validFiles());
  for (const seed of [1, 2, 3, 5, 8])
    assert.deepEqual(await packArchive(shuffled(validFiles(), seed)), first);
  assert.deepEqual(
    first.subarray(0, 10),
    Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]),
    'fixed gzip header',
  );
});

test('every tar header field but name and size is fixed', async () => {
  const tarBytes = gunzipSync(await packArchive(validFiles()));
  const names: string[] = [];
  for (let off = 0; off + 512 <= tarBytes.length; ) {
    const block = tarBytes.subarray(off, off + 512);
    if (block.every((b) => b === 0)) break;
    const field = (start: number, len: number) =>
      block
        .subarray(start, start + len)
        .toString('latin1')
        .replace(/\0.*$/s, '');
    names.push(field(0, 100));
    assert.equal(field(100, 8), '000644 ', 'mode');
    assert.equal(Number.parseInt(field(108, 8), 8), 0, 'uid');
    assert.equal(Number.parseInt(field(116, 8), 8), 0, 'gid');
    assert.equal(Number.parseInt(field(136, 12), 8), 0, 'mtime');
    assert.equal(field(156, 1), '0', 'regular file');
    assert.equal(field(265, 32), '', 'uname');
    assert.equal(field(297, 32), '', 'gname');
    const size = Number.parseInt(field(124, 12), 8);
    off += 512 + Math.ceil(size / 512) * 512;
  }
  assert.deepEqual(names, [
    'LICENSE',
    'README.md',
    'bpf/arm64/xdp-firewall.bpf.o',
    'bpf/x86/xdp-firewall.bpf.o',
    'manifest.json',
  ]);
});

async function writeProgramFolder(mode: number, mtime: Date, order: 'forward' | 'backward'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bpfleet-pack-'));
  dirs.push(dir);
  const files = validFiles().map((f) => ({
    ...f,
    path: f.path.startsWith('bpf/') ? `build/${f.path}` : f.path,
  }));
  for (const f of order === 'forward' ? files : files.reverse()) {
    await mkdir(join(dir, f.path, '..'), { recursive: true });
    await writeFile(join(dir, f.path), f.data);
    await chmod(join(dir, f.path), mode);
    await utimes(join(dir, f.path), mtime, mtime);
  }
  return dir;
}

test('packDirectory ignores mtimes, modes and creation order', async () => {
  const a = await packDirectory(await writeProgramFolder(0o600, new Date('2001-02-03T04:05:06Z'), 'forward'));
  const b = await packDirectory(
    await writeProgramFolder(0o755, new Date('2024-12-31T23:59:59Z'), 'backward'),
  );
  assert.equal(a.digest, b.digest);
  assert.deepEqual(a.bytes, b.bytes);
  assert.equal(a.digest, sha256Digest(a.bytes));
  assert.equal(a.manifest.name, 'acme/xdp-firewall');
  assert.equal(packageFileName(a.manifest), 'acme-xdp-firewall-1.2.0.bpfleet.tgz');
  assert.deepEqual(a.bytes, await packArchive(validFiles()));
});

test('a packed archive unpacks to the same files', async () => {
  const bytes = await packArchive(validFiles());
  const pkg = await unpackArchive(bytes);
  for (const f of validFiles()) assert.deepEqual(pkg.files.get(f.path), Buffer.from(f.data));
  assert.equal(pkg.object('x86')?.toString(), '\x7fELF x86 object');
  assert.equal(pkg.object('riscv'), undefined);
  assert.equal(pkg.manifestDigest, sha256Digest(exampleManifestJson()));
  assert.equal(pkg.archiveDigest, sha256Digest(bytes));
  assert.equal(pkg.archiveSize, bytes.length);
});

test('bpf/any/ serves every arch; a specific arch wins over it', async () => {
  const files = [
    { path: 'manifest.json', data: Buffer.from(exampleManifestJson()) },
    { path: 'bpf/any/fw.bpf.o', data: Buffer.from('any') },
    { path: 'bpf/arm64/fw.bpf.o', data: Buffer.from('arm64') },
  ];
  const pkg = await unpackArchive(await packArchive(files));
  assert.equal(pkg.object('x86')?.toString(), 'any');
  assert.equal(pkg.object('arm64')?.toString(), 'arm64');
});

test('pack refuses what unpack would refuse', async () => {
  const cases: Array<[Array<{ path: string; data: Uint8Array }>, string]> = [
    [validFiles().filter((f) => f.path !== 'manifest.json'), 'MANIFEST_MISSING'],
    [[...validFiles(), { path: 'notes.txt', data: Buffer.from('') }], 'PATH_NOT_ALLOWED'],
    [[...validFiles(), { path: '../x', data: Buffer.from('') }], 'PATH_TRAVERSAL'],
    [[...validFiles(), { path: '/etc/passwd', data: Buffer.from('') }], 'ABSOLUTE_PATH'],
    [[...validFiles(), { path: 'LICENSE', data: Buffer.from('') }], 'DUPLICATE_ENTRY'],
    [[...validFiles(), { path: 'bpf/x86/other.bpf.o', data: Buffer.from('') }], 'MULTIPLE_OBJECTS'],
    [[...validFiles(), { path: 'bpf/riscv/fw.bpf.o', data: Buffer.from('') }], 'UNDECLARED_ARCH'],
    [validFiles().filter((f) => !f.path.startsWith('bpf/arm64')), 'OBJECT_MISSING'],
    [[{ path: 'manifest.json', data: Buffer.from('{}') }], 'MANIFEST_INVALID'],
  ];
  for (const [files, code] of cases) {
    await assert.rejects(
      packArchive(files),
      (err: unknown) => err instanceof ArchiveError && err.code === code,
      code,
    );
  }
});
