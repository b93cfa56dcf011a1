// The reconcile loop: observe (kernel, index), plan (pure), execute; passes serialized, cancelled on stop.
import { errorMessage } from '@bpfleet/sdk/errors';
import type { Logger } from './logger.js';
import type {
  Deployment,
  Fetcher,
  HostProbe,
  IndexSource,
  KernelCheck,
  Loader,
  PackageVerifier,
  PolicySource,
  WantedProgram,
} from './ports.js';
import { type EventFields, executePlan, toReason } from './reconcile/execute.js';
import { type FailureMark, FailureMarks } from './reconcile/failure-marks.js';
import { type Allow, planReconcile, type Resolution } from './reconcile/plan.js';
import type { EventState, ProgramReport } from './reporting/report.js';

export { configDigestOf, mapsDigestOf } from './reconcile/digests.js';
export type { EventFields } from './reconcile/execute.js';
export { toReason } from './reconcile/execute.js';

export interface AgentPorts {
  policies: PolicySource;
  index: IndexSource;
  fetcher: Fetcher;
  verifier: PackageVerifier;
  probe: HostProbe;
  loader: Loader;
}

export interface AgentOptions extends AgentPorts {
  logger: Logger;
  /** Attach points policies may use (the device owner's allowlist). */
  allow: Allow;
  /** Failure marks as the state file kept them (validated here; other hosts' and malformed ones dropped). */
  failed?: unknown;
  onMarksChanged?: (failed: Record<string, FailureMark>) => Promise<void>;
  onEvent: (state: EventState, fields: EventFields) => void;
  onReport: (programs: ProgramReport[]) => void;
  now?: () => Date;
}

interface Queued {
  promise: Promise<void>;
  /** A full pass, or only a look at the kernel (which becomes a pass when it finds something). */
  full: boolean;
}

export class Agent {
  private readonly running = new Map<string, Deployment>();
  private readonly reports = new Map<string, ProgramReport>();
  private readonly marks: FailureMarks;
  private queued: Queued | undefined;
  private tail: Promise<void> = Promise.resolve();
  private adopted = false;
  private transient = false;
  private stopped = false;
  private controller = new AbortController();

  constructor(private readonly o: AgentOptions) {
    this.marks = new FailureMarks(o.failed, o.probe.fingerprint?.() ?? '');
  }

  /** Runs one pass after the current one; calls made while a pass waits to start share it. */
  reconcile(): Promise<void> {
    if (this.queued) {
      this.queued.full = true;
      return this.queued.promise;
    }
    return this.enqueue(true);
  }

  /**
   * Asks the kernel whether what runs is still attached (the drift timer); a drift, or a drift that ended, runs a
   * pass on that observation. Cheap when nothing changed: one `Loader.check()` and no report.
   */
  checkKernel(): Promise<void> {
    return this.queued ? this.queued.promise : this.enqueue(false);
  }

  /** Cancels the pass in flight (downloads are cut, no further action starts) and runs no more passes. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.controller.abort(new Error('agent stopping'));
    await this.tail;
  }

  /** Whether the last pass left something undone for a reason that passes (registry away, download cut). */
  get retrySoon(): boolean {
    return this.transient;
  }

  deployments(): Deployment[] {
    return [...this.running.values()];
  }

  programReports(): ProgramReport[] {
    // Code-point order: localeCompare would page in ICU's collation data (2 MB of RSS) to sort [a-z0-9_-] ids.
    return [...this.reports.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  private enqueue(full: boolean): Promise<void> {
    const job: Queued = { full, promise: Promise.resolve() };
    job.promise = this.tail.then(() => {
      this.queued = undefined;
      if (this.stopped) return;
      return job.full ? this.pass() : this.look();
    });
    this.queued = job;
    this.tail = job.promise.catch(() => {});
    return job.promise;
  }

  private async look(): Promise<void> {
    if (!this.adopted) return this.pass();
    const kernel = await this.check();
    const drifted =
      kernel.some((c) => c.drift) || [...this.reports.values()].some((r) => r.status === 'DRIFTED');
    if (drifted) await this.pass(kernel);
  }

  private async pass(observed?: KernelCheck[]): Promise<void> {
    const controller = new AbortController();
    this.controller = controller;
    if (!this.adopted) {
      for (const d of await this.o.loader.adopt()) this.running.set(d.id, d);
      this.adopted = true;
      this.o.logger.info('adopted pinned deployments', { ids: [...this.running.keys()] });
    }
    const kernel = observed ?? (await this.check());
    const wanted = this.o.policies.ready() ? this.o.policies.wanted() : undefined;
    const resolved = await this.resolve(wanted ?? [], kernel);
    const now = (this.o.now?.() ?? new Date()).getTime();
    const actions = planReconcile({
      wanted,
      resolved,
      running: this.running,
      kernel,
      marks: (subject) => this.marks.get(subject),
      reported: this.reports,
      allow: this.o.allow,
      now,
    });
    this.transient = await executePlan(actions, {
      ports: this.o,
      logger: this.o.logger,
      running: this.running,
      reports: this.reports,
      marks: this.marks,
      onEvent: this.o.onEvent,
      signal: controller.signal,
      now: () => (this.o.now?.() ?? new Date()).getTime(),
    });
    if (controller.signal.aborted) return;
    if (wanted) {
      const ids = new Set(wanted.map((w) => w.id));
      for (const id of this.reports.keys()) if (!ids.has(id)) this.reports.delete(id);
      this.marks.prune(ids);
    }
    if (this.marks.takeChanged()) await this.o.onMarksChanged?.(this.marks.toRecord());
    this.o.onReport(this.programReports());
  }

  /** The kernel's view; a loader that cannot look this time leaves the pass to work from its records. */
  private async check(): Promise<KernelCheck[]> {
    try {
      return await this.o.loader.check();
    } catch (err) {
      this.o.logger.warn('kernel check failed', { error: errorMessage(err) });
      return [];
    }
  }

  /**
   * Each wanted program's version from the signed index. An expired policy's program is resolved only to deploy
   * again exactly what ran when the kernel lost it.
   */
  private async resolve(
    wanted: readonly WantedProgram[],
    kernel: KernelCheck[],
  ): Promise<Map<string, Resolution>> {
    const lost = new Set(kernel.filter((c) => c.drift && c.outcome === 'redeploy').map((c) => c.id));
    const out = new Map<string, Resolution>();
    for (const want of wanted) {
      let selector: { version?: string; channel?: string };
      if (want.expired) {
        const ran = this.running.get(want.id);
        if (!ran || !lost.has(want.id)) continue;
        selector = { version: ran.version };
      } else {
        selector = want.channel ? { channel: want.channel } : { version: want.version! };
      }
      try {
        out.set(want.id, { ref: await this.o.index.resolve(want.package, selector) });
      } catch (err) {
        out.set(want.id, { error: toReason(err) });
      }
    }
    return out;
  }
}
