// The suite's packages: manifests for the programs in ./programs (built by `bpfleet build`, one per attach type).
import { fileURLToPath } from 'node:url';
import type { Manifest } from '@bpfleet/sdk/manifest';
import { arch } from '../fixtures/test-packages.js';

// Compiled to e2e/dist/truth/: the C sources stay in e2e/src/truth/programs/.
const PROGRAMS = fileURLToPath(new URL('../../src/truth/programs/', import.meta.url));
const source = (file: string) => `${PROGRAMS}${file}`;

export interface PackageSpec {
  manifest: Manifest;
  sources: string[];
}

const requires = (): Manifest['requires'] => ({
  arches: [arch as Manifest['requires']['arches'][number]],
  btf: true,
});

/**
 * acme/<name>: `h7t_xdp` counts ICMP on its interface in `counts` slot 0 (persisted) and drops it when `drop_icmp`
 * is non-zero; `withTcx` adds `h7t_tcx` (tcx ingress, counts every packet in slot 1, passes it).
 */
export function pingsPackage(
  name: string,
  version: string,
  o: { withTcx?: boolean; xdpAttach?: { interface: string } } = {},
): PackageSpec {
  return {
    manifest: {
      name: `acme/${name}`,
      version,
      license: 'GPL',
      programs: [
        { name: 'h7t_xdp', ...(o.xdpAttach && { attach: o.xdpAttach }) },
        ...(o.withTcx ? [{ name: 'h7t_tcx' }] : []),
      ],
      config: { drop_icmp: { type: 'u32', default: 0 } },
      maps: { counts: { persist: true, layout: { key: 'u32', value: 'u64' } } },
      requires: requires(),
    },
    sources: [source('pings.h'), source(o.withTcx ? 'pings-tcx.bpf.c' : 'pings.bpf.c')],
  };
}

/** One program of each attach type the removal test covers, with the kernel name of its program. */
export const ATTACH_TYPES = [
  { type: 'tcx', file: 'tcx.bpf.c', program: 'h7t_tcx_only', target: 'interface' },
  { type: 'cgroup_skb', file: 'cgroup-skb.bpf.c', program: 'h7t_cg_skb', target: 'cgroup' },
  { type: 'sock_addr', file: 'sock-addr.bpf.c', program: 'h7t_connect4', target: 'cgroup' },
  { type: 'sockops', file: 'sockops.bpf.c', program: 'h7t_sockops', target: 'cgroup' },
  { type: 'tp_btf', file: 'tp-btf.bpf.c', program: 'h7t_tp_btf', target: 'none' },
  { type: 'raw_tp', file: 'raw-tp.bpf.c', program: 'h7t_raw_tp', target: 'none' },
  { type: 'tracepoint', file: 'tracepoint.bpf.c', program: 'h7t_tracepoint', target: 'none' },
] as const;

export type AttachTypeCase = (typeof ATTACH_TYPES)[number];

/** acme/h7t-<type>: the one program of `c`, counting in its `hits` map; `attach` as manifest default. */
export function attachTypePackage(c: AttachTypeCase, attach?: { cgroup: string }): PackageSpec {
  return {
    manifest: {
      name: `acme/h7t-${c.type.replace('_', '-')}`,
      version: '1.0.0',
      license: 'GPL',
      programs: [{ name: c.program, ...(attach && { attach }) }],
      maps: { hits: { layout: { key: 'u32', value: 'u64' } } },
      requires: requires(),
    },
    sources: [source('hits.h'), source(c.file)],
  };
}
