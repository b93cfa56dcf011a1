// Per-device token buckets: a device over its message rate has messages dropped, reported once per episode.

export interface RateLimitOptions {
  /** Sustained messages per second per device. */
  perSecond: number;
  /** Messages a device may send at once above the sustained rate. */
  burst: number;
}

/** A real agent sends a few messages per reconcile and one telemetry per interval: far below this. */
export const DEFAULT_RATE_LIMIT: RateLimitOptions = { perSecond: 20, burst: 100 };

export type RateDecision =
  | { allowed: true; episodeEnded?: { dropped: number } }
  | { allowed: false; episodeStarted: boolean };

interface Bucket {
  tokens: number;
  at: number;
  /** Drops in the current episode; it ends at the first message allowed after QUIET_MS without a drop. */
  dropping: number;
  lastDropAt: number;
}

/** Without this, a device held at the rate would start and end an episode with every refilled token. */
const QUIET_MS = 1000;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly options: RateLimitOptions,
    private readonly now: () => number = () => performance.now(),
  ) {}

  take(key: string): RateDecision {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: this.options.burst, at: now, dropping: 0, lastDropAt: 0 };
      this.buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(
      this.options.burst,
      bucket.tokens + ((now - bucket.at) / 1000) * this.options.perSecond,
    );
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      if (bucket.dropping === 0 || now - bucket.lastDropAt < QUIET_MS) return { allowed: true };
      const dropped = bucket.dropping;
      bucket.dropping = 0;
      return { allowed: true, episodeEnded: { dropped } };
    }
    bucket.dropping += 1;
    bucket.lastDropAt = now;
    return { allowed: false, episodeStarted: bucket.dropping === 1 };
  }

  /** Forgets a device (it disconnected or was removed); a full bucket is what a new one starts with anyway. */
  forget(key: string): void {
    this.buckets.delete(key);
  }
}
