// The kernel as the observer: programs, links and maps (bpftool -j), XDP on an interface (ip -j link), and the
// BPF objects a process holds open (/proc/<pid>/fdinfo).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface KernelProgram {
  id: number;
  type: string;
  name?: string;
  map_ids?: number[];
}

export interface KernelLink {
  id: number;
  type: string | number;
  prog_id: number;
}

const bpftool = <T>(args: string[]): T =>
  JSON.parse(
    execFileSync('bpftool', ['-j', ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }),
  ) as T;

export const kernelPrograms = (): KernelProgram[] => bpftool<KernelProgram[]>(['prog', 'show']);
export const kernelLinks = (): KernelLink[] => bpftool<KernelLink[]>(['link', 'show']);
export const kernelMapIds = (): Set<number> =>
  new Set(bpftool<Array<{ id: number }>>(['map', 'show']).map((m) => m.id));

/** Loaded programs with one of these names (the kernel keeps the first 15 characters). */
export function programsNamed(names: readonly string[]): KernelProgram[] {
  return kernelPrograms().filter((p) => p.name !== undefined && names.includes(p.name));
}

/** The XDP program on `dev` in the namespace `ns` as `ip -j link` shows it, or undefined when the hook is empty. */
export function xdpOn(ns: string, dev: string): { id: number; name?: string } | undefined {
  const out = execFileSync('nsenter', [`--net=/run/netns/${ns}`, 'ip', '-j', 'link', 'show', 'dev', dev], {
    encoding: 'utf8',
  });
  return xdpOfLink(JSON.parse(out));
}

/** The XDP program of one `ip -j link show dev X` answer (also the XDP poller's samples). */
export function xdpOfLink(parsed: unknown): { id: number; name?: string } | undefined {
  const entry = (
    parsed as Array<{
      xdp?: {
        prog?: { id: number; name?: string };
        attached?: Array<{ prog?: { id: number; name?: string } }>;
      };
    }>
  )[0];
  const prog = entry?.xdp?.prog ?? entry?.xdp?.attached?.[0]?.prog;
  return prog ? { id: prog.id, ...(prog.name !== undefined && { name: prog.name }) } : undefined;
}

/** Programs attached to a cgroup (absolute path), as `bpftool cgroup show` lists them. */
export function cgroupPrograms(path: string): Array<{ id: number; attach_type: string; name?: string }> {
  // bpftool 7.1 prints nothing at all (not `[]`) for a cgroup without programs.
  const out = execFileSync('bpftool', ['-j', 'cgroup', 'show', path], { encoding: 'utf8' }).trim();
  return out ? JSON.parse(out) : [];
}

export interface HeldObjects {
  programs: Set<number>;
  links: Set<number>;
  maps: Set<number>;
}

/** The BPF programs, links and maps a process holds file descriptors of (anon_inode:bpf-* in /proc/<pid>/fd). */
export function heldBy(pid: number): HeldObjects {
  const held: HeldObjects = { programs: new Set(), links: new Set(), maps: new Set() };
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    let info: string;
    try {
      // The kernel names them bpf-prog, bpf-map and bpf_link.
      target = readlinkSync(`/proc/${pid}/fd/${fd}`).replace('bpf_link', 'bpf-link');
      if (!target.startsWith('anon_inode:bpf-')) continue;
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue; // closed in between
    }
    const field = (name: string) =>
      Number(new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(info)?.[1] ?? Number.NaN);
    if (target === 'anon_inode:bpf-link') held.links.add(field('link_id'));
    else if (target === 'anon_inode:bpf-prog') held.programs.add(field('prog_id'));
    else if (target === 'anon_inode:bpf-map') held.maps.add(field('map_id'));
  }
  return held;
}
