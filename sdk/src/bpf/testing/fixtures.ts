// Test fixtures for the loader: compiled test objects, namespaces, veth pairs, cgroups, leak counters.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

/** Bytes of a test object built by `npm run build:bpf` (build/bpf/<name>.bpf.o). */
export function testObject(name: string): Uint8Array {
  const path = join(ROOT, 'build', 'bpf', `${name}.bpf.o`);
  if (!existsSync(path)) throw new Error(`${path} is missing: run npm run build:bpf`);
  return readFileSync(path);
}

export function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function openFds(): string[] {
  return readdirSync('/proc/self/fd').sort();
}

/** A unique pin directory under bpffs, removed (with whatever is left in it) by `remove`. */
export function pinDir(): { path: string; entries(): string[]; remove(): void } {
  const path = `/sys/fs/bpf/bpfleet-test-${randomBytes(6).toString('hex')}`;
  mkdirSync(path);
  return {
    path,
    entries: () => (existsSync(path) ? readdirSync(path) : []),
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

/** A veth pair: `inner` stays in this process's namespace, `outer` goes to a new namespace `peer`. */
export interface VethPair {
  peer: string;
  inner: string;
  outer: string;
  innerAddr: string;
  outerAddr: string;
  /** Runs a command inside the peer namespace. */
  inPeer(cmd: string, args: string[]): ReturnType<typeof spawnSync>;
  remove(): void;
}

let counter = 0;

export function createVethPair(): VethPair {
  const n = counter++;
  const peer = `bf-loader-${process.pid}-${n}`;
  const inner = `bfl${process.pid % 10000}i${n}`;
  const outer = `bfl${process.pid % 10000}o${n}`;
  const subnet = (process.pid * 4 + n * 4) % 250;
  const innerAddr = `198.18.${subnet}.1`;
  const outerAddr = `198.18.${subnet}.2`;
  run('ip', ['netns', 'add', peer]);
  try {
    run('ip', ['link', 'add', inner, 'type', 'veth', 'peer', 'name', outer, 'netns', peer]);
    run('ip', ['addr', 'add', `${innerAddr}/30`, 'dev', inner]);
    run('ip', ['link', 'set', inner, 'up']);
    const ns = [`--net=/run/netns/${peer}`];
    run('nsenter', [...ns, 'ip', 'addr', 'add', `${outerAddr}/30`, 'dev', outer]);
    run('nsenter', [...ns, 'ip', 'link', 'set', outer, 'up']);
    run('nsenter', [...ns, 'ip', 'link', 'set', 'lo', 'up']);
  } catch (err) {
    spawnSync('ip', ['netns', 'del', peer]);
    throw err;
  }
  return {
    peer,
    inner,
    outer,
    innerAddr,
    outerAddr,
    inPeer: (cmd, args) =>
      spawnSync('nsenter', [`--net=/run/netns/${peer}`, cmd, ...args], { encoding: 'utf8' }),
    remove() {
      spawnSync('ip', ['link', 'del', inner]);
      spawnSync('ip', ['netns', 'del', peer]);
    },
  };
}

/** "5 packets transmitted" out of ping's summary. */
export function transmitted(output: string): number {
  const m = /(\d+) packets transmitted/.exec(output);
  if (!m) throw new Error(`no ping summary in: ${output}`);
  return Number(m[1]);
}

/** A fresh cgroup v2 directory for the test; processes join it by writing their pid to cgroup.procs. */
export function createCgroup(): { path: string; remove(): void } {
  const base = '/sys/fs/cgroup/unified';
  const path = join(base, `bpfleet-test-${randomBytes(6).toString('hex')}`);
  mkdirSync(path);
  return { path, remove: () => rmdirSync(path) };
}
