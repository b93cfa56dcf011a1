// Which targeted devices a policy reaches, judged on their inventory: its target.where and each package's requires.
import type { Manifest, Requires } from '@bpfleet/sdk/manifest';
import { matchSelector, type Policy, unmetKernel } from '@bpfleet/sdk/policy';
import type { DeviceInventory } from '@bpfleet/sdk/protocol';
import type { DeviceRecord } from '../fleet-store.js';

/** A device left out (`excluded`) or that the edge cannot judge (`unknown`: the device decides), and why. */
export interface DeviceVerdict {
  device: string;
  reasons: string[];
}

/**
 * The edge predicts; the device decides (it knows its inventory for certain and probes what is not in it).
 * The signed policy is published whatever the plan says: an excluded device must still see the new serial, so
 * what an older policy ran there goes.
 */
export interface TargetPlan {
  included: string[];
  excluded: DeviceVerdict[];
  unknown: DeviceVerdict[];
}

/** One program entry's package as a device resolving it now would get it. */
export interface ResolvedEntry {
  id: string;
  package: string;
  version: string;
  manifest: Manifest;
}

/** Each line reads after "program fw: acme/x@1.0.0 needs ". */
function unmetRequires(
  requires: Requires,
  inv: DeviceInventory,
  out: { excluded: string[]; unknown: string[] },
) {
  const excluded: string[] = [];
  if (requires.arches.length > 0 && !requires.arches.includes(inv.arch as Requires['arches'][number]))
    excluded.push(`arch ${requires.arches.join(' or ')} (device is ${inv.arch})`);
  if (requires.kernel && unmetKernel(inv.kernel.release, `>=${requires.kernel}`).length > 0)
    excluded.push(`kernel ${requires.kernel} or newer (device runs ${inv.kernel.release})`);
  // `core`: the package carries its own minimized BTF, any kernel will do.
  if (requires.btf === true && inv.btf === 'none') excluded.push('the kernel BTF (device has none)');
  for (const type of requires.programTypes ?? []) {
    const answer = inv.programTypes[type];
    if (answer === undefined) out.unknown.push(`program type ${type} (not probed yet)`);
    else if (answer !== true) excluded.push(`program type ${type} (${answer})`);
  }
  for (const cap of requires.capabilities ?? []) {
    if (!inv.capabilities.includes(cap)) excluded.push(`capability ${cap}`);
  }
  return excluded;
}

export function planTarget(policy: Policy, devices: DeviceRecord[], entries: ResolvedEntry[]): TargetPlan {
  const plan: TargetPlan = { included: [], excluded: [], unknown: [] };
  for (const device of devices) {
    const inventory = device.reported?.inventory;
    if (!inventory) {
      plan.unknown.push({ device: device.id, reasons: ['no inventory reported yet'] });
      continue;
    }
    const verdict = policy.target.where
      ? matchSelector(policy.target.where, inventory)
      : { excluded: [], unknown: [] };
    const excluded = verdict.excluded.map((r) => `target.where: ${r}`);
    const unknown = verdict.unknown.map((r) => `target.where: ${r}`);
    for (const entry of entries) {
      const at = `program ${entry.id}: ${entry.package}@${entry.version} needs`;
      const notes = { excluded: [] as string[], unknown: [] as string[] };
      excluded.push(...unmetRequires(entry.manifest.requires, inventory, notes).map((r) => `${at} ${r}`));
      unknown.push(...notes.unknown.map((r) => `${at} ${r}`));
    }
    if (excluded.length > 0) plan.excluded.push({ device: device.id, reasons: excluded });
    else if (unknown.length > 0) plan.unknown.push({ device: device.id, reasons: unknown });
    else plan.included.push(device.id);
  }
  return plan;
}
