// `bpfleet inspect <package>`: what a package holds — manifest summary, digests, sizes per file, signer.
import { createReadStream } from 'node:fs';
import type { Command } from 'commander';
import { type UnpackedPackage, unpackArchive } from '../../archive/unpack-archive.js';
import { packageId } from '../../manifest/package-name.js';
import type { Manifest } from '../../manifest/types.js';
import { printResult } from '../output.js';

/** Who signed a package, as the trust module reads it from a Sigstore bundle. */
export interface SignerInfo {
  [field: string]: unknown;
}

/**
 * Reads `--bundle` against the unpacked package. The trust module supplies it when it registers inspect:
 * `register(program, { inspectSigner })`; without it, --bundle is refused as a usage error.
 */
export type SignerInspector = (bundlePath: string, pkg: UnpackedPackage) => Promise<SignerInfo>;

export interface InspectDependencies {
  inspectSigner?: SignerInspector;
}

interface InspectOptions {
  bundle?: string;
  json?: boolean;
}

export function summarize(pkg: UnpackedPackage, signer: SignerInfo | null) {
  const m: Manifest = pkg.manifest;
  return {
    id: packageId(m),
    description: m.description ?? null,
    license: m.license,
    digest: pkg.archiveDigest,
    size: pkg.archiveSize,
    manifestDigest: pkg.manifestDigest,
    requires: m.requires,
    programs: m.programs,
    config: m.config ?? {},
    maps: m.maps ?? {},
    files: [...pkg.files].map(([path, data]) => ({ path, size: data.length })),
    signer,
  };
}

function humanText(s: ReturnType<typeof summarize>): string {
  const r = s.requires;
  const lines = [
    `${s.id}${s.description ? `  ${s.description}` : ''}`,
    `license   ${s.license}`,
    `digest    ${s.digest} (${s.size} bytes)`,
    `manifest  ${s.manifestDigest}`,
    `requires  ${r.arches.join(', ')}${r.kernel ? `; kernel >= ${r.kernel}` : ''}${r.btf === 'core' ? '; BTF (kernel or packaged)' : r.btf ? '; kernel BTF' : ''}` +
      `${r.capabilities?.length ? `; ${r.capabilities.join(', ')}` : ''}`,
    `programs  ${s.programs.map((p) => (p.attach ? `${p.name} ${JSON.stringify(p.attach)}` : p.name)).join(', ')}`,
  ];
  for (const [name, decl] of Object.entries(s.config)) {
    const bounds =
      decl.min !== undefined || decl.max !== undefined ? ` [${decl.min ?? ''}..${decl.max ?? ''}]` : '';
    lines.push(
      `config    ${name}: ${decl.type}${decl.size ? `[${decl.size}]` : ''} = ${String(decl.default)}${bounds}`,
    );
  }
  for (const [name, decl] of Object.entries(s.maps)) {
    const metrics = decl.metrics?.map((m) => m.name).join(', ');
    lines.push(`map       ${name}${decl.persist ? ' (persist)' : ''}${metrics ? ` → ${metrics}` : ''}`);
  }
  lines.push('files');
  for (const f of s.files) lines.push(`  ${f.path.padEnd(40)} ${String(f.size).padStart(10)} bytes`);
  lines.push(...signerLines(s.signer));
  return lines.join('\n');
}

/** The signer as the other lines read: key id, subject, whether the digest matches (the signature is `verify`'s). */
function signerLines(signer: SignerInfo | null): string[] {
  if (!signer) return ['signer    (no --bundle given)'];
  const label: Record<string, string> = {
    keyId: 'key id',
    subject: 'subject',
    payloadType: 'payload',
    digestMatches: 'digest',
    signatureChecked: 'signature',
  };
  const show = (key: string, value: unknown) => {
    if (key === 'digestMatches') return value ? 'matches the archive' : 'DOES NOT match the archive';
    if (key === 'signatureChecked') return value ? 'checked' : 'not checked here (run bpfleet verify)';
    return value === null || value === undefined ? '-' : String(value);
  };
  return [
    'signer',
    ...Object.entries(signer).map(([k, v]) => `  ${(label[k] ?? k).padEnd(10)} ${show(k, v)}`),
  ];
}

export function register(program: Command, deps: InspectDependencies = {}): void {
  program
    .command('inspect')
    .description('Show what a package holds: manifest, digests, file sizes and, with --bundle, its signer')
    .argument('<package>', 'the package file (.bpfleet.tgz)')
    .option('--bundle <file>', 'the Sigstore bundle that signs the package')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, options: InspectOptions, command: Command) => {
      if (options.bundle && !deps.inspectSigner) {
        command.error('bpfleet inspect: --bundle needs the trust module, which this build lacks', {
          exitCode: 2,
        });
      }
      const pkg = await unpackArchive(createReadStream(file), {}, { context: `inspect ${file}` });
      const signer =
        options.bundle && deps.inspectSigner ? await deps.inspectSigner(options.bundle, pkg) : null;
      const summary = summarize(pkg, signer);
      printResult(options, summary, () => humanText(summary));
    });
}
