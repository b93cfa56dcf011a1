// init template: a sockops program that counts TCP connections a cgroup opens and accepts.
import { fileHeader, type ProgramTemplate } from '../program-template.js';

export const sockopsTemplate: ProgramTemplate = {
  id: 'sockops',
  summary: 'counts the TCP connections a cgroup opens and accepts (sockops)',
  source: (n) => `${fileHeader('Counts the TCP connections a cgroup opens (active) and accepts (passive).')}
/* Slots of the connections map. */
enum { SLOT_ACTIVE = 0, SLOT_PASSIVE = 1 };

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, __u64);
} connections SEC(".maps");

SEC("sockops")
int ${n.cName}(struct bpf_sock_ops *ops)
{
  __u32 slot;
  __u64 *c;

  /* Only the two "established" callbacks count; every other op is left alone. */
  if (ops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB)
    slot = SLOT_ACTIVE;
  else if (ops->op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
    slot = SLOT_PASSIVE;
  else
    return 1;
  c = bpf_map_lookup_elem(&connections, &slot);
  if (c)
    (*c)++;
  return 1;
}
`,
  manifest: (n) => ({
    programs: [{ name: n.cName, attach: { cgroup: '/' } }],
    maps: {
      connections: {
        persist: true,
        layout: { key: 'u32', value: 'u64' },
        metrics: [
          {
            name: `${n.cName}_connections_total`,
            type: 'counter',
            help: 'TCP connections established, by side',
            labels: { side: 'key' },
            labelValues: { side: { '0': 'active', '1': 'passive' } },
            perCpu: 'sum',
          },
        ],
        description: 'Established TCP connections by side',
      },
    },
    requires: {
      // Relocates only UAPI types: the package brings its minimized BTF and runs on kernels without BTF too.
      btf: 'core',
      programTypes: ['sock_ops'],
      mapTypes: ['percpu_array'],
      capabilities: ['CAP_BPF', 'CAP_NET_ADMIN'],
    },
  }),
  tests: () => ({
    tests: [
      {
        name: 'counts both ends of real TCP connections in the cgroup',
        kind: 'traffic',
        traffic: { tcp: { connections: 2 } },
        expect: {
          maps: {
            connections: [
              { key: 0, value: { min: 2 } },
              { key: 1, value: { min: 2 } },
            ],
          },
        },
      },
    ],
  }),
};
