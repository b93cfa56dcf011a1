// The registry's signed index as an IndexSource: signature, expiry, serial never backwards, version resolution.
import { RegistryError, TrustError } from '@bpfleet/sdk/errors';
import { INDEX_PAYLOAD_TYPE, type TrustedKey, verifyDocument } from '@bpfleet/sdk/trust';
import semver from 'semver';
import type { IndexSource, PackageRef } from '../ports.js';

interface IndexVersion {
  digest: string;
  size: number;
  manifestDigest?: string;
  yanked: boolean;
}

export interface IndexDocument {
  schema: 'bpfleet.index/v1';
  serial: number;
  expires: string;
  packages: Record<string, { versions: Record<string, IndexVersion>; channels: Record<string, string> }>;
}

export interface RegistryIndexOptions {
  registryUrl: string;
  registryKeys: readonly TrustedKey[];
  /** The highest serial seen before (persisted): an index below it is a rollback attack. */
  lastSerial?: number;
  onSerial?: (serial: number) => void;
  now?: () => Date;
  fetch?: typeof fetch;
}

export class RegistryIndex implements IndexSource {
  private current: IndexDocument | undefined;
  private etag: string | undefined;
  private lastSerial: number;

  constructor(private readonly o: RegistryIndexOptions) {
    this.lastSerial = o.lastSerial ?? 0;
  }

  async resolve(pkg: string, selector: { version?: string; channel?: string }): Promise<PackageRef> {
    const index = await this.load();
    const entry = index.packages[pkg];
    const what = `resolve ${pkg}@${selector.channel ? `channel:${selector.channel}` : selector.version}`;
    if (!entry) throw new RegistryError('PACKAGE_NOT_FOUND', `${what}: not in the registry index`);
    let version: string | undefined;
    if (selector.channel !== undefined) {
      version = entry.channels[selector.channel];
      if (!version) throw new RegistryError('CHANNEL_NOT_FOUND', `${what}: no such channel`);
    } else if (selector.version !== undefined && entry.versions[selector.version]) {
      version = selector.version;
    } else {
      const candidates = Object.entries(entry.versions)
        .filter(([, v]) => !v.yanked)
        .map(([v]) => v);
      version = semver.maxSatisfying(candidates, selector.version ?? '*') ?? undefined;
      if (!version) throw new RegistryError('VERSION_NOT_FOUND', `${what}: no version satisfies it`);
    }
    const v = entry.versions[version];
    if (!v)
      throw new RegistryError('VERSION_NOT_FOUND', `${what}: the index lists ${version} but no entry for it`);
    const ref: PackageRef = { package: pkg, version, digest: v.digest, size: v.size };
    if (v.manifestDigest) ref.manifestDigest = v.manifestDigest;
    return ref;
  }

  /** Fetches (conditionally) and checks the index; an unreachable registry falls back to the last good one. */
  private async load(): Promise<IndexDocument> {
    const now = (this.o.now ?? (() => new Date()))();
    const url = `${this.o.registryUrl}/v1/index`;
    let res: Response | undefined;
    try {
      res = await (this.o.fetch ?? fetch)(url, {
        headers: this.etag && this.current ? { 'if-none-match': this.etag } : {},
        signal: AbortSignal.timeout(15_000),
      });
    } catch (err) {
      if (this.current) return this.fresh(this.current, now);
      throw new RegistryError('INDEX_UNAVAILABLE', `index ${url}: ${(err as Error).message}`, { cause: err });
    }
    if (res.status === 304 && this.current) return this.fresh(this.current, now);
    if (res.status !== 200) {
      if (this.current && res.status >= 500) return this.fresh(this.current, now);
      throw new RegistryError('INDEX_UNAVAILABLE', `index ${url}: HTTP ${res.status}`);
    }
    const bundle: unknown = await res.json();
    const { document } = await verifyDocument(bundle, INDEX_PAYLOAD_TYPE, this.o.registryKeys, now);
    const index = toIndex(document);
    this.fresh(index, now);
    if (index.serial < this.lastSerial) {
      throw new TrustError(
        'INDEX_ROLLBACK',
        `index serial ${index.serial}: older than serial ${this.lastSerial} already seen (rollback attack?)`,
      );
    }
    if (index.serial > this.lastSerial) {
      this.lastSerial = index.serial;
      this.o.onSerial?.(index.serial);
    }
    this.current = index;
    this.etag = res.headers.get('etag') ?? undefined;
    return index;
  }

  private fresh(index: IndexDocument, now: Date): IndexDocument {
    if (Date.parse(index.expires) <= now.getTime()) {
      throw new TrustError(
        'INDEX_EXPIRED',
        `index serial ${index.serial}: expired at ${index.expires} (frozen registry?), it is ${now.toISOString()}`,
      );
    }
    return index;
  }
}

function toIndex(value: unknown): IndexDocument {
  const doc = value as Partial<IndexDocument>;
  if (
    doc.schema !== 'bpfleet.index/v1' ||
    !Number.isSafeInteger(doc.serial) ||
    typeof doc.expires !== 'string' ||
    Number.isNaN(Date.parse(doc.expires)) ||
    typeof doc.packages !== 'object' ||
    doc.packages === null
  ) {
    throw new TrustError('INDEX_INVALID', 'index: signed, but not a bpfleet.index/v1 document');
  }
  return doc as IndexDocument;
}
