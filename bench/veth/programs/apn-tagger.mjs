// apn-tagger at tcx on the sender's egress (receiver drops in XDP): the sending app tagged (DSCP rewritten), and not.
import { gpdu } from '../packets.mjs';

const APN_ID = 0x12345;

/** apn-tagger with one app in `tagged_apps`: the sender's own cgroup, or one that no socket here belongs to. */
const sender = (tagSender) => async (ctx) => {
  const coll = await ctx.load('apn');
  const tag = Buffer.alloc(8);
  tag.writeUInt32LE(APN_ID, 0);
  tag[4] = 46;
  coll.map('tagged_apps').update(ctx.bpf.u64(tagSender ? ctx.ownCgroupId() : 0xffff_ffff_ffffn), tag);
  return {
    attach: async () => [await ctx.tcx(coll.program('apn_tag'), 'egress')],
    verify: () => {
      const value = coll.map('tagged').lookupPerCpu(ctx.bpf.u32(APN_ID)) ?? [];
      const tagged = Number(value.reduce((sum, v) => sum + ctx.bpf.readU64(v), 0n));
      if (tagSender !== tagged > 0) throw new Error(`apn-tagger tagged ${tagged} packets of the sender`);
      return { tagged };
    },
  };
};

export default {
  program: 'apn-tagger',
  objects: { apn: 'bpf-programs/apn-tagger/apn-tagger.bpf.c' },
  variants: [
    {
      key: 'apnTagged',
      name: 'apn-tagger, tagged app (DSCP set, sender tcx egress)',
      packet: gpdu(0x100),
      sender: sender(true),
      receiver: 'xdp-drop',
    },
    {
      key: 'apnUntagged',
      name: 'apn-tagger, untagged app (sender tcx egress)',
      packet: gpdu(0x100),
      sender: sender(false),
      receiver: 'xdp-drop',
    },
  ],
};
