// xdp-firewall at XDP on the receiver: empty, with 10,000 prefixes (the /16 prefilter filled, as its writer keeps it)
// that miss the sender, and with the sender's /24 among them (every packet dropped).
import { blocklistKeys, fillBlocklist, prefixKey } from '../../programs/blocklist.mjs';
import { VETH } from '../network.mjs';
import { gpdu } from '../packets.mjs';

const PREFIXES = 10_000;
const senderSlash24 = () => {
  const [a, b, c] = VETH.senderAddress.split('.').map(Number);
  return prefixKey(((a << 24) | (b << 16) | (c << 8)) >>> 0, 24);
};

/** A firewall with the prefixes `keys()` gives; `verdicts` slots: 0 pass, 1 drop (blocklist). */
const receiver = (keys, slot, counter) => async (ctx) => {
  const coll = await ctx.load('firewall');
  const prefixes = keys();
  if (prefixes.length > 0) fillBlocklist(coll, prefixes);
  return {
    attach: async () => [await ctx.xdp(coll.program('xdp_firewall'))],
    verify: () => ctx.counted(coll.map('verdicts'), { [counter]: slot }),
  };
};

export default {
  program: 'xdp-firewall',
  objects: { firewall: 'bpf-programs/xdp-firewall/xdp-firewall.bpf.c' },
  variants: [
    {
      key: 'firewallEmpty',
      name: 'xdp-firewall, empty blocklist, rate limit off',
      packet: gpdu(0x100),
      receiver: receiver(() => [], 0, 'passed'),
    },
    {
      key: 'firewall10k',
      name: `xdp-firewall, ${PREFIXES} IPv4 prefixes, rate limit off`,
      packet: gpdu(0x100),
      receiver: receiver(() => blocklistKeys(PREFIXES), 0, 'passed'),
    },
    {
      key: 'firewall10kDrop',
      name: `xdp-firewall, ${PREFIXES} IPv4 prefixes incl. the sender's /24 (drop)`,
      packet: gpdu(0x100),
      receiver: receiver(() => [...blocklistKeys(PREFIXES - 1), senderSlash24()], 1, 'droppedBlocklist'),
    },
  ],
};
