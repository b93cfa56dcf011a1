// The signed index as an IndexSource: signature, expiry, serial never backwards, publisher-signed channels.
import { RegistryError, TrustError } from '@bpfleet/sdk/errors';
import { isObject } from '@bpfleet/sdk/is-object';
import { INDEX_PAYLOAD_TYPE, type TrustedKey, verifyDocument } from '@bpfleet/sdk/trust';
import semver from 'semver';
import { sharedRegistryHttp } from '../artifacts/http-download.js';
import { BodyTooLarge, networkMessage, type RegistryHttp, readBody } from '../artifacts/registry-http.js';
import type { IndexSource, PackageRef } from '../ports.js';
import { ChannelMemory } from './channel-memory.js';
import { isYanked, type PackageStatements, verifyPackageStatements } from './channel-statements.js';

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
  packages: Record<
    string,
    { versions: Record<string, IndexVersion>; channels: Record<string, string>; statements?: unknown[] }
  >;
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
  /** Namespace → publisher keys: the only keys whose channel moves and yanks the device follows. */
  publishers?: Readonly<Record<string, readonly TrustedKey[]>>;
  /** Where each channel stood on this device; in memory when absent. */
  channels?: ChannelMemory;
}

export class RegistryIndex implements IndexSource {
  private current: IndexDocument | undefined;
  private etag: string | undefined;
  private lastSerial: number;
  private readonly channels: ChannelMemory;
  /** Verified statements per package, for the current index only. */
  private statements = new Map<string, Promise<PackageStatements>>();

  constructor(private readonly o: RegistryIndexOptions) {
    this.lastSerial = o.lastSerial ?? 0;
    this.channels = o.channels ?? ChannelMemory.volatile();
  }

  async resolve(pkg: string, selector: { version?: string; channel?: string }): Promise<PackageRef> {
    const index = await this.load();
    const entry = Object.hasOwn(index.packages, pkg) ? index.packages[pkg] : undefined;
    const what = `resolve ${pkg}@${selector.channel ? `channel:${selector.channel}` : selector.version}`;
    if (!entry) throw new RegistryError('PACKAGE_NOT_FOUND', `${what}: not in the registry index`);
    const now = (this.o.now ?? (() => new Date()))();
    const statements = await this.statementsOf(pkg, entry.statements ?? [], now);
    const yanked = (v: string) => isYanked(entry.versions[v]?.yanked === true, statements, v);
    let version: string | undefined;
    if (selector.channel !== undefined) {
      version = this.followChannel(pkg, selector.channel, entry.channels, statements, what);
      if (yanked(version)) throw new RegistryError('VERSION_YANKED', `${what}: ${version} is yanked`);
    } else if (selector.version !== undefined && Object.hasOwn(entry.versions, selector.version)) {
      // An exact version is the operator's signed choice; yanks steer ranges and channels only.
      version = selector.version;
    } else {
      const candidates = Object.keys(entry.versions).filter((v) => !yanked(v));
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

  /**
   * The channel's version per the publisher's signed move: never an unsigned one (the registry's word alone), never
   * an older statement than one followed before, never a lower version than followed before without a signed
   * rollback. Remembered once accepted.
   */
  private followChannel(
    pkg: string,
    channel: string,
    registryChannels: Record<string, string>,
    statements: PackageStatements,
    what: string,
  ): string {
    const move = statements.moves.get(channel);
    const claimed = Object.hasOwn(registryChannels, channel) ? registryChannels[channel] : undefined;
    if (!move) {
      if (claimed === undefined) throw new RegistryError('CHANNEL_NOT_FOUND', `${what}: no such channel`);
      const why = statements.rejected.length > 0 ? ` (set aside: ${statements.rejected.join('; ')})` : '';
      throw new TrustError(
        'CHANNEL_UNSIGNED',
        `${what}: the registry points it at ${claimed}, but no trusted publisher signed a move${why}`,
      );
    }
    if (claimed !== move.version) {
      throw new TrustError(
        'CHANNEL_UNSIGNED',
        `${what}: the registry points it at ${claimed ?? 'nothing'}, the publisher signed ${move.version} (serial ${move.serial})`,
      );
    }
    const before = this.channels.get(pkg, channel);
    if (before && move.serial < before.serial) {
      throw new TrustError(
        'CHANNEL_REPLAY',
        `${what}: move serial ${move.serial} is older than serial ${before.serial} already followed (to ${before.version})`,
      );
    }
    if (before && semver.lt(move.version, before.version) && !move.rollback) {
      throw new TrustError(
        'CHANNEL_DOWNGRADE',
        `${what}: ${move.version} is below ${before.version} already followed, and the move signs no rollback`,
      );
    }
    this.channels.set(pkg, channel, { serial: move.serial, version: move.version });
    return move.version;
  }

  private statementsOf(pkg: string, bundles: unknown[], now: Date): Promise<PackageStatements> {
    let verified = this.statements.get(pkg);
    if (!verified) {
      const namespace = pkg.split('/')[0]!;
      const publishers = this.o.publishers ?? {};
      const keys = Object.hasOwn(publishers, namespace) ? (publishers[namespace] ?? []) : [];
      verified = verifyPackageStatements(pkg, bundles, keys, now);
      this.statements.set(pkg, verified);
    }
    return verified;
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
    if (this.current !== index) this.statements = new Map();
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
    if (!isObject(entry) || !isObject(entry.versions) || !isObject(entry.channels)) {
      throw bad('expected { versions, channels }');
    }
    for (const [version, v] of Object.entries(entry.versions)) {
      if (
        !isObject(v) ||
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
    if (entry.statements !== undefined && !Array.isArray(entry.statements))
      throw bad('statements: expected an array');
  }
  return doc as IndexDocument;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;
