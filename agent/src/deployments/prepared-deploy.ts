// A package read for one deploy, before any kernel work: manifest, object spec, every listed program's final
// attach target, each checked against the device's allow-list.
import type { PackageContents } from '@bpfleet/sdk/archive';
import { type AttachTarget, type CollectionSpec, hasKernelBtf, loadCollectionSpec } from '@bpfleet/sdk/bpf';
import { BpfError, NotSupportedError } from '@bpfleet/sdk/errors';
import { checkObjectPrograms, type Manifest } from '@bpfleet/sdk/manifest';
import type { DeploySpec } from '../ports.js';
import { type AttachAllow, assertAllowed } from './attach-allow.js';
import { attachTarget } from './attach-targets.js';

export interface PreparedDeploy {
  manifest: Manifest;
  objectSpec: CollectionSpec;
  /** The programs to load: those the manifest lists, less `load: false` ones (never loaded). */
  programs: string[];
  /** By program name, in manifest order: only the programs the manifest lists are attached. */
  targets: Record<string, AttachTarget>;
  /** The package's minimized BTF, from the verified bytes, when the kernel has none: CO-RE relocates against it. */
  btf?: Uint8Array;
}

export function prepareDeploy(
  spec: DeploySpec,
  arch: string,
  allow: AttachAllow,
  cgroupRoot: string,
): PreparedDeploy {
  const { manifest, object } = unpackedPackage(spec, arch);
  const objectSpec = loadCollectionSpec(object);
  // The manifest is the contract: a program it does not list is refused here, before anything loads.
  const programs = checkObjectPrograms(
    manifest,
    objectSpec.programs.map((p) => p.name),
    `deploy ${spec.id} ${manifest.name}@${manifest.version}`,
  );
  const targets: Record<string, AttachTarget> = {};
  for (const name of programs) {
    const program = objectSpec.programs.find((p) => p.name === name);
    if (!program) {
      throw new BpfError(
        'PROGRAM_MISSING',
        `deploy ${spec.id}: program ${name} of the manifest is not in the object`,
      );
    }
    const target = attachTarget(program, manifest, spec.attach, cgroupRoot);
    assertAllowed(`deploy ${spec.id}: program ${name}`, target, allow, cgroupRoot);
    targets[name] = target;
  }
  const btf = hasKernelBtf() ? undefined : (spec.pkg.contents as PackageContents).btf(arch);
  return { manifest, objectSpec, programs, targets, ...(btf && { btf }) };
}

export function unpackedPackage(spec: DeploySpec, arch: string): { manifest: Manifest; object: Uint8Array } {
  const contents = spec.pkg.contents as PackageContents;
  const manifest = spec.pkg.manifest as Manifest;
  const object = contents.object(arch);
  if (!object) {
    throw new NotSupportedError(
      'ARCH_NOT_SUPPORTED',
      `deploy ${spec.id} ${manifest.name}@${manifest.version}: no object for ${arch}`,
    );
  }
  return { manifest, object };
}
