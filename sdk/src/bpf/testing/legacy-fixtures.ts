// Fixtures of the legacy attach tests: a veth pair in the fbk names and 198.18.134.0/24, and the kernel's views.
import { spawnSync } from 'node:child_process';
import { existsSync, rmdirSync } from 'node:fs';
import { run } from './fixtures.js';

export interface Veth {
  peer: string;
  inner: string;
  innerAddr: string;
  outerAddr: string;
  inPeer(cmd: string, args: string[]): ReturnType<typeof spawnSync>;
  remove(): void;
}

let n = 0;
/** A veth pair in this helper's names and its 198.18.134.0/24 block: `inner` here, the peer end in `peer`. */
export function fbkVeth(): Veth {
  const i = n++;
  const peer = `fbk-peer-${process.pid}-${i}`;
  const inner = `fbk${process.pid % 10000}i${i}`;
  const outer = `fbk${process.pid % 10000}o${i}`;
  const innerAddr = `198.18.134.${4 * (i % 60) + 1}`;
  run('ip', ['netns', 'add', peer]);
  try {
    run('ip', ['link', 'add', inner, 'type', 'veth', 'peer', 'name', outer, 'netns', peer]);
    run('ip', ['addr', 'add', `${innerAddr}/30`, 'dev', inner]);
    run('ip', ['link', 'set', inner, 'up']);
    const ns = [`--net=/run/netns/${peer}`];
    run('nsenter', [...ns, 'ip', 'addr', 'add', `198.18.134.${4 * (i % 60) + 2}/30`, 'dev', outer]);
    run('nsenter', [...ns, 'ip', 'link', 'set', outer, 'up']);
  } catch (err) {
    spawnSync('ip', ['netns', 'del', peer]);
    throw err;
  }
  return {
    peer,
    inner,
    innerAddr,
    outerAddr: `198.18.134.${4 * (i % 60) + 2}`,
    inPeer: (cmd, args) =>
      spawnSync('nsenter', [`--net=/run/netns/${peer}`, cmd, ...args], { encoding: 'utf8' }),
    remove() {
      spawnSync('ip', ['link', 'del', inner]);
      spawnSync('ip', ['netns', 'del', peer]);
    },
  };
}

/** The program id `ip -j link` shows in the interface's XDP slot, 0 when there is none. */
export function xdpOnHook(dev: string): number {
  const [link] = JSON.parse(run('ip', ['-j', 'link', 'show', 'dev', dev])) as {
    xdp?: { prog?: { id: number } };
  }[];
  return link?.xdp?.prog?.id ?? 0;
}

/** Program ids of every bpf_link the kernel has (a legacy attachment must make none). */
export function linkedPrograms(): number[] {
  return (JSON.parse(run('bpftool', ['-j', 'link', 'show'])) as { prog_id: number }[]).map((l) => l.prog_id);
}

export function cgroupPrograms(path: string): { id: number; attach_type: string; attach_flags: string }[] {
  return JSON.parse(run('bpftool', ['-j', 'cgroup', 'show', path]).trim() || '[]');
}

/** Removes a test cgroup; a process that just left it reaches the cgroup a moment later (EBUSY until then). */
export async function removeCgroup(path: string): Promise<void> {
  for (let i = 0; existsSync(path); i++) {
    try {
      rmdirSync(path);
    } catch (err) {
      if (i > 100) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
