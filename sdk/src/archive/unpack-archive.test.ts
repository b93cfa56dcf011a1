import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ArchiveError, ManifestError } from '../errors.js';
import { exampleManifestJson } from '../manifest/example-manifest.js';
import type { ArchiveLimits } from './limits.js';
import { packArchive } from './pack-archive.js';
import { fileEntries, makeTar, makeTgz, type RawEntry, validFiles } from './tar-fixtures.js';
import { unpackArchive } from './unpack-archive.js';

async function expectCode(
  source: Parameters<typeof unpackArchive>[0],
  code: string,
  limits: Partial<ArchiveLimits> = {},
): Promise<ArchiveError> {
  try {
    await unpackArchive(source, limits, { context: 'fetch acme/xdp-firewall@1.2.0' });
  } catch (err) {
    assert.ok(err instanceof ArchiveError, `expected an ArchiveError, got ${err}`);
    assert.equal(err.code, code, err.message);
    assert.ok(err.message.startsWith('fetch acme/xdp-firewall@1.2.0: '), err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

const withEntry = (extra: RawEntry) => makeTgz([...fileEntries(), extra]);
const empty = Buffer.alloc(0);

test('a valid archive unpacks, from bytes or from a stream of small chunks', async () => {
  const bytes = await packArchive(validFiles());
  async function* trickle() {
    for (let i = 0; i < bytes.length; i += 3) yield bytes.subarray(i, i + 3);
  }
  const a = await unpackArchive(bytes);
  const b = await unpackArchive(trickle());
  assert.deepEqual([...a.files.keys()], [...b.files.keys()]);
  assert.equal(a.archiveDigest, b.archiveDigest);
  // Order inside the tar does not matter on the way in.
  const reversed = await unpackArchive(await makeTgz(fileEntries().reverse()));
  assert.equal(reversed.manifest.name, 'acme/xdp-firewall');
});

test('size and count limits', async () => {
  const bytes = await packArchive(validFiles());
  await expectCode(bytes, 'ARCHIVE_TOO_LARGE', { maxTotalBytes: 4096 });
  await expectCode(bytes, 'ARCHIVE_TOO_LARGE', { maxCompressedBytes: 100 });
  await expectCode(bytes, 'TOO_MANY_ENTRIES', { maxEntries: 4 });
  const many = Array.from({ length: 65 }, (_, i) => ({
    header: { name: `bpf/x86/o${i}.bpf.o` },
    data: Buffer.from('x'),
  }));
  await expectCode(await makeTgz([...fileEntries(), ...many]), 'TOO_MANY_ENTRIES');
  await expectCode(
    await withEntry({ header: { name: 'bpf/any/big.bpf.o' }, data: Buffer.alloc(16 * 1024 * 1024 + 1) }),
    'ENTRY_TOO_LARGE',
  );
  await expectCode(bytes, 'ENTRY_TOO_LARGE', { maxEntryBytes: 16 });
});

test('paths outside the package layout', async () => {
  await expectCode(await withEntry({ header: { name: 'notes.txt' }, data: empty }), 'PATH_NOT_ALLOWED');
  await expectCode(await withEntry({ header: { name: './manifest.json' }, data: empty }), 'PATH_NOT_ALLOWED');
  await expectCode(await withEntry({ header: { name: 'bpf/x86/fw.o' }, data: empty }), 'PATH_NOT_ALLOWED');
  await expectCode(
    await withEntry({ header: { name: 'bpf/vax/fw.bpf.o' }, data: empty }),
    'PATH_NOT_ALLOWED',
  );
  await expectCode(
    await withEntry({ header: { name: '../../etc/cron.d/x' }, data: empty }),
    'PATH_TRAVERSAL',
  );
  await expectCode(
    await withEntry({ header: { name: 'bpf/x86/../../../x.bpf.o' }, data: empty }),
    'PATH_TRAVERSAL',
  );
  // Long enough that tar-stream writes it as a PAX path record, which replaces the header name.
  await expectCode(
    await withEntry({ header: { name: `${'d/'.repeat(150)}../x` }, data: empty }),
    'PATH_TRAVERSAL',
  );
  await expectCode(await withEntry({ header: { name: '/etc/passwd' }, data: empty }), 'ABSOLUTE_PATH');
});

test('links, devices and directories', async () => {
  await expectCode(
    await withEntry({ header: { name: 'bpf/any/fw.bpf.o', type: 'symlink', linkname: '/etc/shadow' } }),
    'LINK_NOT_ALLOWED',
  );
  await expectCode(
    await withEntry({ header: { name: 'bpf/any/fw.bpf.o', type: 'link', linkname: 'manifest.json' } }),
    'LINK_NOT_ALLOWED',
  );
  await expectCode(
    await withEntry({
      header: { name: 'bpf/any/fw.bpf.o', type: 'character-device', devmajor: 1, devminor: 3 },
    }),
    'NOT_A_REGULAR_FILE',
  );
  await expectCode(
    await withEntry({ header: { name: 'bpf/any/fw.bpf.o', type: 'block-device' } }),
    'NOT_A_REGULAR_FILE',
  );
  await expectCode(
    await withEntry({ header: { name: 'bpf/any/fw.bpf.o', type: 'fifo' } }),
    'NOT_A_REGULAR_FILE',
  );
  await expectCode(
    await withEntry({ header: { name: 'bpf/any/fw.bpf.o', type: 'directory' } }),
    'NOT_A_REGULAR_FILE',
  );
  await expectCode(
    await withEntry({ header: { name: 'bpf/any/fw.bpf.o', type: 'contiguous-file' }, data: empty }),
    'NOT_A_REGULAR_FILE',
  );
});

test('duplicates, manifest and objects', async () => {
  await expectCode(
    await withEntry({ header: { name: 'manifest.json' }, data: Buffer.from(exampleManifestJson()) }),
    'DUPLICATE_ENTRY',
  );
  await expectCode(
    await makeTgz(fileEntries().filter((e) => e.header.name !== 'manifest.json')),
    'MANIFEST_MISSING',
  );
  const bad = await makeTgz([
    ...fileEntries().filter((e) => e.header.name !== 'manifest.json'),
    { header: { name: 'manifest.json' }, data: Buffer.from(exampleManifestJson({ version: '1.2' })) },
  ]);
  const err = await expectCode(bad, 'MANIFEST_INVALID');
  assert.ok(err.cause instanceof ManifestError);
  assert.equal(err.cause.code, 'INVALID_VERSION');
  await expectCode(
    await withEntry({ header: { name: 'bpf/x86/second.bpf.o' }, data: empty }),
    'MULTIPLE_OBJECTS',
  );
  await expectCode(
    await withEntry({ header: { name: 'bpf/mips/fw.bpf.o' }, data: empty }),
    'UNDECLARED_ARCH',
  );
  await expectCode(
    await makeTgz(fileEntries().filter((e) => !e.header.name.includes('arm64'))),
    'OBJECT_MISSING',
  );
});

test('not gzip, corrupt streams and failing sources', async () => {
  const tarBytes = await makeTar(fileEntries());
  await expectCode(tarBytes, 'NOT_GZIP');
  await expectCode(empty, 'NOT_GZIP');
  await expectCode(Buffer.from([0x1f]), 'NOT_GZIP');
  const bytes = await packArchive(validFiles());
  await expectCode(bytes.subarray(0, bytes.length - 10), 'CORRUPT_ARCHIVE');
  const flipped = Buffer.from(bytes);
  flipped[flipped.length - 6] = (flipped[flipped.length - 6] ?? 0) ^ 0xff; // the CRC32 trailer
  await expectCode(flipped, 'CORRUPT_ARCHIVE');
  await expectCode(gzipSync(Buffer.alloc(1024, 'x')), 'CORRUPT_ARCHIVE'); // not a tar: bad header checksum
  await expectCode(gzipSync(tarBytes.subarray(0, 700)), 'CORRUPT_ARCHIVE'); // tar cut inside an entry
  async function* failing() {
    yield bytes.subarray(0, 100);
    throw new Error('connection reset');
  }
  const err = await expectCode(failing(), 'SOURCE_FAILED');
  assert.match(err.message, /connection reset/);
});
