// The shape of an init template, and the parts every template shares (file header, counter map, metrics).

export const TEMPLATE_IDS = ['xdp', 'tcx', 'cgroup-skb', 'sockops', 'tracepoint'] as const;
export type TemplateId = (typeof TEMPLATE_IDS)[number];

/** The names one program goes by: package `acme/edge-count`, folder and file `edge-count`, C `edge_count`. */
export interface TemplateNames {
  packageName: string;
  fileName: string;
  cName: string;
}

export interface ProgramTemplate {
  id: TemplateId;
  /** One line for the README: what the generated program does. */
  summary: string;
  source(names: TemplateNames): string;
  /** The manifest fields that depend on the template (programs, config, maps, requires). */
  manifest(names: TemplateNames): Record<string, unknown>;
  /** The declarative tests (`tests.json`). */
  tests(names: TemplateNames): Record<string, unknown>;
}

export function fileHeader(what: string, extraIncludes = ''): string {
  return `// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* ${what} */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
${extraIncludes}
char LICENSE[] SEC("license") = "Dual BSD/GPL";
`;
}

/** A per-CPU array of packet and byte counters: the first map most programs need. */
export function statsMap(names: TemplateNames, slots: number): string {
  return `struct ${names.cName}_stats {
  __u64 packets;
  __u64 bytes;
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, ${slots});
  __type(key, __u32);
  __type(value, struct ${names.cName}_stats);
} stats SEC(".maps");

static __always_inline void count(__u32 slot, __u64 bytes)
{
  struct ${names.cName}_stats *s = bpf_map_lookup_elem(&stats, &slot);

  if (s) {
    s->packets++;
    s->bytes += bytes;
  }
}
`;
}

/** The manifest entry for `stats`, exporting both counters as Prometheus metrics. */
export function statsMapDecl(names: TemplateNames, slotLabel: string, slotNames: Record<string, string>) {
  const metric = (field: 'packets' | 'bytes') => ({
    name: `${names.cName}_${field}_total`,
    type: 'counter',
    help: `${field === 'packets' ? 'Packets' : 'Bytes'} seen, by ${slotLabel}`,
    value: field,
    labels: { [slotLabel]: 'key' },
    labelValues: { [slotLabel]: slotNames },
    perCpu: 'sum',
  });
  return {
    // Counters outlive upgrades: a new version takes over the map instead of starting from zero.
    persist: true,
    layout: { key: 'u32', value: { packets: 'u64', bytes: 'u64' } },
    metrics: [metric('packets'), metric('bytes')],
    description: `Packets and bytes by ${slotLabel}`,
  };
}

/** A minimal IPv4/UDP packet for the generated tests, in the test runner's packet builder form. */
export const SAMPLE_UDP_PACKET = {
  eth: {},
  ipv4: { src: '198.18.0.1', dst: '198.18.0.2' },
  udp: { src: 40000, dst: 9000 },
  payload: '68656c6c6f',
};
