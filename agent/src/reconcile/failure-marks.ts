// Deploy failures remembered per deployment, version, config, maps and host: what is not retried, and when.
import type { Reason } from '../reporting/report.js';

/** What a failure is about: the same attempt on the same host fails the same way unless it is transient. */
export interface MarkSubject {
  id: string;
  digest: string;
  configDigest: string;
  mapsDigest?: string;
  /** The host fingerprint (kernel release, capabilities, BTF source) the failure happened on. */
  host: string;
}

export interface FailureMark extends MarkSubject {
  reason: Reason;
  /** ISO time of the last failure. */
  at: string;
  attempts: number;
  /** Transient failures only: ISO time from which the attempt is made again. */
  retryAt?: string;
}

/** Failures that say nothing about the version (network, registry down): retried on the next pass, never marked. */
const NETWORK = new Set(['FETCH_FAILED', 'INDEX_UNAVAILABLE', 'REGISTRY_UNAVAILABLE']);

/**
 * Failures of this moment on this host (a hook or resource busy, memory short, an interface not there yet): marked
 * so the loop backs off, retried when the backoff ends. Everything else waits for a new version, config, maps,
 * deployment id or host.
 */
const KERNEL_TRANSIENT =
  /_(EBUSY|EAGAIN|ENOMEM|ENOBUFS|EINTR|ETIMEDOUT|ENODEV)$|^XDP_BUSY$|^NO_SUCH_INTERFACE$/;

export const MAX_MARKS = 64;
const BACKOFF = { initialMs: 2_000, maxMs: 300_000 };

export function isNetworkFailure(code: string): boolean {
  return NETWORK.has(code);
}

export function isTransientFailure(code: string): boolean {
  return KERNEL_TRANSIENT.test(code);
}

export function markKey(s: MarkSubject): string {
  return [s.id, s.digest, s.configDigest, s.mapsDigest ?? '-', s.host].join('/');
}

/** Retry number `attempts` waits twice as long as the one before, from 2 s up to 5 min. */
export function retryDelayMs(attempts: number): number {
  return Math.min(BACKOFF.maxMs, BACKOFF.initialMs * 2 ** Math.min(Math.max(attempts - 1, 0), 20));
}

/** Whether a mark holds the attempt back at `now`: always for lasting failures, until `retryAt` for transient ones. */
export function blocks(mark: FailureMark, now: number): boolean {
  return mark.retryAt === undefined || Date.parse(mark.retryAt) > now;
}

export class FailureMarks {
  private readonly marks = new Map<string, FailureMark>();
  private dirty = false;

  /**
   * Takes the marks a state file kept: only well-formed ones made on this host (a new kernel, capabilities or BTF
   * source may well succeed where the old failed). Marks in the earlier form (no host) are dropped: one retry.
   */
  constructor(
    saved: unknown,
    readonly host: string,
  ) {
    if (typeof saved !== 'object' || saved === null) return;
    for (const value of Object.values(saved)) {
      const mark = toMark(value);
      if (mark && mark.host === host) this.marks.set(markKey(mark), mark);
      else this.dirty = true;
    }
  }

  get(subject: Omit<MarkSubject, 'host'>): FailureMark | undefined {
    return this.marks.get(markKey({ ...subject, host: this.host }));
  }

  record(subject: Omit<MarkSubject, 'host'>, reason: Reason, now: number): FailureMark {
    const key = markKey({ ...subject, host: this.host });
    const attempts = (this.marks.get(key)?.attempts ?? 0) + 1;
    const mark: FailureMark = {
      ...subject,
      host: this.host,
      reason,
      at: new Date(now).toISOString(),
      attempts,
    };
    if (isTransientFailure(reason.code)) mark.retryAt = new Date(now + retryDelayMs(attempts)).toISOString();
    // Re-inserted so the map's order stays oldest first.
    this.marks.delete(key);
    this.marks.set(key, mark);
    this.dirty = true;
    return mark;
  }

  /** A success clears what was remembered about the same attempt (a transient failure that passed). */
  forget(subject: Omit<MarkSubject, 'host'>): void {
    if (this.marks.delete(markKey({ ...subject, host: this.host }))) this.dirty = true;
  }

  /** Drops marks of ids no policy names any more, then the oldest beyond `max`. */
  prune(wantedIds: ReadonlySet<string>, max = MAX_MARKS): void {
    for (const [key, mark] of this.marks) {
      if (!wantedIds.has(mark.id)) {
        this.marks.delete(key);
        this.dirty = true;
      }
    }
    for (const key of this.marks.keys()) {
      if (this.marks.size <= max) break;
      this.marks.delete(key);
      this.dirty = true;
    }
  }

  /** True once after something changed, so the caller saves only then. */
  takeChanged(): boolean {
    const changed = this.dirty;
    this.dirty = false;
    return changed;
  }

  toRecord(): Record<string, FailureMark> {
    return Object.fromEntries(this.marks);
  }

  get size(): number {
    return this.marks.size;
  }
}

function toMark(value: unknown): FailureMark | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as Partial<FailureMark>;
  const strings = [m.id, m.digest, m.configDigest, m.host, m.at, m.reason?.code, m.reason?.message];
  if (strings.some((s) => typeof s !== 'string')) return undefined;
  if (typeof m.attempts !== 'number' || !Number.isSafeInteger(m.attempts) || m.attempts < 1) return undefined;
  if (m.mapsDigest !== undefined && typeof m.mapsDigest !== 'string') return undefined;
  if (m.retryAt !== undefined && typeof m.retryAt !== 'string') return undefined;
  const mark: FailureMark = {
    id: m.id!,
    digest: m.digest!,
    configDigest: m.configDigest!,
    host: m.host!,
    reason: { code: m.reason!.code, message: m.reason!.message },
    at: m.at!,
    attempts: m.attempts,
  };
  if (m.mapsDigest !== undefined) mark.mapsDigest = m.mapsDigest;
  if (m.retryAt !== undefined) mark.retryAt = m.retryAt;
  return mark;
}
