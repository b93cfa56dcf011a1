// gtpu-lite at XDP on the receiver (a UPF's N3 side): uplink G-PDUs of a known TEID (decapsulated, passed up) and of
// an unknown one (dropped).
import { gpdu } from '../packets.mjs';

const KNOWN_TEID = 0x100;

/** A gtpu-lite attacher; its `stats` slots: 0 decapsulated, 2 unknown TEID. */
const receiver = (slot, counter) => async (ctx) => {
  const coll = await ctx.load('gtpu');
  coll.map('uplink_teids').update(ctx.bpf.u32(KNOWN_TEID), ctx.bpf.u32(1));
  return {
    attach: async () => [await ctx.xdp(coll.program('gtpu_fast_path'))],
    verify: () => ctx.counted(coll.map('stats'), { [counter]: slot }),
  };
};

export default {
  program: 'gtpu-lite',
  objects: { gtpu: 'bpf-programs/gtpu-lite/gtpu-lite.bpf.c' },
  variants: [
    {
      key: 'decap',
      name: 'gtpu-lite uplink decap + pass',
      packet: gpdu(KNOWN_TEID),
      receiver: receiver(0, 'decapsulated'),
    },
    {
      key: 'unknown',
      name: 'gtpu-lite unknown TEID drop',
      packet: gpdu(0x999),
      receiver: receiver(2, 'unknownTeid'),
    },
  ],
};
