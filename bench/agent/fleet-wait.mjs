// The operator's side, timed: a signed policy PUT on the edge, then the fleet API polled until the device reports.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { signPolicy } from '@bpfleet/sdk/policy';

const WEEK_MS = 7 * 86_400_000;
/** Fine enough against latencies of tens of milliseconds, light on the edge. */
const POLL_MS = 10;

/** The device as GET /v1/fleet/devices shows it (with its latest telemetry). */
export async function device(fleet, id) {
  return (await fleet.listDevices()).find((d) => d.id === id);
}

/** Polls until `check(device)` holds; throws with `what` and the last programs seen. */
export async function waitFor(fleet, id, what, check, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await device(fleet, id);
    if (d && check(d)) return d;
    if (Date.now() > deadline) {
      const seen = (d?.programs ?? [])
        .map(
          (p) =>
            `${p.id}=${p.package}@${p.version ?? '-'} ${p.status}${p.lastError ? ` (${p.lastError.code})` : ''}`,
        )
        .join(', ');
      throw new Error(
        `timed out after ${timeoutMs / 1000} s waiting for ${what}; last seen: ${seen || 'no programs'}`,
      );
    }
    await sleep(POLL_MS);
  }
}

/**
 * Signs the policy first (not timed), then times from the PUT until `check` holds on the device.
 * Returns the milliseconds.
 */
export async function applyTimed(ctx, programs, what, check, timeoutMs) {
  const { fleet, operatorKey, fleetName, deviceId } = ctx;
  const target = { device: deviceId };
  const { nextSerial } = await fleet.currentPolicy(target);
  const policy = {
    apiVersion: 'bpfleet/v1',
    kind: 'Policy',
    serial: nextSerial,
    expires: new Date(Date.now() + WEEK_MS).toISOString(),
    target,
    fleet: fleetName,
    programs,
  };
  const signed = await signPolicy(policy, operatorKey);
  const t0 = performance.now();
  await fleet.applyPolicy(signed);
  await waitFor(fleet, deviceId, what, check, timeoutMs);
  return performance.now() - t0;
}

export const program = (d, id) => d.programs.find((p) => p.id === id);
export const attached = (d, id, version) => {
  const p = program(d, id);
  return p?.status === 'ATTACHED' && (version === undefined || p.version === version);
};

/** Slot 0 of a deployment's `packets` counter in the latest telemetry, and that telemetry's time. */
export function packets(d, id) {
  const m = (d.telemetry?.metrics ?? []).find(
    (x) => x.deployment === id && x.name.endsWith('packets') && x.key === 'slot=0',
  );
  return { value: m?.value, time: d.telemetry?.time };
}
