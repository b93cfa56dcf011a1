// Child of the no-BTF probe test, run where /sys/kernel/btf is hidden: prints what the host probe says about BTF.
import { probeHost } from '../probe.js';

const probe = probeHost();
process.stdout.write(
  JSON.stringify({
    btf: probe.btf,
    btfSource: probe.btfSource,
    tracing: probe.supports('programType', 'tracing'),
    fentry: probe.supports('attachType', 'trace_fentry'),
    lsm: probe.supports('attachType', 'lsm_mac'),
    xdp: probe.supports('programType', 'xdp'),
  }),
);
