// HostProbe over the sdk's probe of this host: every unmet `requires` entry of a package, one line each.
import type { HostRequirements, HostProbe as ProbedHost } from '@bpfleet/sdk/bpf';
import type { Manifest } from '@bpfleet/sdk/manifest';
import type { HostProbe, VerifiedPackage } from '../ports.js';
import { hostFingerprint } from './host-fingerprint.js';

export type CheckRequires = (
  requires: HostRequirements,
  probe: ProbedHost,
) => ReadonlyArray<{ message: string }>;

export class KernelProbe implements HostProbe {
  constructor(
    private readonly host: ProbedHost,
    private readonly check: CheckRequires,
  ) {}

  async missing(pkg: VerifiedPackage): Promise<string[]> {
    const manifest = pkg.manifest as Manifest;
    return this.check(manifest.requires as HostRequirements, this.host).map((u) => u.message);
  }

  fingerprint(): string {
    return hostFingerprint(this.host);
  }
}
