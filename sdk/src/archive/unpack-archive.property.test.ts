import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { ArchiveError } from '../errors.js';
import { fuzzRuns } from '../testing/reliability-runs.js';
import { packArchive } from './pack-archive.js';
import { fileEntries, makeTar, makeTgz, type RawEntry, validFiles, withChecksum } from './tar-fixtures.js';
import { unpackArchive } from './unpack-archive.js';

const RUNS = fuzzRuns();

/** Unpacks, and lets nothing but an ArchiveError escape; a success must hold a parsed manifest. */
async function unpacksOrFailsTyped(source: Uint8Array): Promise<void> {
  try {
    const pkg = await unpackArchive(source, {}, { context: 'fuzz' });
    assert.equal(typeof pkg.manifest.name, 'string');
    assert.ok(pkg.files.has('manifest.json'));
  } catch (err) {
    if (!(err instanceof ArchiveError)) throw err;
    assert.match(err.code, /^[A-Z_]+$/);
    assert.ok(err.message.startsWith('fuzz: '), err.message);
  }
}

const edits = (length: number) =>
  fc.array(fc.tuple(fc.nat(length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 });

function applyEdits(bytes: Buffer, list: Array<[number, number]>): Buffer {
  const out = Buffer.from(bytes);
  for (const [at, value] of list) out[at] = value;
  return out;
}

test('random bytes, raw or gzip-wrapped, fail with an ArchiveError', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), fc.boolean(), (bytes, wrap) =>
      unpacksOrFailsTyped(wrap ? gzipSync(bytes) : bytes),
    ),
    { numRuns: RUNS },
  );
});

test('byte edits of a valid archive give a package or an ArchiveError', async () => {
  const gz = await packArchive(validFiles());
  const tarBytes = await makeTar(fileEntries());
  await fc.assert(
    fc.asyncProperty(fc.boolean(), edits(tarBytes.length), async (inGzip, list) => {
      // Edits inside the gzip mostly stop at its CRC; edits of the tar before gzip reach the tar parser.
      const source = inGzip
        ? applyEdits(
            gz,
            list.map(([at, v]) => [at % gz.length, v]),
          )
        : gzipSync(applyEdits(tarBytes, list));
      await unpacksOrFailsTyped(source);
    }),
    { numRuns: RUNS },
  );
});

const TYPES = [
  'file',
  'link',
  'symlink',
  'directory',
  'block-device',
  'character-device',
  'fifo',
  'contiguous-file',
] as const;
const NAMES = [
  'manifest.json',
  'README.md',
  'LICENSE',
  'bpf/x86/a.bpf.o',
  'bpf/any/b.bpf.o',
  '../x',
  '/x',
  'bpf/',
  './LICENSE',
];

const randomEntry: fc.Arbitrary<RawEntry> = fc
  .record({
    name: fc.oneof(fc.constantFrom(...NAMES), fc.string({ minLength: 1, maxLength: 300 })),
    type: fc.constantFrom(...TYPES),
    linkname: fc.string({ maxLength: 20 }),
    mode: fc.nat(0o7777),
    data: fc.uint8Array({ maxLength: 700 }),
  })
  .map(({ name, type, linkname, mode, data }) =>
    type === 'file' || type === 'contiguous-file'
      ? { header: { name, type, mode }, data: Buffer.from(data) }
      : { header: { name, type, mode, linkname } },
  );

test('random tar headers written by tar-stream give a package or an ArchiveError', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(randomEntry, { maxLength: 4 }), fc.nat(5), async (extra, at) => {
      const entries = fileEntries();
      entries.splice(at, 0, ...extra);
      await unpacksOrFailsTyped(await makeTgz(entries));
    }),
    { numRuns: RUNS },
  );
});

test('random raw header blocks with a valid checksum give a package or an ArchiveError', async () => {
  const good = await makeTar(fileEntries());
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ minLength: 512, maxLength: 512 }),
      fc.boolean(),
      fc.uint8Array({ maxLength: 1024 }),
      async (block, ustar, body) => {
        const header = Buffer.from(block);
        // Half the runs pass the magic check so the fields behind it get parsed too.
        if (ustar) header.write('ustar\u000000', 257, 'latin1');
        await unpacksOrFailsTyped(gzipSync(Buffer.concat([withChecksum(header), Buffer.from(body), good])));
      },
    ),
    { numRuns: RUNS },
  );
});
