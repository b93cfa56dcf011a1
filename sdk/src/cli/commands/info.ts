// `bpfleet info <ns/name[@version]>`: package metadata, channels and versions, or one version.
import type { Command } from 'commander';
import { connectRegistry } from '../../registry-client/connect.js';
import { parsePackageRef } from '../../registry-client/package-ref.js';
import type { PackageInfo, VersionInfo } from '../../registry-client/types.js';
import { printResult } from '../output.js';

interface InfoOptions {
  registry?: string;
  json?: boolean;
}

function versionLine(v: VersionInfo): string {
  const yanked = v.yanked ? `  YANKED${v.yankReason ? ` (${v.yankReason})` : ''}` : '';
  return `  ${v.version.padEnd(16)} ${v.digest}  ${v.size} bytes  ${v.publishedAt}${yanked}`;
}

function packageText(p: PackageInfo): string {
  const channels = Object.entries(p.channels).map(([ch, v]) => `${ch}=${v}`);
  return [
    `${p.package}  ${p.description}`,
    `latest    ${p.latest ?? '(none: every version is yanked)'}`,
    `channels  ${channels.length > 0 ? channels.join(', ') : '(none)'}`,
    'versions',
    ...p.versionList.map(versionLine),
  ].join('\n');
}

function versionText(v: VersionInfo): string {
  return [
    `${v.package}@${v.version}  ${v.description}`,
    `digest    ${v.digest} (${v.size} bytes)`,
    `manifest  ${v.manifestDigest}`,
    `license   ${v.license}`,
    `published ${v.publishedAt}`,
    `yanked    ${v.yanked ? `yes${v.yankReason ? `: ${v.yankReason}` : ''}` : 'no'}`,
  ].join('\n');
}

export function register(program: Command): void {
  program
    .command('info')
    .description('Show a package (versions, channels) or one version from the registry')
    .argument('<package>', 'namespace/name or namespace/name@version')
    .option('--registry <url>', 'registry URL (default: BPFLEET_REGISTRY or the credentials file)')
    .option('--json', 'print the result as JSON')
    .action(async (ref: string, options: InfoOptions) => {
      const pkg = parsePackageRef(ref);
      const client = await connectRegistry(options);
      if (pkg.version) {
        const version = await client.getVersion(pkg.namespace, pkg.name, pkg.version);
        printResult(options, version, () => versionText(version));
      } else {
        const info = await client.getPackage(pkg.namespace, pkg.name);
        printResult(options, info, () => packageText(info));
      }
    });
}
