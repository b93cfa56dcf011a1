// The receivers every figure is compared with: bare XDP_DROP and XDP_PASS programs on the receiver's veth.
import { gpdu } from '../packets.mjs';

export default {
  program: 'baselines',
  objects: {},
  variants: [
    { key: 'xdpDrop', name: 'xdp-drop (baseline)', packet: gpdu(0x100), receiver: 'xdp-drop' },
    { key: 'xdpPass', name: 'xdp-pass (baseline)', packet: gpdu(0x100), receiver: 'xdp-pass' },
  ],
};
