// The fleet as a table: devices, programs, versions, status, and the counters from their latest telemetry.
import type { Telemetry } from '@bpfleet/sdk/protocol';
import type { DeviceSummary } from '@bpfleet/sdk/registry-client';

/** What GET /v1/fleet/devices returns per device (the summary plus the latest telemetry). */
export type DeviceView = DeviceSummary & { telemetry: Telemetry | null };

/**
 * Counters of one deployment from a device's telemetry: `metric{key}` → value, the metric named short
 * (`bpfleet_xdp_firewall_packets_total` of bpfleet/xdp-firewall → `packets`).
 */
export function deploymentCounters(device: DeviceView, deployment: string): Map<string, number> {
  const out = new Map<string, number>();
  const pkg = device.programs.find((p) => p.id === deployment)?.package ?? '';
  // Metrics carry their package's name (`acme_count_packets_total`, `bpfleet_xdp_firewall_…`): shown without it.
  const [ns = '', name_ = ''] = pkg.replaceAll('-', '_').split('/');
  const prefixes = [`${ns}_${name_}_`, `${name_}_`].filter((p) => p !== '__' && p !== '_');
  for (const m of device.telemetry?.metrics ?? []) {
    if (m.deployment !== deployment) continue;
    let name = m.name.replace(/^bpfleet_/, '').replace(/_total$/, '');
    const own = prefixes.find((p) => name.startsWith(p) && name.length > p.length);
    if (own) name = name.slice(own.length);
    out.set(m.key ? `${name}{${m.key}}` : name, m.value);
  }
  return out;
}

/** The non-zero counters, compact (`packets{verdict=pass}=12`), or `-`. */
function countersCell(counters: Map<string, number>): string {
  const parts = [...counters].filter(([, v]) => v !== 0).map(([k, v]) => `${k}=${v}`);
  return parts.length > 0 ? parts.join(' ') : '-';
}

/** One row per device and program, then each program's last error on its own line. */
export function fleetTable(devices: DeviceView[]): string[] {
  if (devices.length === 0) return ['(no devices registered yet)'];
  const rows = [['DEVICE', 'PRESENCE', 'PROGRAM', 'PACKAGE', 'VERSION', 'STATUS', 'COUNTERS']];
  const errors: string[] = [];
  for (const d of devices) {
    const programs = d.programs.length > 0 ? d.programs : [null];
    for (const p of programs) {
      rows.push([
        d.id,
        d.presence,
        p?.id ?? '-',
        p?.package ?? '-',
        p?.version ?? '-',
        p?.status ?? '(waiting for the device)',
        p ? countersCell(deploymentCounters(d, p.id)) : '-',
      ]);
      if (p?.lastError) errors.push(`  ${d.id}/${p.id}: ${p.lastError.code}: ${p.lastError.message}`);
    }
    for (const [topic, e] of Object.entries(d.policyErrors))
      errors.push(`  ${d.id} policy ${topic}: ${e.code}: ${e.message}`);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
  return errors.length > 0 ? [...lines, 'last errors:', ...errors] : lines;
}
