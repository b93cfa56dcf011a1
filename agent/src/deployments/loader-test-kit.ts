// Shared by the BpfLoader kernel tests: tagged veths and cgroups, specs of the kind_* test objects, and the
// kernel as observer (bpftool -j, ip -j, /proc/self/fdinfo).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Digest } from '@bpfleet/sdk/digest';
import type { Manifest } from '@bpfleet/sdk/manifest';
import type { PolicyAttach } from '@bpfleet/sdk/policy';
import { configDigestOf } from '../agent.js';
import { silentLogger } from '../logger.js';
import type { DeploySpec } from '../ports.js';
import { arch, buildPackage, compileTestObject } from '../testing/kernel-fixtures.js';
import type { AttachAllow } from './attach-allow.js';
import { BpfLoader } from './bpf-loader.js';
import { DeploymentMetaStore } from './deployment-meta.js';

/** Every name these tests create carries the tag, so tests of other areas running at once never collide. */
export const TAG = 'h5l';

export const CGROUP_ROOT =
  readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .find((f) => f[2] === 'cgroup2')?.[1] ?? '/sys/fs/cgroup';

export interface LoaderEnv {
  pinRoot: string;
  dataDir: string;
  loader(allow: AttachAllow): BpfLoader;
  cleanup(): void;
}

export function loaderEnv(): LoaderEnv {
  const pinRoot = `/sys/fs/bpf/bpfleet-${TAG}-${randomBytes(4).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), `bpfleet-${TAG}-`));
  return {
    pinRoot,
    dataDir,
    loader: (allow) =>
      new BpfLoader({
        pinRoot,
        meta: new DeploymentMetaStore(join(dataDir, 'deployments')),
        arch,
        cgroupRoot: CGROUP_ROOT,
        allow,
        logger: silentLogger,
      }),
    cleanup() {
      rmSync(pinRoot, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A package of one test object whose manifest lists `programs` (with optional attach defaults). */
export async function objectSpec(
  id: string,
  object: string,
  programs: Array<{ name: string; attach?: Manifest['programs'][number]['attach'] }>,
  attach: PolicyAttach,
  version = '1.0.0',
): Promise<DeploySpec> {
  const manifest: Manifest = {
    name: `${TAG}/${object.replace(/_/g, '-')}`,
    version,
    license: 'GPL',
    programs,
    requires: { arches: [arch as Manifest['requires']['arches'][number]], btf: true },
  };
  const { archive, contents } = await buildPackage(manifest, compiled(object));
  return {
    id,
    pkg: {
      ref: { package: manifest.name, version, digest: sha256Digest(archive), size: archive.length },
      manifestDigest: contents.manifestDigest,
      manifest: contents.manifest,
      contents,
    },
    attach,
    config: {},
    configDigest: configDigestOf({}),
  };
}

const objects = new Map<string, Uint8Array>();
export function compiled(object: string): Uint8Array {
  let bytes = objects.get(object);
  if (!bytes) {
    bytes = compileTestObject(object);
    objects.set(object, bytes);
  }
  return bytes;
}

/** A veth pair in this namespace with no addresses: a hook to attach to, no traffic. */
export interface TaggedVeth {
  name: string;
  create(): void;
  remove(): void;
}

export function taggedVeth(): TaggedVeth {
  const name = `${TAG}${randomBytes(3).toString('hex')}a`;
  const peer = `${name.slice(0, -1)}b`;
  return {
    name,
    create() {
      execFileSync('ip', ['link', 'add', name, 'type', 'veth', 'peer', 'name', peer], { stdio: 'pipe' });
      execFileSync('ip', ['link', 'set', name, 'up'], { stdio: 'pipe' });
      execFileSync('ip', ['link', 'set', peer, 'up'], { stdio: 'pipe' });
    },
    remove() {
      spawnSync('ip', ['link', 'del', name]);
    },
  };
}

/** A cgroup under the cgroup2 root; `rel` is its path as policies and allow-lists name it. */
export function taggedCgroup(): { rel: string; path: string; remove(): void } {
  const rel = `/${TAG}-${randomBytes(3).toString('hex')}`;
  const path = join(CGROUP_ROOT, rel);
  mkdirSync(path);
  return {
    rel,
    path,
    remove() {
      try {
        rmdirSync(path);
      } catch {
        // Still busy (a failed test left a program on it): the after hook of the next run removes it.
      }
    },
  };
}

export interface KernelLink {
  id: number;
  prog_id: number;
  type: string;
  ifindex?: number;
}

/** bpftool's JSON; `[]` when it prints nothing (`cgroup show` of a cgroup without programs). */
export function bpftool<T>(...args: string[]): T {
  const out = execFileSync('bpftool', ['-j', ...args], { encoding: 'utf8' });
  return JSON.parse(out.trim() === '' ? '[]' : out) as T;
}

export function kernelLinks(): KernelLink[] {
  return bpftool<KernelLink[]>('link', 'show');
}

export function kernelPrograms(): Array<{ id: number; name?: string }> {
  return bpftool<Array<{ id: number; name?: string }>>('prog', 'show');
}

export function kernelProgramIds(): Set<number> {
  return new Set(kernelPrograms().map((p) => p.id));
}

export function pinnedLink(path: string): KernelLink {
  return bpftool<KernelLink>('link', 'show', 'pinned', path);
}

/** Link and program ids this process holds an fd to, read from /proc/self/fdinfo. */
export function heldBpfIds(): { links: Set<number>; progs: Set<number> } {
  const links = new Set<number>();
  const progs = new Set<number>();
  for (const fd of readdirSync('/proc/self/fdinfo')) {
    let info: string;
    try {
      info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    } catch {
      continue;
    }
    const link = /^link_id:\s+(\d+)/m.exec(info);
    const prog = /^prog_id:\s+(\d+)/m.exec(info);
    if (link) links.add(Number(link[1]));
    else if (prog) progs.add(Number(prog[1]));
  }
  return { links, progs };
}

/** The XDP program id on an interface as `ip -j link` shows it (undefined: none). */
export function xdpProgramId(ifname: string): number | undefined {
  const [link] = JSON.parse(
    execFileSync('ip', ['-j', 'link', 'show', 'dev', ifname], { encoding: 'utf8' }),
  ) as Array<{
    xdp?: { prog?: { id: number }; attached?: Array<{ prog: { id: number } }> };
  }>;
  return link?.xdp?.prog?.id ?? link?.xdp?.attached?.[0]?.prog.id;
}

/**
 * Samples the XDP program on `ifname` every millisecond from a separate process (perl feeding `ip -batch`), so
 * the samples go on while this process is busy. `stop` returns one program id (or undefined) per sample.
 */
export function pollXdp(ifname: string): {
  ready: Promise<void>;
  stop(): Promise<Array<number | undefined>>;
} {
  const child = spawn(
    'sh',
    [
      '-c',
      `perl -e 'use Time::HiRes qw(usleep); $|=1; while (1) { print "link show dev ${ifname}\\n"; usleep(1000) }' | ip -j -batch -`,
    ],
    { detached: true },
  );
  let out = '';
  let resolveReady: () => void;
  const ready = new Promise<void>((r) => {
    resolveReady = r;
  });
  child.stdout.on('data', (d) => {
    out += d;
    if (out.split('\n').length > 20) resolveReady();
  });
  return {
    ready,
    async stop() {
      await new Promise((r) => setTimeout(r, 30));
      // The whole pipeline (sh, perl, ip) is one process group started here: end it by its id.
      if (child.pid) process.kill(-child.pid, 'SIGTERM');
      await new Promise((r) => child.once('close', r));
      return out
        .split('\n')
        .filter((l) => l.startsWith('['))
        .map((l) => {
          try {
            const [link] = JSON.parse(l) as Array<{ xdp?: { prog?: { id: number } } }>;
            return link?.xdp?.prog?.id;
          } catch {
            return -1; // a line cut by the kill: no sample
          }
        })
        .filter((id) => id !== -1);
    },
  };
}

/**
 * Program ids of the kernel links that run a program of this name (bpftool 7.1 shows tcx links without their
 * interface; the kind_* and pair_* names are used by these tests alone).
 */
export function linkedProgramIds(programName: string): number[] {
  const ids = new Set(
    kernelPrograms()
      .filter((p) => p.name === programName)
      .map((p) => p.id),
  );
  return kernelLinks()
    .filter((l) => ids.has(l.prog_id))
    .map((l) => l.prog_id);
}
