// What a deploy's outcome depends on in the host: failures remembered under another fingerprint are tried again.
import type { HostProbe as ProbedHost } from '@bpfleet/sdk/bpf';
import { sha256Digest } from '@bpfleet/sdk/digest';

/** Kernel release, arch, BTF source, capabilities and libbpf: a change to any may turn a failure into a success. */
export function hostFingerprint(host: ProbedHost): string {
  return sha256Digest(
    JSON.stringify({
      arch: host.arch,
      kernel: host.kernelRelease,
      btf: host.btf ? 'vmlinux' : 'none',
      capabilities: [...host.capabilities].sort(),
      libbpf: host.libbpf,
    }),
  );
}
