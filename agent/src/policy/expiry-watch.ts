// Policy expiry as a timer: one timeout for the earliest expiry, each policy reported once when it passes.
import type { ExpiredPolicy } from './policy-store.js';

/** setTimeout holds at most 2^31-1 ms (24.8 days); a longer delay would fire at once, so it is taken in steps. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface ExpirySource {
  expired(): ExpiredPolicy[];
  nextExpiry(): Date | undefined;
}

export interface ExpiryWatchOptions {
  policies: ExpirySource;
  now: () => Date;
  /** Once per policy (topic and serial) that passed its expiry, including one found expired at start-up. */
  onExpired: (expired: ExpiredPolicy) => void;
  /** After any policy expired: the reconcile pass that stops applying it. */
  onChange: () => void;
}

export class ExpiryWatch {
  private timer: NodeJS.Timeout | undefined;
  private readonly reported = new Set<string>();
  private stopped = false;

  constructor(private readonly o: ExpiryWatchOptions) {}

  /** Reports what expired since the last look and re-arms for the next expiry; call at start and on every accepted policy. */
  refresh(): void {
    if (this.stopped) return;
    const expired = this.o.policies.expired();
    const keys = new Set(expired.map((e) => `${e.topic}#${e.serial}`));
    // A renewed policy (a new serial) that expires again is reported again.
    for (const key of this.reported) if (!keys.has(key)) this.reported.delete(key);
    const fresh = expired.filter((e) => !this.reported.has(`${e.topic}#${e.serial}`));
    for (const e of fresh) {
      this.reported.add(`${e.topic}#${e.serial}`);
      this.o.onExpired(e);
    }
    if (fresh.length > 0) this.o.onChange();
    this.arm(this.o.policies.nextExpiry());
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(at: Date | undefined): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!at) return;
    // +1: a timer may fire a millisecond early; refresh then finds nothing expired yet and arms again for the rest.
    const delay = Math.min(Math.max(at.getTime() - this.o.now().getTime(), 0) + 1, MAX_TIMER_MS);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refresh();
    }, delay);
  }
}
