// The edge policy key's bound: an edge-signed policy may only pin what the operators' threshold-signed grants allow.
import semver from 'semver';
import { PolicyError } from '../errors.js';
import type { Policy, PolicyProgram, PolicyTarget } from './policy.js';

const describe = (t: PolicyTarget) => ('device' in t ? `device ${t.device}` : `group ${t.group}`);
const selector = (p: PolicyProgram) =>
  p.channel !== undefined ? `channel:${p.channel}` : (p.version ?? '*');

/**
 * Throws POLICY_NOT_ALLOWED unless every program of the edge-signed `policy` is one of its grants' programs (same
 * id, package, attach, config and maps) at the grant's own version or channel, or at an exact version inside the
 * grant's own version range or its `allow` range for that package. A grant applies to its own target, and to a device of its group:
 * `groups` are the receiving device's groups (absent at the edge, which predicts and does not know better).
 */
export function assertWithinGrants(
  policy: Policy,
  grants: readonly Policy[],
  groups?: readonly string[],
): void {
  const at = `policy serial ${policy.serial} for ${describe(policy.target)} (signed by the edge key)`;
  const refuse = (why: string): never => {
    throw new PolicyError('POLICY_NOT_ALLOWED', `${at}: ${why}`);
  };
  if (grants.length === 0)
    refuse('carries no operator policy that allows it; the edge key alone authorizes nothing');
  for (const grant of grants) {
    const what = `its grant (operator policy serial ${grant.serial} for ${describe(grant.target)})`;
    if (grant.grants !== undefined) refuse(`${what} is itself edge-signed`);
    if (grant.fleet !== policy.fleet) refuse(`${what} is for fleet ${grant.fleet}`);
    if (!appliesTo(grant.target, policy.target, groups)) {
      refuse(`${what} does not cover ${describe(policy.target)}`);
    }
  }
  const latest = Math.max(...grants.map((g) => Date.parse(g.expires)));
  if (Date.parse(policy.expires) > latest) {
    refuse(
      `expires ${policy.expires}, after every grant it carries (latest ${new Date(latest).toISOString()})`,
    );
  }
  for (const program of policy.programs) {
    if (grants.some((g) => allows(g, program))) continue;
    const ranges = grants
      .flatMap((g) => (g.allow ?? []).filter((a) => a.package === program.package).map((a) => a.versions))
      .map((r) => `"${r}"`);
    refuse(
      `program ${program.id} ${program.package}@${selector(program)} is not allowed by the operators' policies` +
        (ranges.length > 0
          ? ` (they allow ${program.package} ${ranges.join(', ')})`
          : ` (no allowance for ${program.package})`) +
        '; what runs stays',
    );
  }
}

function appliesTo(grant: PolicyTarget, target: PolicyTarget, groups?: readonly string[]): boolean {
  if ('device' in grant) return 'device' in target && grant.device === target.device;
  if ('group' in target) return target.group === grant.group;
  return groups === undefined || groups.includes(grant.group);
}

function allows(grant: Policy, program: PolicyProgram): boolean {
  return grant.programs.some((g) => {
    if (g.id !== program.id || g.package !== program.package || !sameSettings(g, program)) return false;
    if (selector(g) === selector(program)) return true;
    const version = program.version;
    if (version === undefined || semver.valid(version) !== version) return false;
    // The grant's own range (`^1`) already allows each version in it; `allow` widens it (an exact pin, a channel).
    if (g.version !== undefined && semver.satisfies(version, g.version)) return true;
    return (grant.allow ?? []).some(
      (a) => a.package === program.package && semver.satisfies(version, a.versions),
    );
  });
}

function sameSettings(a: PolicyProgram, b: PolicyProgram): boolean {
  const settings = (p: PolicyProgram) => canonical({ attach: p.attach, config: p.config, maps: p.maps });
  return settings(a) === settings(b);
}

/** JSON with sorted object keys, so the same settings compare equal whatever order they were written in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
