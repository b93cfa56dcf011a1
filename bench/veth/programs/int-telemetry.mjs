// int-telemetry at tcx: the source stamping on the sender's egress (receiver drops in XDP), and the source feeding
// the sink on the receiver's ingress (behind XDP_PASS, so the veth receive path is that of the xdp-pass baseline).
import { gpdu } from '../packets.mjs';

/** The source on the sender's egress; `int_stats` slot 0 counts stamped packets. */
const source = async (ctx) => {
  const coll = await ctx.load('int');
  return {
    attach: async () => [await ctx.tcx(coll.program('int_source'), 'egress')],
    verify: () => ctx.counted(coll.map('int_stats'), { stamped: 0, skipped: 1 }, ['stamped']),
  };
};

export default {
  program: 'int-telemetry',
  objects: { int: 'bpf-programs/int-telemetry/int-telemetry.bpf.c' },
  variants: [
    {
      key: 'intSource',
      name: 'int-telemetry source (stamp, sender tcx egress)',
      packet: gpdu(0x100),
      sender: source,
      receiver: 'xdp-drop',
    },
    {
      key: 'intSink',
      name: 'int-telemetry source + sink (strip, record at receiver tcx ingress)',
      packet: gpdu(0x100),
      sender: source,
      // `int_stats` slot 2 counts stripped packets, 3 bad shims.
      receiver: async (ctx) => {
        const coll = await ctx.load('int');
        return {
          attach: async () => [
            await ctx.baseline('xdp-pass'),
            await ctx.tcx(coll.program('int_sink'), 'ingress'),
          ],
          verify: () => ctx.counted(coll.map('int_stats'), { stripped: 2, badShim: 3 }, ['stripped']),
        };
      },
    },
  ],
};
