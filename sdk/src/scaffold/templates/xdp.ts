// init template: an XDP program that counts frames and drops those above a configurable size.
import {
  fileHeader,
  type ProgramTemplate,
  SAMPLE_UDP_PACKET,
  statsMap,
  statsMapDecl,
} from '../program-template.js';

export const xdpTemplate: ProgramTemplate = {
  id: 'xdp',
  summary: 'counts frames and bytes at XDP and drops frames longer than `max_frame` bytes (0: no limit)',
  source: (n) => `${fileHeader('Counts frames at XDP and drops the ones longer than max_frame.')}
/* Longest frame let through, in bytes; 0 lets every frame through. */
const volatile __u32 max_frame = 0;

/* Slots of the stats map. */
enum { SLOT_PASS = 0, SLOT_DROP = 1 };

${statsMap(n, 2)}
SEC("xdp")
int ${n.cName}(struct xdp_md *ctx)
{
  __u64 len = ctx->data_end - ctx->data;

  /* Too long: drop. */
  if (max_frame && len > max_frame) {
    count(SLOT_DROP, len);
    return XDP_DROP;
  }
  count(SLOT_PASS, len);
  return XDP_PASS;
}
`,
  manifest: (n) => ({
    programs: [{ name: n.cName, attach: { interface: 'eth0' } }],
    config: { max_frame: { type: 'u32', default: 0, description: 'Longest frame let through; 0: no limit' } },
    maps: { stats: statsMapDecl(n, 'verdict', { '0': 'pass', '1': 'drop' }) },
    requires: {
      // Relocates only UAPI types: the package brings its minimized BTF and runs on kernels without BTF too.
      btf: 'core',
      programTypes: ['xdp'],
      mapTypes: ['percpu_array'],
      capabilities: ['CAP_BPF', 'CAP_NET_ADMIN'],
    },
  }),
  tests: (n) => ({
    tests: [
      {
        name: 'passes and counts a small frame',
        program: n.cName,
        input: { packet: SAMPLE_UDP_PACKET },
        expect: {
          return: 'XDP_PASS',
          packet: 'unchanged',
          maps: { stats: [{ key: 0, value: { packets: 1 } }] },
        },
      },
      {
        name: 'drops a frame longer than max_frame',
        program: n.cName,
        config: { max_frame: 40 },
        input: { packet: SAMPLE_UDP_PACKET },
        expect: { return: 'XDP_DROP', maps: { stats: [{ key: 1, value: { packets: 1 } }] } },
      },
    ],
  }),
};
