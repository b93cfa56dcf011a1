// The reconcile loop's decisions as data: wanted × running × kernel-observed × failure marks → actions (no I/O).
import type { ConfigInput, PolicyAttach } from '@bpfleet/sdk/policy';
import type { Deployment, KernelCheck, PackageRef, WantedProgram } from '../ports.js';
import type { EventState, ProgramReport, ProgramStatus, Reason } from '../reporting/report.js';
import { configDigestOf, mapsDigestOf } from './digests.js';
import { blocks, type FailureMark, type MarkSubject } from './failure-marks.js';

export interface Allow {
  interfaces: readonly string[];
  cgroups: readonly string[];
}

/** The version the signed index chose for a wanted program, or why it could not choose. */
export type Resolution = { ref: PackageRef } | { error: Reason };

export interface PlanInput {
  /** Undefined until some policy was accepted: with nothing known, nothing running is removed. */
  wanted: readonly WantedProgram[] | undefined;
  /** By wanted id. Expired programs are resolved only when what ran for them must be deployed again. */
  resolved: ReadonlyMap<string, Resolution>;
  running: ReadonlyMap<string, Deployment>;
  /** This pass's `Loader.check()`: what the kernel shows, and what the loader already repaired. */
  kernel: readonly KernelCheck[];
  marks: (subject: Omit<MarkSubject, 'host'>) => FailureMark | undefined;
  /** The reports of the last pass, so a change of reason is announced once, not on every pass. */
  reported: ReadonlyMap<string, ProgramReport>;
  allow: Allow;
  now: number;
}

/** What a wanted program asks for, with the version chosen. */
export interface Target {
  ref: PackageRef;
  attach: PolicyAttach;
  config: Record<string, ConfigInput>;
  configDigest: string;
  mapsDigest?: string;
}

/** Changes to what runs; each names the wanted program, the target and what it replaces. */
export type ChangeAction =
  | { kind: 'deploy'; want: WantedProgram; target: Target }
  /** Same attach, new version or config: loaded beside the old one and swapped into its links. */
  | { kind: 'upgrade'; want: WantedProgram; target: Target; from: Deployment }
  /** Only the map entries differ: rewritten in the running maps, no reload. */
  | { kind: 'updateMaps'; want: WantedProgram; target: Target; from: Deployment }
  /** A rename: `from` (no policy names it) runs the same package on the same hooks; make-before-break. */
  | { kind: 'handover'; want: WantedProgram; target: Target; from: Deployment }
  /** Other hooks (interface, cgroup, direction): the new attached before the old goes. */
  | { kind: 'move'; want: WantedProgram; target: Target; from: Deployment }
  /** Only the XDP mode differs: the one hook cannot hold both, so the old goes first. */
  | { kind: 'reattach'; want: WantedProgram; target: Target; from: Deployment };

export type Action =
  /**
   * The loader re-pinned or re-attached it in this pass's check: DRIFTED (unless this drift was announced while
   * it waited), then ATTACHED again.
   */
  | { kind: 'repaired'; deployment: Deployment; drift: Reason; announce: boolean }
  /** Drifted and not repairable yet (its interface is gone): reported DRIFTED until a later check repairs it. */
  | { kind: 'drifted'; deployment: Deployment; drift: Reason; announce: boolean }
  /** Drifted with nothing held to repair it from: what is left is detached, the wanted program deploys again. */
  | { kind: 'redeploy'; deployment: Deployment; drift: Reason }
  | ChangeAction
  /** Nothing changes for a wanted program; its report is as given, `event` emitted when set. */
  | {
      kind: 'report';
      want: WantedProgram;
      status: ProgramStatus;
      running?: Deployment;
      reason?: Reason;
      event?: EventState;
      /** The version the event is about, when one was chosen. */
      ref?: PackageRef;
      /** The reason passes (network, a busy hook): the loop asks for an early pass. */
      transient?: boolean;
    }
  | { kind: 'remove'; deployment: Deployment };

export function targetOf(want: WantedProgram, ref: PackageRef): Target {
  const config = want.config ?? {};
  const target: Target = { ref, attach: want.attach ?? {}, config, configDigest: configDigestOf(config) };
  const mapsDigest = mapsDigestOf(want.maps);
  if (mapsDigest !== undefined) target.mapsDigest = mapsDigest;
  return target;
}

export function sameAttach(a: PolicyAttach, b: PolicyAttach): boolean {
  return (
    a.interface === b.interface && a.direction === b.direction && a.cgroup === b.cgroup && a.mode === b.mode
  );
}

/** The same hooks: only the XDP mode may differ, and driver and generic mode never hold programs at once. */
function sameHooks(a: PolicyAttach, b: PolicyAttach): boolean {
  return a.interface === b.interface && a.direction === b.direction && a.cgroup === b.cgroup;
}

function sameProgram(d: Deployment, t: Target): boolean {
  return d.digest === t.ref.digest && sameAttach(d.attach, t.attach) && d.configDigest === t.configDigest;
}

export function planReconcile(input: PlanInput): Action[] {
  const actions: Action[] = [];
  const running = new Map(input.running);
  const waiting = new Map<string, Reason>();
  const repaired = new Set<string>();
  const redeployed = new Map<string, Deployment>();
  const wantedIds = input.wanted ? new Set(input.wanted.map((w) => w.id)) : undefined;
  for (const check of input.kernel) {
    const d = running.get(check.id);
    if (!d || !check.drift) continue;
    const previous = input.reported.get(d.id);
    if (check.outcome === 'repaired') {
      repaired.add(d.id);
      const announced = previous?.status === 'DRIFTED' && previous.lastError?.code === check.drift.code;
      actions.push({ kind: 'repaired', deployment: d, drift: check.drift, announce: !announced });
    } else if (check.outcome === 'redeploy' && input.wanted) {
      // (Before any policy is known, the remains stay: nothing could deploy them again.)
      running.delete(d.id);
      // What no policy names is removed below, not deployed again.
      if (!wantedIds?.has(d.id)) actions.push({ kind: 'remove', deployment: d });
      else {
        redeployed.set(d.id, d);
        actions.push({ kind: 'redeploy', deployment: d, drift: check.drift });
      }
    } else {
      waiting.set(d.id, check.drift);
      const announce = previous?.lastError?.message !== check.drift.message;
      actions.push({ kind: 'drifted', deployment: d, drift: check.drift, announce });
    }
  }
  if (!input.wanted || !wantedIds) return actions;
  const planner = new WantPlanner(input, running, waiting, repaired, redeployed, wantedIds);
  for (const want of input.wanted) actions.push(planner.plan(want));
  for (const [id, d] of running) {
    if (!wantedIds.has(id) && !planner.claimed.has(id)) actions.push({ kind: 'remove', deployment: d });
  }
  return actions;
}

class WantPlanner {
  /** Running ids a rename takes over (or would have, had it not failed): kept, not removed. */
  readonly claimed = new Set<string>();

  constructor(
    private readonly input: PlanInput,
    private readonly running: ReadonlyMap<string, Deployment>,
    private readonly waiting: ReadonlyMap<string, Reason>,
    private readonly repaired: ReadonlySet<string>,
    private readonly redeployed: ReadonlyMap<string, Deployment>,
    private readonly wantedIds: ReadonlySet<string>,
  ) {}

  plan(want: WantedProgram): Action {
    const current = this.running.get(want.id);
    const drift = this.waiting.get(want.id);
    if (want.expired) return this.expired(want, current, drift);
    const resolution = this.input.resolved.get(want.id);
    if (!resolution || 'error' in resolution) {
      // The registry being away changes nothing that runs (a deployment being renamed to this id included).
      if (!current) {
        const renaming = this.renameSource(want, want.attach ?? {});
        if (renaming) this.claimed.add(renaming.id);
      }
      const reason = drift ?? (resolution && 'error' in resolution ? resolution.error : unresolved(want));
      return this.report(want, drift ? 'DRIFTED' : current ? 'ATTACHED' : 'PENDING', current, reason, {
        transient: true,
        event: drift ? undefined : 'FAILED',
      });
    }
    const target = targetOf(want, resolution.ref);
    if (current && drift) {
      // A change waits until the kernel has the program's hooks again; the drift was announced by its action.
      return this.report(want, 'DRIFTED', current, drift);
    }
    if (current && sameProgram(current, target) && current.mapsDigest === target.mapsDigest) {
      const back = this.input.reported.get(want.id)?.status === 'DRIFTED' && !this.repaired.has(want.id);
      return this.report(want, 'ATTACHED', current, undefined, { event: back ? 'ATTACHED' : undefined });
    }
    const notAllowed = disallowed(target.attach, this.input.allow);
    if (notAllowed) {
      const reason = { code: 'ATTACH_NOT_ALLOWED', message: `deploy ${want.id}: ${notAllowed}` };
      return this.report(want, current ? 'ROLLED_BACK' : 'REJECTED', current, reason, {
        event: 'REJECTED',
        ref: target.ref,
      });
    }
    const renamed = current ? undefined : this.renameSource(want, target.attach);
    if (renamed) this.claimed.add(renamed.id);
    const mark = this.input.marks({
      id: want.id,
      digest: target.ref.digest,
      configDigest: target.configDigest,
      ...(target.mapsDigest !== undefined && { mapsDigest: target.mapsDigest }),
    });
    if (mark && blocks(mark, this.input.now)) {
      // What ran before keeps running in the wanted program's place, the old id included after a failed rename.
      const still = current ?? renamed;
      return this.report(want, still ? 'ROLLED_BACK' : 'FAILED', still, mark.reason, {
        event: 'FAILED',
        transient: mark.retryAt !== undefined,
      });
    }
    if (renamed) return { kind: 'handover', want, target, from: renamed };
    if (!current) return { kind: 'deploy', want, target };
    if (sameProgram(current, target)) return { kind: 'updateMaps', want, target, from: current };
    if (sameAttach(current.attach, target.attach)) return { kind: 'upgrade', want, target, from: current };
    if (sameHooks(current.attach, target.attach)) return { kind: 'reattach', want, target, from: current };
    return { kind: 'move', want, target, from: current };
  }

  /** An expired policy's program: what runs stays (re-deployed as it was when the kernel lost it), nothing new. */
  private expired(want: WantedProgram, current: Deployment | undefined, drift: Reason | undefined): Action {
    const expiry: Reason = want.expired!;
    const previous = this.input.reported.get(want.id);
    if (current) {
      if (drift) return this.report(want, 'DRIFTED', current, drift);
      const status = previous?.status === 'ROLLED_BACK' ? 'ROLLED_BACK' : 'ATTACHED';
      return this.report(want, status, current, expiry, { event: 'POLICY_EXPIRED' });
    }
    const lost = this.redeployed.get(want.id);
    const resolution = this.input.resolved.get(want.id);
    if (lost && resolution && 'ref' in resolution) {
      const target = targetOf(want, resolution.ref);
      if (sameProgram(lost, target) && lost.mapsDigest === target.mapsDigest) {
        return { kind: 'deploy', want, target };
      }
    }
    const status =
      previous?.status === 'FAILED' || previous?.status === 'REJECTED' ? previous.status : 'PENDING';
    return this.report(want, status, undefined, expiry, { event: 'POLICY_EXPIRED' });
  }

  /** A running deployment no policy names, of the same package on the same attach: the wanted id renames it. */
  private renameSource(want: WantedProgram, attach: PolicyAttach): Deployment | undefined {
    for (const [id, d] of this.running) {
      if (this.wantedIds.has(id) || this.claimed.has(id) || this.waiting.has(id)) continue;
      if (d.package === want.package && sameAttach(d.attach, attach)) return d;
    }
    return undefined;
  }

  /** `event` is emitted only when the reason changed since the last report, so timers do not flood. */
  private report(
    want: WantedProgram,
    status: ProgramStatus,
    running: Deployment | undefined,
    reason: Reason | undefined,
    o: { event?: EventState | undefined; transient?: boolean; ref?: PackageRef } = {},
  ): Action {
    const action: Action = { kind: 'report', want, status };
    if (o.ref) action.ref = o.ref;
    if (running) action.running = running;
    if (reason) action.reason = reason;
    if (o.transient) action.transient = true;
    const previous = this.input.reported.get(want.id);
    const changed = reason ? reason.message !== previous?.lastError?.message : o.event === 'ATTACHED';
    if (o.event && changed) action.event = o.event;
    return action;
  }
}

function unresolved(want: WantedProgram): Reason {
  return { code: 'INDEX_UNAVAILABLE', message: `resolve ${want.id} ${want.package}: no version chosen yet` };
}

export function disallowed(attach: PolicyAttach, allow: Allow): string | undefined {
  if (attach.interface && !allow.interfaces.includes(attach.interface)) {
    return `interface ${attach.interface} is not in this device's allowed interfaces`;
  }
  if (
    attach.cgroup &&
    !allow.cgroups.some((c) => attach.cgroup === c || attach.cgroup?.startsWith(`${c}/`))
  ) {
    return `cgroup ${attach.cgroup} is not under this device's allowed cgroups`;
  }
  return undefined;
}
