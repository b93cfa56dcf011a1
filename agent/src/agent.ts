// The reconcile loop: wanted (policies) minus running (loader), serialized and idempotent.
import { sha256Digest } from '@bpfleet/sdk/digest';
import { BpfleetError, errorMessage, PolicyError } from '@bpfleet/sdk/errors';
import type { Manifest } from '@bpfleet/sdk/manifest';
import {
  type ConfigInput,
  type EncodedMaps,
  encodePolicyMaps,
  type PolicyAttach,
  type PolicyMapEntry,
} from '@bpfleet/sdk/policy';
import type { Logger } from './logger.js';
import type {
  Deployment,
  Fetcher,
  HostProbe,
  IndexSource,
  Loader,
  PackageRef,
  PackageVerifier,
  PolicySource,
  WantedProgram,
} from './ports.js';
import type { EventState, ProgramReport, ProgramStatus, Reason } from './reporting/report.js';

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
  allow: { interfaces: string[]; cgroups: string[] };
  /** Versions that failed here, keyed by `markKey`; persisted by the caller through `onMarksChanged`. */
  failed?: Record<string, Reason>;
  onMarksChanged?: (failed: Record<string, Reason>) => Promise<void>;
  onEvent: (state: EventState, fields: EventFields) => void;
  onReport: (programs: ProgramReport[]) => void;
  now?: () => Date;
}

export interface EventFields {
  deployment: string;
  package: string;
  version?: string;
  digest?: string;
  reason?: Reason;
}

/** Failures that say nothing about the version itself (network, registry down) are retried, never marked. */
const TRANSIENT = new Set(['FETCH_FAILED', 'INDEX_UNAVAILABLE', 'REGISTRY_UNAVAILABLE']);

export function markKey(digest: string, configDigest: string, mapsDigest?: string): string {
  return mapsDigest ? `${digest}/${configDigest}/${mapsDigest}` : `${digest}/${configDigest}`;
}

/** Undefined when the policy gives no entries, so deployments from before map entries compare equal. */
export function mapsDigestOf(maps: Record<string, PolicyMapEntry[]> | undefined): string | undefined {
  if (!maps || Object.keys(maps).length === 0) return undefined;
  return sha256Digest(
    JSON.stringify(
      Object.keys(maps)
        .sort()
        .map((name) => [name, maps[name]]),
    ),
  );
}

export function configDigestOf(config: Record<string, ConfigInput>): string {
  const sorted = Object.fromEntries(Object.entries(config).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return sha256Digest(JSON.stringify(sorted));
}

export function toReason(err: unknown): Reason {
  if (err instanceof BpfleetError) return { code: err.code, message: err.message };
  return { code: 'INTERNAL', message: errorMessage(err) };
}

export class Agent {
  private readonly running = new Map<string, Deployment>();
  private readonly reports = new Map<string, ProgramReport>();
  private readonly failed: Map<string, Reason>;
  private queued: Promise<void> | undefined;
  private tail: Promise<void> = Promise.resolve();
  private adopted = false;
  private transient = false;

  constructor(private readonly o: AgentOptions) {
    this.failed = new Map(Object.entries(o.failed ?? {}));
  }

  /** Runs one pass after the current one; calls made while a pass waits to start share it. */
  reconcile(): Promise<void> {
    if (this.queued) return this.queued;
    const next = this.tail.then(() => {
      this.queued = undefined;
      return this.pass();
    });
    this.queued = next;
    this.tail = next.catch(() => {});
    return next;
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

  private async pass(): Promise<void> {
    if (!this.adopted) {
      for (const d of await this.o.loader.adopt()) this.running.set(d.id, d);
      this.adopted = true;
      this.o.logger.info('adopted pinned deployments', { ids: [...this.running.keys()] });
    }
    const marksBefore = this.failed.size;
    this.transient = false;
    if (this.o.policies.ready()) {
      const wanted = this.o.policies.wanted();
      for (const want of wanted) await this.converge(want);
      const ids = new Set(wanted.map((w) => w.id));
      for (const [id, d] of this.running) if (!ids.has(id)) await this.remove(d);
      for (const id of this.reports.keys()) if (!ids.has(id)) this.reports.delete(id);
    }
    if (this.failed.size !== marksBefore) await this.o.onMarksChanged?.(Object.fromEntries(this.failed));
    this.o.onReport(this.programReports());
  }

  private async converge(want: WantedProgram): Promise<void> {
    const current = this.running.get(want.id);
    const attach = want.attach ?? {};
    const config = want.config ?? {};
    const configDigest = configDigestOf(config);
    const mapsDigest = mapsDigestOf(want.maps);
    let ref: PackageRef;
    try {
      ref = await this.o.index.resolve(
        want.package,
        want.channel ? { channel: want.channel } : { version: want.version! },
      );
    } catch (err) {
      // The registry being away changes nothing that runs; say so and retry on the next pass.
      this.transient = true;
      return this.settle(want, current, current ? 'ATTACHED' : 'PENDING', toReason(err), undefined);
    }
    const sameProgram =
      current?.digest === ref.digest &&
      sameAttach(current.attach, attach) &&
      current.configDigest === configDigest;
    if (sameProgram && current?.mapsDigest === mapsDigest) {
      return this.settle(want, current, 'ATTACHED', undefined, undefined);
    }
    const key = markKey(ref.digest, configDigest, mapsDigest);
    const mark = this.failed.get(key);
    if (mark) return this.settle(want, current, current ? 'ROLLED_BACK' : 'FAILED', mark, undefined);
    const fields = { deployment: want.id, package: want.package, version: ref.version, digest: ref.digest };
    const notAllowed = this.disallowed(attach);
    if (notAllowed) {
      const reason = { code: 'ATTACH_NOT_ALLOWED', message: `deploy ${want.id}: ${notAllowed}` };
      return this.settle(want, current, current ? 'ROLLED_BACK' : 'REJECTED', reason, {
        ...fields,
        state: 'REJECTED',
      });
    }
    this.o.onEvent('QUEUED', fields);
    let stage: 'fetch' | 'verify' | 'load' = 'fetch';
    try {
      this.o.onEvent('DOWNLOADING', fields);
      const artifact = await this.o.fetcher.fetch(ref);
      stage = 'verify';
      this.o.onEvent('VERIFYING', fields);
      const pkg = await this.o.verifier.verify(artifact);
      const missing = await this.o.probe.missing(pkg);
      if (missing.length > 0) {
        throw new BpfleetError(
          'REQUIREMENTS_NOT_MET',
          `deploy ${want.id} ${ref.package}@${ref.version}: host lacks ${missing.join('; ')}`,
        );
      }
      stage = 'load';
      const maps = this.encodeMaps(want, pkg.manifest as Manifest);
      const spec = { id: want.id, pkg, attach, config, configDigest, maps, mapsDigest };
      let deployed: Deployment;
      if (current && sameProgram) {
        // Only the entries changed: rewrite the difference in the running maps, no reload.
        deployed = await this.o.loader.updateMaps(current, spec);
      } else if (current && sameAttach(current.attach, attach)) {
        deployed = await this.o.loader.upgrade(current, spec);
      } else {
        // A new attach point cannot be swapped into the old link: detach first, then attach.
        if (current) await this.o.loader.detach(current.id);
        this.running.delete(want.id);
        deployed = await this.o.loader.attach(spec);
      }
      this.running.set(want.id, deployed);
      this.o.onEvent('ATTACHED', fields);
      this.settle(want, deployed, 'ATTACHED', undefined, undefined);
    } catch (err) {
      const reason = toReason(err);
      const transient = stage === 'fetch' || TRANSIENT.has(reason.code);
      if (!transient) this.failed.set(key, reason);
      else this.transient = true;
      const still = this.running.get(want.id);
      const state: EventState = still ? 'ROLLED_BACK' : stage === 'verify' ? 'REJECTED' : 'FAILED';
      this.o.logger.warn('deploy failed', { ...fields, state, code: reason.code, error: reason.message });
      this.settle(want, still, still ? 'ROLLED_BACK' : (state as ProgramStatus), reason, {
        ...fields,
        state,
      });
    }
  }

  /** The policy's entries checked against this version's manifest, before anything is loaded or written. */
  private encodeMaps(want: WantedProgram, manifest: Manifest): EncodedMaps {
    try {
      return encodePolicyMaps(manifest, want.maps, 'maps');
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      throw new PolicyError(
        err.code,
        `deploy ${want.id} ${manifest.name}@${manifest.version}: ${err.message}`,
        {
          cause: err,
        },
      );
    }
  }

  private async remove(d: Deployment): Promise<void> {
    try {
      await this.o.loader.detach(d.id);
      this.running.delete(d.id);
      this.o.onEvent('REMOVED', {
        deployment: d.id,
        package: d.package,
        version: d.version,
        digest: d.digest,
      });
    } catch (err) {
      this.o.logger.error('detach failed', { deployment: d.id, error: errorMessage(err) });
    }
  }

  /** Records the program's report; emits the event only when the reason changed, so timers do not flood. */
  private settle(
    want: WantedProgram,
    running: Deployment | undefined,
    status: ProgramStatus,
    reason: Reason | undefined,
    event: (EventFields & { state: EventState }) | undefined,
  ): void {
    const previous = this.reports.get(want.id);
    const report: ProgramReport = {
      id: want.id,
      package: want.package,
      wanted: want.channel ? `channel:${want.channel}` : want.version!,
      source: want.source,
      status,
    };
    if (running) {
      report.version = running.version;
      report.digest = running.digest;
      report.attach = running.attach;
      if (running.mapEntries && Object.keys(running.mapEntries).length > 0) report.maps = running.mapEntries;
    }
    if (reason) report.lastError = reason;
    this.reports.set(want.id, report);
    const changed = reason && reason.message !== previous?.lastError?.message;
    if (event) {
      const { state, ...fields } = event;
      this.o.onEvent(state, { ...fields, reason: reason! });
    } else if (changed) {
      this.o.onEvent('FAILED', { deployment: want.id, package: want.package, reason: reason! });
    }
  }

  private disallowed(attach: PolicyAttach): string | undefined {
    if (attach.interface && !this.o.allow.interfaces.includes(attach.interface)) {
      return `interface ${attach.interface} is not in this device's allowed interfaces`;
    }
    if (
      attach.cgroup &&
      !this.o.allow.cgroups.some((c) => attach.cgroup === c || attach.cgroup?.startsWith(`${c}/`))
    ) {
      return `cgroup ${attach.cgroup} is not under this device's allowed cgroups`;
    }
    return undefined;
  }
}

function sameAttach(a: PolicyAttach, b: PolicyAttach): boolean {
  return (
    a.interface === b.interface && a.direction === b.direction && a.cgroup === b.cgroup && a.mode === b.mode
  );
}
