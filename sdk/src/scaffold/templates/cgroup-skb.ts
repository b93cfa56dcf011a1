// init template: a cgroup_skb egress program that counts what the cgroup's processes send.
import {
  fileHeader,
  type ProgramTemplate,
  SAMPLE_UDP_PACKET,
  statsMap,
  statsMapDecl,
} from '../program-template.js';

export const cgroupSkbTemplate: ProgramTemplate = {
  id: 'cgroup-skb',
  summary: "counts the packets and bytes a cgroup's processes send (cgroup_skb egress); never drops",
  source: (n) => `${fileHeader("Counts the packets and bytes a cgroup's processes send; never drops.")}
${statsMap(n, 1)}
SEC("cgroup_skb/egress")
int ${n.cName}(struct __sk_buff *skb)
{
  /* skb->len starts at the IP header here. */
  count(0, skb->len);
  /* 1 lets the packet go. */
  return 1;
}
`,
  manifest: (n) => ({
    programs: [{ name: n.cName, attach: { cgroup: '/' } }],
    maps: { stats: statsMapDecl(n, 'direction', { '0': 'egress' }) },
    requires: {
      // Relocates only UAPI types: the package brings its minimized BTF and runs on kernels without BTF too.
      btf: 'core',
      programTypes: ['cgroup_skb'],
      mapTypes: ['percpu_array'],
      capabilities: ['CAP_BPF', 'CAP_NET_ADMIN'],
    },
  }),
  tests: (n) => ({
    tests: [
      {
        name: 'lets a packet go and counts it',
        program: n.cName,
        input: { packet: SAMPLE_UDP_PACKET },
        expect: { return: 1, maps: { stats: [{ key: 0, value: { packets: 1, bytes: 33 } }] } },
      },
      {
        name: 'counts real UDP traffic from a process in the cgroup',
        kind: 'traffic',
        traffic: { udp: { packets: 3, size: 100 } },
        expect: { maps: { stats: [{ key: 0, value: { packets: { min: 3 } } }] } },
      },
    ],
  }),
};
