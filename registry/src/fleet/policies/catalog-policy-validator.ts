// Checks a policy against the catalog before it is sent: packages and versions exist, config values
// and map entries fit the manifest's declarations, attach points fit what the program's SEC() type can use.
import { RegistryError } from '@bpfleet/sdk/errors';
import { parseManifest, splitPackageName, validateConfigValue } from '@bpfleet/sdk/manifest';
import { encodePolicyMaps, type Policy, PolicyFieldError, type PolicyProgram } from '@bpfleet/sdk/policy';
import semver from 'semver';
import type { Catalog, VersionRecord } from '../../catalog/catalog.js';
import type { PolicyValidator } from './policy-service.js';

function invalid(path: string, message: string): never {
  throw new RegistryError('POLICY_INVALID', `policy ${path}: ${message}`);
}

/** The versions a program entry can resolve to now (a channel's target, or the range's matches). */
async function candidates(catalog: Catalog, entry: PolicyProgram, path: string): Promise<VersionRecord[]> {
  const { namespace, name } = splitPackageName(entry.package);
  if (!(await catalog.getPackage(namespace, name)))
    invalid(`${path}.package`, `${entry.package} is not in the registry`);
  const versions = (await catalog.listVersions(namespace, name)).filter((v) => !v.yanked);
  if (entry.channel !== undefined) {
    const channel = (await catalog.listChannels(namespace, name)).find((c) => c.channel === entry.channel);
    if (!channel) invalid(`${path}.channel`, `${entry.package} has no channel ${entry.channel}`);
    return versions.filter((v) => v.version === channel.version);
  }
  const range = entry.version ?? '*';
  const matching = versions.filter((v) => semver.satisfies(v.version, range));
  if (matching.length === 0)
    invalid(`${path}.version`, `no published, unyanked version of ${entry.package} matches ${range}`);
  return matching;
}

/** The version a device resolving `entry` now would get (the newest candidate), with its manifest. */
export async function newestCandidate(
  catalog: Catalog,
  entry: PolicyProgram,
  path: string,
): Promise<VersionRecord | undefined> {
  return (await candidates(catalog, entry, path)).sort((a, b) => semver.rcompare(a.version, b.version))[0];
}

export function createCatalogPolicyValidator(catalog: Catalog): PolicyValidator {
  return {
    async validate(policy: Policy) {
      for (const [i, entry] of policy.programs.entries()) {
        const path = `programs[${i}]`;
        // Check against the newest candidate: that is what a device resolving the entry now will get.
        const newest = await newestCandidate(catalog, entry, path);
        if (!newest) continue;
        const manifest = parseManifest(newest.manifest);
        for (const [name, value] of Object.entries(entry.config ?? {})) {
          const decl = manifest.config?.[name];
          if (!decl) {
            const known = Object.keys(manifest.config ?? {}).join(', ') || 'none';
            invalid(
              `${path}.config.${name}`,
              `${entry.package}@${newest.version} has no config variable ${name} (it has: ${known})`,
            );
          }
          try {
            validateConfigValue(decl, value, `${path}.config.${name}`);
          } catch (err) {
            invalid(`${path}.config.${name}`, `${(err as Error).message}`);
          }
        }
        try {
          encodePolicyMaps(manifest, entry.maps, `${path}.maps`);
        } catch (err) {
          if (err instanceof PolicyFieldError) throw new RegistryError('POLICY_INVALID', err.message);
          throw err;
        }
        const attach = entry.attach;
        if (attach?.mode !== undefined && attach.mode !== 'driver' && attach.mode !== 'generic') {
          invalid(`${path}.attach.mode`, `expected driver or generic, got ${JSON.stringify(attach.mode)}`);
        }
        if (attach?.interface !== undefined && attach.cgroup !== undefined) {
          invalid(`${path}.attach`, 'give an interface or a cgroup, not both');
        }
      }
    },
  };
}
