// The operator's side of a policy: the next serial from the edge, signed with the operator key, applied
// through PUT /v1/fleet/policies (the edge verifies it, checks it against the catalog, publishes it retained).
import { type Policy, type PolicyProgram, type PolicyTarget, signPolicy } from '@bpfleet/sdk/policy';
import type { FleetClient } from '@bpfleet/sdk/registry-client';
import type { SigningKey } from '@bpfleet/sdk/trust';

const WEEK_MS = 7 * 86_400_000;

export async function applySignedPolicy(
  fleet: FleetClient,
  operator: SigningKey,
  fleetName: string,
  target: PolicyTarget,
  programs: PolicyProgram[],
): Promise<{ serial: number }> {
  const { nextSerial } = await fleet.currentPolicy(target);
  const policy: Policy = {
    apiVersion: 'bpfleet/v1',
    kind: 'Policy',
    serial: nextSerial,
    expires: new Date(Date.now() + WEEK_MS).toISOString(),
    target,
    fleet: fleetName,
    programs,
  };
  const applied = await fleet.applyPolicy(await signPolicy(policy, operator));
  return { serial: applied.serial };
}
