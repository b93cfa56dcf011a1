// What the kernel has attached, asked without bpfleet code: XDP by netlink (`bpftool net`), tcx links by their
// fdinfo (bpftool 7.1 does not decode tcx, so a link fd is opened by id with the bpf syscall), cgroups by `bpftool
// cgroup show`, program names by `bpftool prog show`.
import { execFileSync } from 'node:child_process';

export interface TcxLink {
  linkId: number;
  progId: number;
  ifindex: number;
  direction: 'ingress' | 'egress';
}

const json = <T>(cmd: string, args: string[]): T =>
  JSON.parse(execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })) as T;

// Opens each link by id (BPF_LINK_GET_FD_BY_ID) and prints its /proc fdinfo, which carries tcx's ifindex and side.
const LINK_FDINFO = `
import ctypes, json, os, platform, sys
libc = ctypes.CDLL(None, use_errno=True)
nr_bpf = {'x86_64': 321, 'aarch64': 280}[platform.machine()]
out = []
for link_id in map(int, sys.argv[1:]):
    attr = (ctypes.c_uint32 * 4)(link_id, 0, 0, 0)
    fd = libc.syscall(nr_bpf, 30, attr, ctypes.sizeof(attr))
    if fd < 0:
        continue
    with open('/proc/self/fdinfo/%d' % fd) as f:
        out.append(dict((k.strip(), v.strip()) for k, v in (l.split(':', 1) for l in f if ':' in l)))
    os.close(fd)
print(json.dumps(out))
`;

/** Every tcx link in the kernel, with the ifindex (of its device's namespace) and direction it is attached to. */
export function tcxLinks(): TcxLink[] {
  const ids = json<Array<{ id: number }>>('bpftool', ['-j', 'link', 'show']).map((l) => String(l.id));
  const infos = json<Array<Record<string, string>>>('python3', ['-c', LINK_FDINFO, ...ids]);
  return infos
    .filter((i) => i.link_type === 'tcx')
    .map((i) => ({
      linkId: Number(i.link_id),
      progId: Number(i.prog_id),
      ifindex: Number(i.ifindex),
      direction: /\(ingress\)/.test(i.attach_type ?? '') ? 'ingress' : 'egress',
    }));
}

/** Program names by id, as the kernel holds them (truncated to 15 characters). */
export function programNames(): Map<number, string> {
  return new Map(
    json<Array<{ id: number; name?: string }>>('bpftool', ['-j', 'prog', 'show']).map((p) => [
      p.id,
      p.name ?? '',
    ]),
  );
}

/** Programs attached to a cgroup (by path), with their attach type as bpftool names it (`cgroup_inet_ingress`…). */
export function cgroupPrograms(path: string): Array<{ id: number; attachType: string; name: string }> {
  return json<Array<{ id: number; attach_type: string; name: string }>>('bpftool', [
    '-j',
    'cgroup',
    'show',
    path,
  ]).map((p) => ({ id: p.id, attachType: p.attach_type, name: p.name }));
}
