// The kernel BTF of a target arch from the fixtures the SDK carries: unpacked once into the build cache, checked by sha256.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliDecompress } from 'node:zlib';
import { BuildError } from '../errors.js';
import { archTarget, FALLBACK_FIXTURE_ARCH } from './arch-table.js';

/** sdk/btf-fixtures, from both sdk/src/compile and sdk/dist/compile. */
export const FIXTURE_DIR = fileURLToPath(new URL('../../btf-fixtures/', import.meta.url));

export interface ArchBtf {
  /** The arch the build targets. */
  arch: string;
  /** The arch whose kernel the BTF describes: another one when the target has no fixture. */
  fixtureArch: string;
  /** The kernel release the BTF comes from (`6.1.0-57-arm64`). */
  kernel: string;
  path: string;
  sha256: string;
}

interface FixtureSource {
  kernel: string;
  btfSha256: string;
}

const unbrotli = promisify(brotliDecompress);

async function readSources(dir: string): Promise<Record<string, FixtureSource>> {
  try {
    return JSON.parse(await readFile(join(dir, 'sources.json'), 'utf8')) as Record<string, FixtureSource>;
  } catch (err) {
    throw new BuildError('BTF_FIXTURE_MISSING', `arch BTF: cannot read ${join(dir, 'sources.json')}`, {
      cause: err,
    });
  }
}

/** The BTF a build for `arch` compiles and checks against; `cacheDir/btf/<sha256>.btf` on disk. */
export async function ensureArchBtf(arch: string, cacheDir: string, dir = FIXTURE_DIR): Promise<ArchBtf> {
  const target = archTarget(arch);
  if (!target) throw new BuildError('UNKNOWN_ARCH', `arch BTF: unknown arch "${arch}"`);
  const fixtureArch = target.fixture ? arch : FALLBACK_FIXTURE_ARCH;
  const source = (await readSources(dir))[fixtureArch];
  if (!source) {
    throw new BuildError(
      'BTF_FIXTURE_MISSING',
      `arch BTF: ${dir}/sources.json has no entry for ${fixtureArch}`,
    );
  }
  const path = join(cacheDir, 'btf', `${source.btfSha256}.btf`);
  const found = await stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!found) {
    const packed = join(dir, `${fixtureArch}.btf.br`);
    const bytes = await readFile(packed)
      .then((b) => unbrotli(b))
      .catch((err: unknown) => {
        throw new BuildError('BTF_FIXTURE_MISSING', `arch BTF: cannot unpack ${packed}`, { cause: err });
      });
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (sha256 !== source.btfSha256) {
      throw new BuildError(
        'BTF_FIXTURE_CORRUPT',
        `arch BTF: ${packed} unpacks to sha256 ${sha256}, sources.json says ${source.btfSha256}: regenerate it with sdk/scripts/gen-btf-fixtures.mjs`,
      );
    }
    await mkdir(join(cacheDir, 'btf'), { recursive: true });
    const temp = `${path}.${process.pid}.tmp`;
    try {
      await writeFile(temp, bytes);
      await rename(temp, path);
    } finally {
      await rm(temp, { force: true });
    }
  }
  return { arch, fixtureArch, kernel: source.kernel, path, sha256: source.btfSha256 };
}
