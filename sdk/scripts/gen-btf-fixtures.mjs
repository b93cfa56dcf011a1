// One-off generator of sdk/btf-fixtures/: cuts the .BTF blob out of Debian kernel image packages, one per arch.
//
// Not run by setup or tests. The fixtures are Debian's 6.12 LTS kernels from bookworm-backports (6.12 has the tcx
// UAPI the library's programs use; bookworm's own 6.1 does not). To regenerate on a Debian 12 x86 machine, as root,
// fetch the image packages, then undo the source and architecture change so the machine stays as it was:
//   echo 'deb http://deb.debian.org/debian bookworm-backports main' >/etc/apt/sources.list.d/bpo.list
//   dpkg --add-architecture arm64 && apt-get update
//   apt-get download linux-image-6.12.95+deb12-amd64:amd64 linux-image-6.12.95+deb12-arm64:arm64
//   rm /etc/apt/sources.list.d/bpo.list && dpkg --remove-architecture arm64 && apt-get update
//   node sdk/scripts/gen-btf-fixtures.mjs x86=linux-image-6.12.95+deb12-amd64_*.deb \
//     arm64=linux-image-6.12.95+deb12-arm64_*.deb
// riscv64 is not a Debian 12 arch: its fixture is trixie's 6.12, fetched by apt with a private source list, lists
// and cache, so the machine's apt state is untouched (trixie.list: `deb [signed-by=…] http://deb.debian.org/debian
// trixie main`):
//   A="-o Dir::Etc::sourcelist=$PWD/trixie.list -o Dir::Etc::sourceparts=/nonexistent -o Dir::State::Lists=$PWD/lists
//      -o Dir::Cache=$PWD/cache -o APT::Architectures::=riscv64"
//   apt-get $A update && apt-get $A download linux-image-6.12.117+deb13-riscv64:riscv64
//   node sdk/scripts/gen-btf-fixtures.mjs riscv=linux-image-6.12.117+deb13-riscv64_*.deb
// Debian's armhf (armmp, in 12 and 13) and s390x kernels are built without CONFIG_DEBUG_INFO_BTF: no BTF to cut.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gunzipSync } from 'node:zlib';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'btf-fixtures');
const BTF_HDR_LEN = 24;

/** Every offset where a BTF header (magic 0xeB9F, version 1, hdr_len 24) of either byte order starts a whole blob. */
function findBtf(image) {
  const found = [];
  for (
    let i = image.indexOf(0xeb);
    i >= 0 && i + BTF_HDR_LEN <= image.length;
    i = image.indexOf(0xeb, i + 1)
  ) {
    for (const le of [true, false]) {
      const at = le ? i - 1 : i;
      if (at < 0 || at + BTF_HDR_LEN > image.length) continue;
      const u16 = (o) => (le ? image.readUInt16LE(at + o) : image.readUInt16BE(at + o));
      const u32 = (o) => (le ? image.readUInt32LE(at + o) : image.readUInt32BE(at + o));
      if (u16(0) !== 0xeb9f || image[at + 2] !== 1 || u32(4) !== BTF_HDR_LEN) continue;
      const [typeOff, typeLen, strOff, strLen] = [u32(8), u32(12), u32(16), u32(20)];
      // The kernel's own BTF: types first, strings right after, the string section opening with "\0".
      if (typeOff !== 0 || strOff !== typeLen || strLen === 0) continue;
      const end = at + BTF_HDR_LEN + strOff + strLen;
      if (end > image.length || image[at + BTF_HDR_LEN + strOff] !== 0) continue;
      found.push({ at, end, le });
    }
  }
  return found;
}

/** Payload magics of a compressed kernel and the tool that unpacks one stream of it (the bytes after it are not its). */
const PAYLOADS = [
  { magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], tool: ['xz', '-dc', '--single-stream'] },
  { magic: [0x28, 0xb5, 0x2f, 0xfd], tool: ['zstd', '-dcq'] },
  { magic: [0x1f, 0x8b, 0x08], tool: ['gzip', '-dcq'] },
];

/**
 * The kernel with its BTF: arm64's vmlinuz is a raw or gzip'd Image; x86's bzImage carries an xz or zstd payload;
 * riscv64's boot/vmlinux is an EFI image with a gzip payload.
 */
function kernelImages(vmlinuz) {
  // A raw Image holds its BTF as is; a compression magic inside it would be some embedded blob, not the kernel.
  if (findBtf(vmlinuz).length > 0) return [vmlinuz];
  if (vmlinuz[0] === 0x1f && vmlinuz[1] === 0x8b) return [gunzipSync(vmlinuz)];
  const images = [];
  for (const { magic, tool } of PAYLOADS) {
    const at = vmlinuz.indexOf(Buffer.from(magic));
    if (at < 0) continue;
    const payload = join(tmpdir(), `arc-payload-${process.pid}`);
    writeFileSync(payload, vmlinuz.subarray(at));
    try {
      // zstd complains about the bzImage tail after its frame but has written the whole kernel by then.
      images.push(
        execFileSync(tool[0], [...tool.slice(1), payload], {
          maxBuffer: 1 << 30,
          stdio: ['ignore', 'pipe', 'ignore'],
        }),
      );
    } catch (err) {
      if (err.stdout?.length > 0) images.push(err.stdout);
    } finally {
      rmSync(payload, { force: true });
    }
  }
  return images;
}

mkdirSync(out, { recursive: true });
const sources = {};
for (const arg of process.argv.slice(2)) {
  const [arch, deb] = arg.split('=');
  if (!arch || !deb) throw new Error(`gen-btf-fixtures: expected arch=file.deb, got ${arg}`);
  const work = mkdtempSync(join(tmpdir(), 'arc-btf-'));
  try {
    execFileSync('sh', [
      '-c',
      `dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" --wildcards './boot/vmlinu[xz]-*'`,
      'x',
      deb,
      work,
    ]);
    const [name] = readdirSync(join(work, 'boot'));
    const blobs = kernelImages(readFileSync(join(work, 'boot', name))).flatMap((image) =>
      findBtf(image).map((b) => image.subarray(b.at, b.end)),
    );
    if (blobs.length === 0)
      throw new Error(`gen-btf-fixtures: ${basename(deb)}: no BTF blob found in ${name}`);
    const btf = blobs.sort((a, b) => b.length - a.length)[0];
    const raw = join(work, `${arch}.btf`);
    writeFileSync(raw, btf);
    // bpftool parses it the way the build will; a bad cut fails here, not at an author's build.
    const header = execFileSync('bpftool', ['btf', 'dump', 'file', raw, 'format', 'c'], {
      maxBuffer: 1 << 30,
    });
    const packed = brotliCompressSync(btf, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_LGWIN]: 24 },
    });
    writeFileSync(join(out, `${arch}.btf.br`), packed);
    sources[arch] = {
      package: basename(deb),
      kernel: name.replace(/^vmlinu[xz]-/, ''),
      btfBytes: btf.length,
      btfSha256: createHash('sha256').update(btf).digest('hex'),
      brotliBytes: packed.length,
    };
    console.log(
      `${arch}: ${btf.length} bytes of BTF (vmlinux.h ${header.length} bytes) -> ${packed.length} bytes brotli`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
const index = join(out, 'sources.json');
const previous = existsSync(index) ? JSON.parse(readFileSync(index, 'utf8')) : {};
writeFileSync(index, `${JSON.stringify({ ...previous, ...sources }, null, 2)}\n`);
