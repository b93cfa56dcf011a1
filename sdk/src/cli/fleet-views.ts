// Text views shared by the fleet and policy commands: a device's inventory, a policy's target plan.
import type { DeviceInventory } from '../protocol/inventory.js';
import type { TargetPlan } from '../registry-client/fleet-client.js';

/** `x86 6.18.0 BTF:kernel`: the columns of `fleet status`. */
export function inventoryBrief(inventory: DeviceInventory | null | undefined): string {
  if (!inventory) return '-';
  return `${inventory.arch} ${inventory.kernel.release} BTF:${inventory.btf}`;
}

export function inventoryLines(inventory: DeviceInventory | null | undefined): string[] {
  if (!inventory)
    return ['inventory: none reported yet (an agent older than the inventory, or not connected)'];
  const types = (probed: Record<string, true | string>) =>
    Object.entries(probed).map(([name, answer]) => (answer === true ? name : `!${name} (${answer})`));
  const gib = (inventory.memoryBytes / 2 ** 30).toFixed(1);
  return [
    'inventory:',
    `  arch          ${inventory.arch} (${inventory.endianness}-endian)`,
    `  kernel        ${inventory.kernel.release}  ${inventory.kernel.version}`,
    `  build id      ${inventory.kernel.buildId ?? '-'}`,
    `  BTF           ${inventory.btf}`,
    `  libbpf        ${inventory.libbpf}`,
    `  agent         ${inventory.agentVersion}`,
    `  memory        ${gib} GiB`,
    `  capabilities  ${inventory.capabilities.join(' ') || '-'}`,
    `  program types ${types(inventory.programTypes).join(', ') || '-'}`,
    `  attach types  ${types(inventory.attachTypes).join(', ') || '-'}`,
  ];
}

/** What `policy apply` and `policy diff` print about who the policy reaches. */
export function planLines(plan: TargetPlan): string[] {
  return [
    `reaches ${plan.included.length} device(s)${plan.included.length ? `: ${plan.included.join(', ')}` : ''}`,
    ...plan.excluded.flatMap((d) => [`left out ${d.device}:`, ...d.reasons.map((r) => `  - ${r}`)]),
    ...plan.unknown.flatMap((d) => [
      `cannot tell for ${d.device} (the device decides):`,
      ...d.reasons.map((r) => `  ? ${r}`),
    ]),
  ];
}
