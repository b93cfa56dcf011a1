// init template: a tcx ingress program that counts IPv4 and IPv6 packets and hands them on.
import {
  fileHeader,
  type ProgramTemplate,
  SAMPLE_UDP_PACKET,
  statsMap,
  statsMapDecl,
} from '../program-template.js';

export const tcxTemplate: ProgramTemplate = {
  id: 'tcx',
  summary: 'counts IPv4, IPv6 and other packets entering an interface (tcx ingress) and passes them on',
  source: (
    n,
  ) => `${fileHeader('Counts packets entering an interface by IP version; never changes a verdict.', '#include <bpf/bpf_endian.h>\n')}
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

/* Slots of the stats map. */
enum { SLOT_IPV4 = 0, SLOT_IPV6 = 1, SLOT_OTHER = 2 };

${statsMap(n, 3)}
SEC("tcx/ingress")
int ${n.cName}(struct __sk_buff *skb)
{
  /* skb->protocol is the EtherType, already parsed by the stack. */
  if (skb->protocol == bpf_htons(ETH_P_IP))
    count(SLOT_IPV4, skb->len);
  else if (skb->protocol == bpf_htons(ETH_P_IPV6))
    count(SLOT_IPV6, skb->len);
  else
    count(SLOT_OTHER, skb->len);
  /* Let the next tcx program, then the stack, decide. */
  return TCX_NEXT;
}
`,
  manifest: (n) => ({
    programs: [{ name: n.cName, attach: { interface: 'eth0' } }],
    maps: { stats: statsMapDecl(n, 'family', { '0': 'ipv4', '1': 'ipv6', '2': 'other' }) },
    requires: {
      // Relocates only UAPI types: the package brings its minimized BTF and runs on kernels without BTF too.
      btf: 'core',
      kernel: '6.6',
      programTypes: ['sched_cls'],
      mapTypes: ['percpu_array'],
      capabilities: ['CAP_BPF', 'CAP_NET_ADMIN'],
    },
  }),
  tests: (n) => ({
    tests: [
      {
        name: 'counts an IPv4 packet and hands it on',
        program: n.cName,
        input: { packet: SAMPLE_UDP_PACKET },
        expect: {
          return: 'TCX_NEXT',
          packet: 'unchanged',
          maps: { stats: [{ key: 0, value: { packets: 1 } }] },
        },
      },
    ],
  }),
};
