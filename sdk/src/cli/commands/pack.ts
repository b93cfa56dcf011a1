// `bpfleet pack <dir>`: a program folder → its deterministic package file, with digest and size.
import { rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { packDirectory } from '../../archive/pack-directory.js';
import { packageFileName } from '../../archive/package-file-name.js';
import { unpackArchive } from '../../archive/unpack-archive.js';
import { manifestDigest, packageId } from '../../manifest/package-name.js';
import { printResult } from '../output.js';

interface PackOptions {
  output?: string;
  json?: boolean;
}

/** Writes beside the target then renames, so a reader never sees half a package. */
async function writeAtomically(path: string, bytes: Buffer): Promise<void> {
  const temp = join(dirname(path), `.${process.pid}-${Date.now()}.tmp`);
  await writeFile(temp, bytes, { mode: 0o644 });
  await rename(temp, path);
}

export function register(program: Command): void {
  program
    .command('pack')
    .description(
      'Pack a program folder (manifest.json, README.md, LICENSE, build/bpf/<arch>/*.bpf.o) into a package',
    )
    .argument('<dir>', 'the program folder')
    .option(
      '-o, --output <file>',
      'package file to write (default: ./<namespace>-<name>-<version>.bpfleet.tgz)',
    )
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, options: PackOptions) => {
      const packed = await packDirectory(resolve(dir));
      const file = resolve(options.output ?? packageFileName(packed.manifest));
      await writeAtomically(file, packed.bytes);
      // Re-read what was written through the device's own path, so pack never emits a package unpack refuses.
      const contents = await unpackArchive(packed.bytes);
      const result = {
        id: packageId(packed.manifest),
        file,
        digest: packed.digest,
        size: packed.bytes.length,
        manifestDigest: manifestDigest(contents.manifestBytes),
        files: [...contents.files].map(([path, data]) => ({ path, size: data.length })),
      };
      printResult(options, result, () =>
        [
          `packed ${result.id} → ${result.file}`,
          `digest ${result.digest}`,
          `size   ${result.size} bytes (${result.files.length} files)`,
        ].join('\n'),
      );
    });
}
