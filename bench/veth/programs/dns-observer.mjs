// dns-observer at tcx: DNS queries and other UDP leaving the sender (receiver drops in XDP), and DNS queries arriving
// at the receiver (behind XDP_PASS, so the veth receive path is that of the xdp-pass baseline).
import { dnsQuery, gpdu } from '../packets.mjs';

/** dns-observer's `dns_stats` slots: 0 queries, 3 malformed. */
const observer = (direction, expectQueries) => async (ctx) => {
  const coll = await ctx.load('dns');
  const program = coll.program(`dns_${direction}`);
  return {
    attach: async () =>
      direction === 'ingress'
        ? [await ctx.baseline('xdp-pass'), await ctx.tcx(program, 'ingress')]
        : [await ctx.tcx(program, 'egress')],
    verify: () => {
      const counts = ctx.counted(coll.map('dns_stats'), { queries: 0, malformed: 3 }, []);
      if (expectQueries !== counts.queries > 0 || counts.malformed > 0)
        throw new Error(`dns-observer counted ${JSON.stringify(counts)}`);
      return counts;
    },
  };
};

export default {
  program: 'dns-observer',
  objects: { dns: 'bpf-programs/dns-observer/dns-observer.bpf.c' },
  variants: [
    {
      key: 'dnsEgressQuery',
      name: 'dns-observer egress, DNS queries (sender tcx)',
      packet: dnsQuery(),
      sender: observer('egress', true),
      receiver: 'xdp-drop',
    },
    {
      key: 'dnsEgressOther',
      name: 'dns-observer egress, other UDP (sender tcx)',
      packet: gpdu(0x100),
      sender: observer('egress', false),
      receiver: 'xdp-drop',
    },
    {
      key: 'dnsIngressQuery',
      name: 'dns-observer ingress, DNS queries (receiver tcx)',
      packet: dnsQuery(),
      receiver: observer('ingress', true),
    },
  ],
};
