// The device's root of trust: the inline config as version 1, then every verified next root, walked one at a time.
import { errorMessage, TrustError } from '@bpfleet/sdk/errors';
import { type RootDocument, type TrustedRoot, verifyNextRoot } from '@bpfleet/sdk/trust';
import type { Logger } from '../logger.js';
import { applyRoot, type DeviceTrust, freezeTrust, inlineRoot } from './live-trust.js';
import type { RootChainFiles, RootSource } from './root-sources.js';

export interface RootRefusal {
  /** The version that was refused (or the current one, when it expired). */
  version: number;
  code: string;
  message: string;
}

export interface TrustRootOptions {
  trust: DeviceTrust;
  files: RootChainFiles;
  edge: RootSource;
  logger: Logger;
  now?: () => Date;
  /** A root was refused or the current one expired (the device reports it as a REJECTED event). */
  onRefused?: (refusal: RootRefusal) => void;
  /** The device's keys changed: a reconcile should run with them. */
  onChanged?: (version: number) => void;
}

const MAX_TIMER_MS = 2 ** 31 - 1;
const RETRY_MS = 5_000;

export class TrustRoot {
  private current: TrustedRoot;
  private syncing: Promise<void> | undefined;
  private again = false;
  private expiryTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly now: () => Date;
  /** Kept until a listener is attached: the refusals of the start-up walk happen before the MQTT session exists. */
  private pending: RootRefusal[] = [];

  private constructor(
    private readonly o: TrustRootOptions,
    first: TrustedRoot,
  ) {
    this.current = first;
    this.now = o.now ?? (() => new Date());
  }

  /** Undefined when the config names no root keys: its trust is then fixed (nothing can sign a next root). */
  static async open(o: TrustRootOptions): Promise<TrustRoot | undefined> {
    const first = inlineRoot(o.trust);
    if (!first) {
      o.logger.debug('trust root: no trust.rootKeys in the config; keys cannot be rotated on this device');
      return undefined;
    }
    const root = new TrustRoot(o, first);
    // The chain kept on disk was verified before; walking it again costs a few signature checks and no network.
    await root.walk(o.files.read, false);
    return root;
  }

  get version(): number {
    return this.current.version;
  }

  /** Routes refusals (including those of the start-up walk) to `listener`. */
  listen(listener: (refusal: RootRefusal) => void, onChanged: (version: number) => void): void {
    this.o.onRefused = listener;
    this.o.onChanged = onChanged;
    for (const refusal of this.pending.splice(0)) listener(refusal);
  }

  /** The retained announcement `{"version": N}`: a hint to look for newer roots on the edge, never trusted itself. */
  announce(payload: Buffer): void {
    let version: unknown;
    try {
      version = (JSON.parse(payload.toString('utf8')) as { version?: unknown }).version;
    } catch {
      version = undefined;
    }
    if (typeof version !== 'number' || !Number.isSafeInteger(version)) {
      this.o.logger.warn('trust root: announcement is not {"version": N}; ignored');
      return;
    }
    if (version > this.current.version) void this.sync();
  }

  /** Fetches and applies newer roots from the edge; concurrent calls run one walk, then one more if asked meanwhile. */
  sync(): Promise<void> {
    if (this.syncing) {
      this.again = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      do {
        this.again = false;
        try {
          await this.walk(this.o.edge, true);
        } catch (err) {
          this.o.logger.warn('trust root: fetching newer roots failed; retrying', {
            error: errorMessage(err),
          });
          // The announcement can arrive before the edge's HTTP side listens (both start together).
          clearTimeout(this.retryTimer);
          if (this.stopped) return;
          this.retryTimer = setTimeout(() => void this.sync(), RETRY_MS);
          this.retryTimer.unref();
        }
      } while (this.again);
    })().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.expiryTimer);
    clearTimeout(this.retryTimer);
  }

  private async walk(source: RootSource, persist: boolean): Promise<void> {
    let newest: RootDocument | undefined;
    for (;;) {
      const next = this.current.version + 1;
      const bundle = await source(next);
      if (bundle === undefined) break;
      try {
        newest = await verifyNextRoot(this.current, bundle, this.now(), false);
      } catch (err) {
        if (!(err instanceof TrustError)) throw err;
        this.refuse({ version: next, code: err.code, message: err.message });
        break;
      }
      if (persist) await this.o.files.write(next, bundle);
      this.current = newest;
    }
    if (newest) {
      applyRoot(this.o.trust, newest);
      this.o.logger.info('trust root: now at version', { version: newest.version, expires: newest.expires });
      this.o.onChanged?.(newest.version);
    }
    this.checkExpiry();
  }

  /** Past its expiry the current root verifies nothing new; checked after each walk and when it expires. */
  private checkExpiry(): void {
    clearTimeout(this.expiryTimer);
    const expires = this.current.expires;
    if (expires === undefined) return;
    const left = Date.parse(expires) - this.now().getTime();
    if (left > 0) {
      this.expiryTimer = setTimeout(() => this.checkExpiry(), Math.min(left, MAX_TIMER_MS));
      this.expiryTimer.unref();
      return;
    }
    freezeTrust(this.o.trust);
    this.refuse({
      version: this.current.version,
      code: 'ROOT_EXPIRED',
      message: `trust root v${this.current.version}: expired at ${expires}; nothing new is verified until a newer root is published`,
    });
    this.o.onChanged?.(this.current.version);
  }

  private refuse(refusal: RootRefusal): void {
    this.o.logger.warn('trust root: refused', { ...refusal });
    if (this.o.onRefused) this.o.onRefused(refusal);
    else this.pending.push(refusal);
  }
}
