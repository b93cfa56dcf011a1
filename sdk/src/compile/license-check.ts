// The license rules the kernel applies at load time, checked at build time against the manifest.
import type { BuildIssue } from './build-issue.js';

/** The strings the kernel's license_is_gpl_compatible() accepts, exactly. */
const KERNEL_GPL_LICENSES = new Set([
  'GPL',
  'GPL v2',
  'GPL and additional rights',
  'Dual BSD/GPL',
  'Dual MIT/GPL',
  'Dual MPL/GPL',
]);

/** Helpers the kernel marks gpl_only, by id (see bpf_helper_defs.h): a non-GPL program using one fails to load. */
export const GPL_ONLY_HELPERS: ReadonlyMap<number, string> = new Map([
  [4, 'bpf_probe_read'],
  [6, 'bpf_trace_printk'],
  [25, 'bpf_perf_event_output'],
  [27, 'bpf_get_stackid'],
  [35, 'bpf_get_current_task'],
  [36, 'bpf_probe_write_user'],
  [45, 'bpf_probe_read_str'],
  [58, 'bpf_override_return'],
  [67, 'bpf_get_stack'],
  [109, 'bpf_send_signal'],
  [111, 'bpf_skb_output'],
  [112, 'bpf_probe_read_user'],
  [113, 'bpf_probe_read_kernel'],
  [114, 'bpf_probe_read_user_str'],
  [115, 'bpf_probe_read_kernel_str'],
  [117, 'bpf_send_signal_thread'],
  [119, 'bpf_read_branch_records'],
  [121, 'bpf_xdp_output'],
  [126, 'bpf_seq_printf'],
  [127, 'bpf_seq_write'],
  [147, 'bpf_d_path'],
  [148, 'bpf_copy_from_user'],
  [149, 'bpf_snprintf_btf'],
  [150, 'bpf_seq_printf_btf'],
  [158, 'bpf_get_current_task_btf'],
  [166, 'bpf_sys_bpf'],
  [177, 'bpf_trace_vprintk'],
  [180, 'bpf_find_vma'],
  [191, 'bpf_copy_from_user_task'],
]);

export function isKernelGplLicense(license: string): boolean {
  return KERNEL_GPL_LICENSES.has(license);
}

export interface LicenseFacts {
  /** The manifest's license: the exact string of the object's license section. */
  manifestLicense: string;
  /** The object's `license` section, undefined when it has none. */
  objectLicense: string | undefined;
  helperIds: ReadonlySet<number>;
  /** The kernel's license_is_gpl_compatible() (the manifest module's `isGplCompatible`). */
  isGplCompatible: (license: string) => boolean;
}

export function checkLicense(facts: LicenseFacts): BuildIssue[] {
  const { manifestLicense, objectLicense } = facts;
  if (objectLicense === undefined) {
    return [
      {
        severity: 'error',
        code: 'LICENSE_MISSING',
        message: 'the object has no license section: add char LICENSE[] SEC("license") = "...";',
      },
    ];
  }
  const issues: BuildIssue[] = [];
  // The manifest states the license section's exact string, so the registry can show what the kernel sees.
  if (objectLicense !== manifestLicense) {
    issues.push({
      severity: 'error',
      code: 'LICENSE_MISMATCH',
      message: `license: the code's license section says ${JSON.stringify(objectLicense)} but the manifest says ${JSON.stringify(manifestLicense)}`,
    });
  }
  const objectGpl = facts.isGplCompatible(objectLicense);
  const gplOnly = [...facts.helperIds].flatMap((id) => GPL_ONLY_HELPERS.get(id) ?? []).sort();
  if (!objectGpl && gplOnly.length > 0) {
    issues.push({
      severity: 'error',
      code: 'GPL_ONLY_HELPERS',
      message: `license: "${objectLicense}" is not GPL-compatible but the code calls GPL-only helpers: ${gplOnly.join(', ')}; the kernel would refuse to load it`,
    });
  }
  return issues;
}
