// From manifest defaults and policy overrides to the loader's attach targets and config values.

import { endianness } from 'node:os';
import type { AttachTarget, ProgramSpec } from '@bpfleet/sdk/bpf';
import { BpfError } from '@bpfleet/sdk/errors';
import { encodeConfigValue, type Manifest } from '@bpfleet/sdk/manifest';
import type { ConfigInput, PolicyAttach } from '@bpfleet/sdk/policy';

/** The policy's attach fields override the manifest's defaults for every program of the package. */
export function attachTarget(
  spec: ProgramSpec,
  manifest: Manifest,
  override: PolicyAttach,
  cgroupRoot: string,
): AttachTarget {
  const defaults = manifest.programs.find((p) => p.name === spec.name)?.attach ?? {};
  const a = { ...defaults, ...override };
  const where = `attach ${manifest.name}@${manifest.version} ${spec.name}`;
  switch (spec.attach) {
    case 'xdp':
      if (!a.interface)
        throw new BpfError('ATTACH_TARGET_REQUIRED', `${where}: an XDP program needs an interface`);
      return {
        kind: 'xdp',
        interface: a.interface,
        mode: a.mode === 'driver' || a.mode === 'generic' ? a.mode : 'auto',
      };
    case 'tcx':
    case 'tc':
      if (!a.interface)
        throw new BpfError('ATTACH_TARGET_REQUIRED', `${where}: a ${spec.attach} program needs an interface`);
      return a.direction
        ? { kind: spec.attach, interface: a.interface, direction: a.direction }
        : { kind: spec.attach, interface: a.interface };
    case 'cgroup': {
      const path = a.cgroup ?? '/';
      return {
        kind: 'cgroup',
        path: path.startsWith(cgroupRoot) ? path : `${cgroupRoot}${path === '/' ? '' : path}`,
      };
    }
    default:
      return { kind: 'auto' };
  }
}

// libbpf loads only objects of the host's byte order, so integers in .rodata are in the host's order too.
const HOST_ORDER = endianness() === 'LE' ? 'le' : 'be';

/** Manifest defaults overlaid with the policy's values, each checked against its declaration and encoded. */
export function configValues(
  manifest: Manifest,
  config: Record<string, ConfigInput>,
): Record<string, Uint8Array> {
  const decls = manifest.config ?? {};
  const out: Record<string, Uint8Array> = {};
  for (const name of Object.keys(config)) {
    if (!decls[name])
      throw new BpfError('CONFIG_UNKNOWN', `config ${name}: ${manifest.name} declares no such variable`);
  }
  for (const [name, decl] of Object.entries(decls)) {
    try {
      out[name] = encodeConfigValue(decl, config[name] ?? decl.default, HOST_ORDER);
    } catch (err) {
      throw new BpfError('CONFIG_INVALID', `config ${name}: ${(err as Error).message}`, { cause: err });
    }
  }
  return out;
}
