// The publisher statements of one package in the index, verified against the device's keys for its namespace.
import { type ChannelStatement, type TrustedKey, verifyChannelStatement } from '@bpfleet/sdk/trust';

export interface PackageStatements {
  /** The signed move per channel (the highest serial when several are listed). */
  moves: Map<string, ChannelStatement>;
  /** The latest signed yank or unyank per version. */
  yanks: Map<string, ChannelStatement>;
  /** Why statements were set aside (untrusted key, other package, bad shape), for the refusal message. */
  rejected: string[];
}

export async function verifyPackageStatements(
  pkg: string,
  bundles: readonly unknown[],
  publisherKeys: readonly TrustedKey[],
  now: Date,
): Promise<PackageStatements> {
  const out: PackageStatements = { moves: new Map(), yanks: new Map(), rejected: [] };
  for (const bundle of bundles) {
    let statement: ChannelStatement;
    try {
      ({ statement } = await verifyChannelStatement(bundle, pkg, publisherKeys, now));
    } catch (err) {
      out.rejected.push((err as Error).message);
      continue;
    }
    const [map, key] =
      statement.action === 'move' ? [out.moves, statement.channel!] : [out.yanks, statement.version];
    const known = map.get(key);
    if (!known || known.serial < statement.serial) map.set(key, statement);
  }
  return out;
}

/** Yanked by the registry (an admin's emergency stop, or the publisher's) or by a valid publisher statement. */
export function isYanked(registryFlag: boolean, statements: PackageStatements, version: string): boolean {
  return registryFlag || statements.yanks.get(version)?.action === 'yank';
}
