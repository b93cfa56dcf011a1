// The `requires` section: what a host must offer before the agent loads anything.
import { ManifestError } from '../errors.js';
import { expectArray, expectEnum, expectString, FieldReader, joinPath } from './field-reader.js';
import type { Requires } from './types.js';
import { ARCHES, CAPABILITIES, MANIFEST_LIMITS } from './types.js';

/** libbpf's names (libbpf_bpf_prog_type_str), so the host probe can map them to kernel types. */
export const PROGRAM_TYPES = [
  'socket_filter',
  'kprobe',
  'sched_cls',
  'sched_act',
  'tracepoint',
  'xdp',
  'perf_event',
  'cgroup_skb',
  'cgroup_sock',
  'lwt_in',
  'lwt_out',
  'lwt_xmit',
  'sock_ops',
  'sk_skb',
  'cgroup_device',
  'sk_msg',
  'raw_tracepoint',
  'cgroup_sock_addr',
  'lwt_seg6local',
  'lirc_mode2',
  'sk_reuseport',
  'flow_dissector',
  'cgroup_sysctl',
  'raw_tracepoint_writable',
  'cgroup_sockopt',
  'tracing',
  'struct_ops',
  'ext',
  'lsm',
  'sk_lookup',
  'syscall',
  'netfilter',
] as const;

/** libbpf's names (libbpf_bpf_map_type_str). */
export const MAP_TYPES = [
  'hash',
  'array',
  'prog_array',
  'perf_event_array',
  'percpu_hash',
  'percpu_array',
  'stack_trace',
  'cgroup_array',
  'lru_hash',
  'lru_percpu_hash',
  'lpm_trie',
  'array_of_maps',
  'hash_of_maps',
  'devmap',
  'sockmap',
  'cpumap',
  'xskmap',
  'sockhash',
  'cgroup_storage',
  'reuseport_sockarray',
  'percpu_cgroup_storage',
  'queue',
  'stack',
  'sk_storage',
  'devmap_hash',
  'struct_ops',
  'ringbuf',
  'inode_storage',
  'task_storage',
  'bloom_filter',
  'user_ringbuf',
  'cgrp_storage',
  'arena',
] as const;

const KERNEL_VERSION = /^(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,3}))?$/;
const HELPER = { max: 64, pattern: /^bpf_[a-z0-9_]+$/, expected: 'a helper name bpf_*' };

/** Items of a list, each checked, none repeated. */
function uniqueList<T>(
  value: unknown,
  path: string,
  nonEmpty: boolean,
  item: (v: unknown, p: string) => T,
): T[] {
  const list = expectArray(value, path, MANIFEST_LIMITS.maxListItems, nonEmpty).map((v, i) =>
    item(v, joinPath(path, i)),
  );
  const seen = new Set<T>();
  list.forEach((v, i) => {
    if (seen.has(v)) throw new ManifestError('DUPLICATE', joinPath(path, i), `${String(v)} is listed twice`);
    seen.add(v);
  });
  return list;
}

export function parseRequires(value: unknown, path: string): Requires {
  const reader = new FieldReader(value, path, {
    required: ['arches'],
    optional: ['kernel', 'btf', 'programTypes', 'mapTypes', 'helpers', 'capabilities'],
  });
  const requires: Requires = {
    arches: uniqueList(reader.get('arches'), reader.at('arches'), true, (v, p) => expectEnum(v, p, ARCHES)),
  };
  if (reader.has('kernel')) {
    requires.kernel = reader.string('kernel', {
      max: 16,
      pattern: KERNEL_VERSION,
      expected: 'a kernel version major.minor[.patch], like "5.15" or "6.6.0"',
      code: 'INVALID_VERSION',
    });
  }
  if (reader.has('btf')) {
    const btf = reader.get('btf');
    requires.btf = btf === 'core' ? 'core' : reader.boolean('btf');
  }
  if (reader.has('programTypes')) {
    requires.programTypes = uniqueList(reader.get('programTypes'), reader.at('programTypes'), false, (v, p) =>
      expectEnum(v, p, PROGRAM_TYPES),
    );
  }
  if (reader.has('mapTypes')) {
    requires.mapTypes = uniqueList(reader.get('mapTypes'), reader.at('mapTypes'), false, (v, p) =>
      expectEnum(v, p, MAP_TYPES),
    );
  }
  if (reader.has('helpers')) {
    requires.helpers = uniqueList(reader.get('helpers'), reader.at('helpers'), false, (v, p) =>
      expectString(v, p, HELPER),
    );
  }
  if (reader.has('capabilities')) {
    requires.capabilities = uniqueList(reader.get('capabilities'), reader.at('capabilities'), false, (v, p) =>
      expectEnum(v, p, CAPABILITIES),
    );
  }
  return requires;
}
