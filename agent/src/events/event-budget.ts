// The device's event budget: one token bucket over all streams, and the systematic sample it admits.

export class EventBudget {
  #tokens: number;
  #at: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.#tokens = burst;
    this.#at = now();
  }

  /** How many of `n` records may go now; those are taken from the bucket. */
  take(n: number): number {
    const now = this.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) / 1000) * this.ratePerSecond);
    this.#at = now;
    const admitted = Math.min(n, Math.floor(this.#tokens));
    this.#tokens -= admitted;
    return admitted;
  }
}

/**
 * Indexes of `admitted` records spread evenly over `n` (every n/admitted-th), so an over-budget burst is
 * sampled across its whole span rather than cut after its first records.
 */
export function sampleIndexes(n: number, admitted: number): number[] {
  if (admitted >= n) return Array.from({ length: n }, (_, i) => i);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    if (Math.floor(((i + 1) * admitted) / n) > Math.floor((i * admitted) / n)) out.push(i);
  }
  return out;
}
