// Fixtures for the bpf-programs/ library tests: build a program, namespaces and veths, a child in a cgroup.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildProgram } from '../../compile/build-program.js';
import { compileObject } from '../../compile/compile-object.js';
import { runTool } from '../../compile/run-tool.js';
import { findToolchain } from '../../compile/toolchain.js';
import { ensureVmlinuxHeader } from '../../compile/vmlinux-header.js';
import { isGplCompatible, type Manifest, parseManifest } from '../../manifest/index.js';
import { CGROUP2 } from '../cgroup-traffic.js';
import { encodeLayout } from '../map-values.js';
import { type ProgramTest, parseTestFile } from '../test-file.js';

export const PROGRAMS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'bpf-programs');

export interface LibraryProgram {
  manifest: Manifest;
  tests: ProgramTest[];
  /** Path of the object built for this host's arch. */
  objectPath: string;
  object: Uint8Array;
  issues: string[];
  arches: string[];
}

/** Builds bpf-programs/<name> for every arch of its manifest, as `bpfleet build` does. */
export async function buildLibraryProgram(name: string): Promise<LibraryProgram> {
  const dir = join(PROGRAMS, name);
  const manifest = parseManifest(await readFile(join(dir, 'manifest.json'), 'utf8'));
  const tests = parseTestFile(await readFile(join(dir, 'tests.json'), 'utf8'), `${name}/tests.json`);
  // A build dir of this process: test files run in parallel and may build the same program at once.
  const buildDir = join(PROGRAMS, '..', 'build', 'telco-tests', `${name}-${process.pid}`);
  process.once('exit', () => rmSync(buildDir, { recursive: true, force: true }));
  const built = await buildProgram(runTool, await findToolchain(runTool), {
    dir,
    manifest,
    isGplCompatible,
    buildDir,
  });
  const arch = process.arch === 'arm64' ? 'arm64' : 'x86';
  const objectPath = built.objects.find((o) => o.arch === arch)?.path ?? '';
  return {
    manifest,
    tests,
    objectPath,
    object: new Uint8Array(readFileSync(objectPath)),
    issues: built.issues.map((i) => `${i.severity} ${i.code}: ${i.message}`),
    arches: built.objects.map((o) => o.arch),
  };
}

/** A map key or value encoded with the manifest's layout, as tests.json writes them. */
export function encodeEntry(
  manifest: Manifest,
  map: string,
  part: 'key' | 'value',
  value: unknown,
): Uint8Array {
  const layout = manifest.maps?.[map]?.layout;
  if (!layout) throw new Error(`map ${map}: no layout in the manifest`);
  return encodeLayout(layout[part], value, `${map}.${part}`);
}

let counter = 0;

export function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** A fresh network namespace with lo up, removed by `remove`. */
export function createNetns(area: string): {
  name: string;
  exec(cmd: string, args: string[]): string;
  remove(): void;
} {
  const name = `bf-${area}-${process.pid}-${counter++}`;
  sh('ip', ['netns', 'add', name]);
  const exec = (cmd: string, args: string[]) => sh('nsenter', [`--net=/run/netns/${name}`, cmd, ...args]);
  try {
    exec('ip', ['link', 'set', 'lo', 'up']);
  } catch (err) {
    spawnSync('ip', ['netns', 'del', name]);
    throw err;
  }
  return { name, exec, remove: () => void spawnSync('ip', ['netns', 'del', name]) };
}

/** A fresh cgroup v2 directory and its id (the directory's inode number). */
export function createCgroup(): { path: string; id: bigint; remove(): void } {
  const path = join(CGROUP2, `bpfleet-test-${randomBytes(6).toString('hex')}`);
  mkdirSync(path);
  return { path, id: BigInt(statSync(path).ino), remove: () => rmdirSync(path) };
}

/**
 * Runs `script` (CommonJS, for `node -e`) in the namespace and the cgroup; the script starts its work when
 * stdin says so (after the pid joined the cgroup) and writes its result to stdout. Resolves with stdout.
 */
export async function runInCgroup(
  netns: string,
  cgroup: string,
  script: string,
  args: string[],
): Promise<string> {
  const child = spawn('nsenter', [`--net=/run/netns/${netns}`, process.execPath, '-e', script, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  try {
    await new Promise((resolve, reject) => child.on('spawn', resolve).on('error', reject));
    // nsenter execs node, so this pid is the script's own.
    writeFileSync(join(cgroup, 'cgroup.procs'), String(child.pid));
    child.stdin.write('go\n');
    const code = await exited;
    if (code !== 0) throw new Error(`child in ${cgroup} failed (${code}): ${stderr.trim()}`);
    return stdout;
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  }
}

/** Compiles a fixture program of testdata/ (`<name>.bpf.c`) for this host and returns the object's bytes. */
export async function buildFixture(name: string): Promise<Uint8Array> {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = join(here, '..', '..', '..', '..');
  const source = join(root, 'sdk', 'src', 'testing', 'programs', 'testdata', `${name}.bpf.c`);
  const toolchain = await findToolchain(runTool);
  const cacheDir = join(root, 'build', 'telco-tests', `fixtures-${process.pid}`);
  process.once('exit', () => rmSync(cacheDir, { recursive: true, force: true }));
  mkdirSync(cacheDir, { recursive: true });
  const vmlinux = await ensureVmlinuxHeader(runTool, toolchain.bpftool, { cacheDir });
  const built = await compileObject(runTool, toolchain, {
    source,
    output: join(cacheDir, `${name}.bpf.o`),
    arch: process.arch === 'arm64' ? 'arm64' : 'x86',
    includeDirs: [vmlinux.includeDir, dirname(source)],
  });
  return new Uint8Array(readFileSync(built.path));
}
