// License strings as the kernel reads them from the object's `license` section.
import { ManifestError } from '../errors.js';

/**
 * The kernel's license_is_gpl_compatible() list, compared exactly as the kernel does (strcmp).
 * SPDX ids such as "GPL-2.0-only" are NOT on it: measured on 6.18, a program whose license section says
 * "GPL-2.0-only" and calls a GPL-only helper is refused ("cannot call GPL-restricted function").
 */
export const KERNEL_GPL_COMPATIBLE_LICENSES = [
  'GPL',
  'GPL v2',
  'GPL and additional rights',
  'Dual BSD/GPL',
  'Dual MIT/GPL',
  'Dual MPL/GPL',
] as const;

export function isGplCompatible(license: string): boolean {
  return (KERNEL_GPL_COMPATIBLE_LICENSES as readonly string[]).includes(license);
}

/** Throws when a program that uses GPL-only helpers carries a license the kernel would not accept for them. */
export function assertGplCompatible(license: string, path = 'license'): void {
  if (isGplCompatible(license)) return;
  const allowed = KERNEL_GPL_COMPATIBLE_LICENSES.map((l) => JSON.stringify(l)).join(', ');
  throw new ManifestError(
    'LICENSE_NOT_GPL_COMPATIBLE',
    path,
    `${JSON.stringify(license)} is not GPL-compatible for the kernel, which GPL-only helpers need (use one of ${allowed})`,
  );
}

/** Printable ASCII, as license strings in objects are (SPDX ids and expressions, or the kernel's own forms). */
export const LICENSE_PATTERN = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;
