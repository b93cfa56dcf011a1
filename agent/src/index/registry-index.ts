// The registry's signed index as an IndexSource: signature, expiry, serial never backwards, version resolution.
import { RegistryError, TrustError } from '@bpfleet/sdk/errors';
import { INDEX_PAYLOAD_TYPE, type TrustedKey, verifyDocument } from '@bpfleet/sdk/trust';
import semver from 'semver';
import { sharedRegistryHttp } from '../artifacts/http-download.js';
import { BodyTooLarge, networkMessage, type RegistryHttp, readBody } from '../artifacts/registry-http.js';
import type { IndexSource, PackageRef } from '../ports.js';

// Far above any real index (a few hundred bytes per version); only a broken or hostile server sends more.
const MAX_INDEX_BYTES = 64 * 1024 * 1024;

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
  /** The device's registry connection; a shared default one when absent. */
  http?: RegistryHttp;
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
    const entry = Object.hasOwn(index.packages, pkg) ? index.packages[pkg] : undefined;
    const what = `resolve ${pkg}@${selector.channel ? `channel:${selector.channel}` : selector.version}`;
    if (!entry) throw new RegistryError('PACKAGE_NOT_FOUND', `${what}: not in the registry index`);
    let version: string | undefined;
    if (selector.channel !== undefined) {
      version = Object.hasOwn(entry.channels, selector.channel)
        ? entry.channels[selector.channel]
        : undefined;
      if (!version) throw new RegistryError('CHANNEL_NOT_FOUND', `${what}: no such channel`);
    } else if (selector.version !== undefined && Object.hasOwn(entry.versions, selector.version)) {
      version = selector.version;
    } else {
      const candidates = Object.entries(entry.versions)
        .filter(([, v]) => !v.yanked)
        .map(([v]) => v);
      version = semver.maxSatisfying(candidates, selector.version ?? '*') ?? undefined;
      if (!version) throw new RegistryError('VERSION_NOT_FOUND', `${what}: no version satisfies it`);
    }
    const v = Object.hasOwn(entry.versions, version) ? entry.versions[version] : undefined;
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
    let res: Awaited<ReturnType<RegistryHttp['get']>>;
    try {
      res = await (this.o.http ?? sharedRegistryHttp()).get(url, {
        headers: this.etag && this.current ? { 'if-none-match': this.etag } : {},
        timeoutMs: 15_000,
      });
    } catch (err) {
      if (this.current) return this.fresh(this.current, now);
      throw new RegistryError('INDEX_UNAVAILABLE', `index ${url}: ${networkMessage(err)}`, { cause: err });
    }
    const status = res.statusCode ?? 0;
    if (status !== 200) res.resume();
    if (status === 304 && this.current) return this.fresh(this.current, now);
    if (status !== 200) {
      if (this.current && status >= 500) return this.fresh(this.current, now);
      throw new RegistryError('INDEX_UNAVAILABLE', `index ${url}: HTTP ${status}`);
    }
    let bundle: unknown;
    try {
      bundle = JSON.parse((await readBody(res, MAX_INDEX_BYTES)).toString('utf8'));
    } catch (err) {
      if (err instanceof BodyTooLarge) throw new TrustError('INDEX_INVALID', `index ${url}: ${err.message}`);
      if (err instanceof SyntaxError)
        throw new TrustError('INDEX_INVALID', `index ${url}: not JSON`, { cause: err });
      if (this.current) return this.fresh(this.current, now);
      throw new RegistryError('INDEX_UNAVAILABLE', `index ${url}: ${networkMessage(err)}`, { cause: err });
    }
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
    this.etag = res.headers.etag;
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
  // Signed by the registry, yet checked in depth: resolution must never meet a shape it cannot handle.
  for (const [pkg, entry] of Object.entries(doc.packages)) {
    const bad = (what: string) =>
      new TrustError('INDEX_INVALID', `index serial ${doc.serial}: ${pkg}: ${what}`);
    if (!isRecord(entry) || !isRecord(entry.versions) || !isRecord(entry.channels)) {
      throw bad('expected { versions, channels }');
    }
    for (const [version, v] of Object.entries(entry.versions)) {
      if (
        !isRecord(v) ||
        typeof v.digest !== 'string' ||
        !DIGEST.test(v.digest) ||
        !Number.isSafeInteger(v.size) ||
        (v.size as number) < 0 ||
        typeof v.yanked !== 'boolean' ||
        (v.manifestDigest !== undefined &&
          (typeof v.manifestDigest !== 'string' || !DIGEST.test(v.manifestDigest)))
      ) {
        throw bad(`version ${JSON.stringify(version)}: expected { digest, size, yanked, manifestDigest? }`);
      }
    }
    for (const [channel, version] of Object.entries(entry.channels)) {
      if (typeof version !== 'string') throw bad(`channel ${JSON.stringify(channel)}: expected a version`);
    }
  }
  return doc as IndexDocument;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
