// Reads an operator's policy file for signing; serial and expires may be left out and are filled in.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { PolicyError } from '../../errors.js';
import { toPolicy } from '../../policy/parse-policy.js';
import type { Policy } from '../../policy/policy.js';
import type { FleetClient } from '../../registry-client/fleet-client.js';

const DAY_MS = 86_400_000;

/** A missing serial is the edge's next one for the target (asked only then); a missing expiry is days from now. */
export async function readPolicyFile(
  file: string,
  fleet: () => Promise<FleetClient>,
  expiresInDays: number,
): Promise<Policy> {
  let doc: unknown;
  try {
    doc = parseYaml(await readFile(file, 'utf8'));
  } catch (err) {
    throw new PolicyError('POLICY_UNREADABLE', `policy ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new PolicyError('POLICY_UNREADABLE', `policy ${file}: expected a mapping at the top`);
  }
  const draft: Record<string, unknown> = {
    apiVersion: 'bpfleet/v1',
    kind: 'Policy',
    ...(doc as Record<string, unknown>),
  };
  if (draft.serial === undefined) {
    const target = toPolicy({ ...draft, serial: 1, expires: new Date().toISOString() }).target;
    draft.serial = (await (await fleet()).currentPolicy(target)).nextSerial;
  }
  if (draft.expires === undefined)
    draft.expires = new Date(Date.now() + expiresInDays * DAY_MS).toISOString();
  return toPolicy(draft);
}
