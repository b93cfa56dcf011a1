// Kernel test fixtures: the agent's test BPF objects (clang), packages of them, a veth pair into a namespace.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type PackageContents, packArchive, unpackArchive } from '@bpfleet/sdk/archive';
import type { Manifest } from '@bpfleet/sdk/manifest';

const AGENT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = join(AGENT, '..', 'build', 'agent-bpf');
const ARCH: Record<string, string> = { x64: 'x86', arm64: 'arm64' };
export const arch = ARCH[process.arch] ?? process.arch;

export function compileTestObject(name: string): Uint8Array {
  return compile(join(AGENT, 'testdata', `${name}.bpf.c`), name);
}

/** A program of the bpf-programs/ library with its manifest, as the SDK's build would make them. */
export function libraryProgram(name: string): { object: Uint8Array; manifest: Manifest } {
  const dir = join(AGENT, '..', 'bpf-programs', name);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  manifest.requires.arches = [arch as Manifest['requires']['arches'][number]];
  // buildPackage packs the object alone, no minimized BTF: these tests load with the kernel's.
  if (manifest.requires.btf === 'core') manifest.requires.btf = true;
  return { object: compile(join(dir, `${name}.bpf.c`), name), manifest };
}

function compile(source: string, name: string): Uint8Array {
  mkdirSync(OUT, { recursive: true });
  const vmlinux = join(OUT, 'vmlinux.h');
  if (!existsSync(vmlinux)) {
    const header = execFileSync(
      'bpftool',
      ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'],
      {
        maxBuffer: 256 * 1024 * 1024,
      },
    );
    // Written aside then renamed: test files run in parallel and must never read half a header.
    writeFileSync(`${vmlinux}.${process.pid}`, header);
    renameSync(`${vmlinux}.${process.pid}`, vmlinux);
  }
  // A per-process output: two test files may compile the same program at the same time.
  const output = join(OUT, `${name}.${process.pid}.bpf.o`);
  execFileSync('clang', [
    '-g',
    '-O2',
    '-target',
    'bpf',
    `-D__TARGET_ARCH_${arch}`,
    '-I',
    OUT,
    '-c',
    source,
    '-o',
    output,
  ]);
  try {
    return readFileSync(output);
  } finally {
    rmSync(output, { force: true });
  }
}

export function counterManifest(version: string): Manifest {
  return {
    name: 'acme/count',
    version,
    license: 'GPL',
    programs: [{ name: 'count_pings' }],
    config: { version: { type: 'u64', default: 1 } },
    maps: {
      counts: {
        persist: true,
        layout: { key: 'u32', value: 'u64' },
        metrics: [{ name: 'packets', type: 'counter', help: 'ICMP packets seen', labels: { slot: 'key' } }],
      },
    },
    requires: { arches: [arch as Manifest['requires']['arches'][number]], btf: true, programTypes: ['xdp'] },
  };
}

export async function buildPackage(
  manifest: Manifest,
  object: Uint8Array,
): Promise<{ archive: Buffer; contents: PackageContents }> {
  const archive = await packArchive([
    { path: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) },
    { path: `bpf/${arch}/count.bpf.o`, data: object },
  ]);
  return { archive, contents: await unpackArchive(archive) };
}

let counter = 0;

export interface Veth {
  ns: string;
  inner: string;
  innerAddr: string;
  outerAddr: string;
  ping(count: number, intervalSeconds?: number): { sent: number; received: number };
  remove(): void;
}

/** `inner` stays here (where the loader attaches), `outer` lives in a fresh namespace that sends the pings. */
export function createVeth(): Veth {
  const n = counter++;
  const tag = randomBytes(2).toString('hex');
  const ns = `bf-agent-${process.pid}-${n}`;
  const inner = `bfa${tag}i${n}`;
  const outer = `bfa${tag}o${n}`;
  const subnet = 100 + ((process.pid + n * 7) % 150);
  const innerAddr = `198.19.${subnet}.1`;
  const outerAddr = `198.19.${subnet}.2`;
  const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: 'pipe' });
  run('ip', ['netns', 'add', ns]);
  try {
    run('ip', ['link', 'add', inner, 'type', 'veth', 'peer', 'name', outer, 'netns', ns]);
    run('ip', ['addr', 'add', `${innerAddr}/30`, 'dev', inner]);
    run('ip', ['link', 'set', inner, 'up']);
    run('nsenter', [`--net=/run/netns/${ns}`, 'ip', 'addr', 'add', `${outerAddr}/30`, 'dev', outer]);
    run('nsenter', [`--net=/run/netns/${ns}`, 'ip', 'link', 'set', outer, 'up']);
    run('nsenter', [`--net=/run/netns/${ns}`, 'ip', 'link', 'set', 'lo', 'up']);
  } catch (err) {
    spawnSync('ip', ['netns', 'del', ns]);
    spawnSync('ip', ['link', 'del', inner]);
    throw err;
  }
  return {
    ns,
    inner,
    innerAddr,
    outerAddr,
    ping(count, intervalSeconds = 0.01) {
      const r = spawnSync(
        'nsenter',
        [
          `--net=/run/netns/${ns}`,
          'ping',
          '-q',
          '-c',
          String(count),
          '-i',
          String(intervalSeconds),
          '-W',
          '1',
          innerAddr,
        ],
        { encoding: 'utf8' },
      );
      const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
      return { sent: Number(m?.[1] ?? 0), received: Number(m?.[2] ?? 0) };
    },
    remove() {
      spawnSync('ip', ['link', 'del', inner]);
      spawnSync('ip', ['netns', 'del', ns]);
    },
  };
}
