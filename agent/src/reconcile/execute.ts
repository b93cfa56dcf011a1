// Runs a reconcile plan's actions through the ports, in order, until done or the pass is cancelled.
import { BpfleetError, errorMessage, PolicyError } from '@bpfleet/sdk/errors';
import type { Manifest } from '@bpfleet/sdk/manifest';
import { type EncodedMaps, encodePolicyMaps } from '@bpfleet/sdk/policy';
import type { Logger } from '../logger.js';
import type {
  Deployment,
  DeploySpec,
  Fetcher,
  HostProbe,
  Loader,
  PackageVerifier,
  VerifiedPackage,
  WantedProgram,
} from '../ports.js';
import type { EventState, ProgramReport, ProgramStatus, Reason } from '../reporting/report.js';
import { type FailureMarks, isNetworkFailure, isTransientFailure } from './failure-marks.js';
import type { Action, ChangeAction } from './plan.js';

export interface EventFields {
  deployment: string;
  package: string;
  version?: string;
  digest?: string;
  reason?: Reason;
}

export interface ExecutorPorts {
  fetcher: Fetcher;
  verifier: PackageVerifier;
  probe: HostProbe;
  loader: Loader;
}

export interface ExecuteContext {
  ports: ExecutorPorts;
  logger: Logger;
  /** What runs, by id: changed as actions succeed. */
  running: Map<string, Deployment>;
  /** The report per wanted id: set by every action about a wanted program. */
  reports: Map<string, ProgramReport>;
  marks: FailureMarks;
  onEvent: (state: EventState, fields: EventFields) => void;
  /** Aborted when the agent stops: no action starts after it, a download in flight is cut. */
  signal: AbortSignal;
  now: () => number;
}

export function toReason(err: unknown): Reason {
  if (err instanceof BpfleetError) return { code: err.code, message: err.message };
  return { code: 'INTERNAL', message: errorMessage(err) };
}

/** A deployment made under this id while it moves to other hooks, then handed over to the real id. */
export function movingId(id: string): string {
  // Deployment ids are [a-z0-9_-]: no policy can name this one (and bpffs refuses names with a dot).
  return `${id}-NEXT`;
}

/** Runs the actions; returns whether something was left undone for a reason that passes (retry soon). */
export async function executePlan(actions: readonly Action[], ctx: ExecuteContext): Promise<boolean> {
  let transient = false;
  for (const action of actions) {
    if (ctx.signal.aborted) return transient;
    switch (action.kind) {
      case 'repaired':
        ctx.logger.warn('drift repaired', { deployment: action.deployment.id, ...action.drift });
        if (action.announce) ctx.onEvent('DRIFTED', { ...deployed(action.deployment), reason: action.drift });
        ctx.onEvent('ATTACHED', deployed(action.deployment));
        break;
      case 'drifted':
        if (!action.announce) break;
        ctx.logger.warn('drift', { deployment: action.deployment.id, ...action.drift });
        ctx.onEvent('DRIFTED', { ...deployed(action.deployment), reason: action.drift });
        break;
      case 'redeploy':
        ctx.logger.warn('drift: deploying again', { deployment: action.deployment.id, ...action.drift });
        ctx.onEvent('DRIFTED', { ...deployed(action.deployment), reason: action.drift });
        await detachQuietly(ctx, action.deployment.id);
        ctx.running.delete(action.deployment.id);
        break;
      case 'remove':
        await remove(ctx, action.deployment);
        break;
      case 'report': {
        settle(ctx, action.want, action.status, action.running, action.reason);
        transient ||= action.transient === true;
        if (!action.event) break;
        const fields: EventFields = { deployment: action.want.id, package: action.want.package };
        if (action.ref) Object.assign(fields, { version: action.ref.version, digest: action.ref.digest });
        ctx.onEvent(action.event, { ...fields, ...(action.reason && { reason: action.reason }) });
        break;
      }
      default:
        transient = (await change(ctx, action)) || transient;
    }
  }
  return transient;
}

/** Fetch, verify, check the host, encode the maps, then the loader's step for the action. True when transient. */
async function change(ctx: ExecuteContext, action: ChangeAction): Promise<boolean> {
  const { want, target } = action;
  const { ref } = target;
  const fields = { deployment: want.id, package: want.package, version: ref.version, digest: ref.digest };
  const subject = {
    id: want.id,
    digest: ref.digest,
    configDigest: target.configDigest,
    ...(target.mapsDigest !== undefined && { mapsDigest: target.mapsDigest }),
  };
  ctx.onEvent('QUEUED', fields);
  let stage: 'fetch' | 'verify' | 'load' = 'fetch';
  try {
    ctx.onEvent('DOWNLOADING', fields);
    const artifact = await ctx.ports.fetcher.fetch(ref, ctx.signal);
    stage = 'verify';
    ctx.onEvent('VERIFYING', fields);
    const pkg = await ctx.ports.verifier.verify(artifact);
    const missing = await ctx.ports.probe.missing(pkg);
    if (missing.length > 0) {
      throw new BpfleetError(
        'REQUIREMENTS_NOT_MET',
        `deploy ${want.id} ${ref.package}@${ref.version}: host lacks ${missing.join('; ')}`,
      );
    }
    stage = 'load';
    const spec: DeploySpec = {
      id: want.id,
      pkg,
      attach: target.attach,
      config: target.config,
      configDigest: target.configDigest,
      maps: encodeMaps(want, pkg),
      ...(target.mapsDigest !== undefined && { mapsDigest: target.mapsDigest }),
    };
    const d = await load(ctx, action, spec);
    ctx.running.set(want.id, d);
    ctx.marks.forget(subject);
    ctx.onEvent('ATTACHED', fields);
    settle(ctx, want, 'ATTACHED', d, undefined);
    return false;
  } catch (err) {
    // A stop cut this short: nothing failed, the next start picks it up.
    if (ctx.signal.aborted) return false;
    const reason = toReason(err);
    const network = stage === 'fetch' || isNetworkFailure(reason.code);
    if (!network) ctx.marks.record(subject, reason, ctx.now());
    const still = ctx.running.get(want.id) ?? stillRunning(ctx, action);
    const state: EventState = still ? 'ROLLED_BACK' : stage === 'verify' ? 'REJECTED' : 'FAILED';
    ctx.logger.warn('deploy failed', { ...fields, state, code: reason.code, error: reason.message });
    settle(ctx, want, state as ProgramStatus, still, reason);
    ctx.onEvent(state, { ...fields, reason });
    return network || isTransientFailure(reason.code);
  }
}

async function load(ctx: ExecuteContext, action: ChangeAction, spec: DeploySpec): Promise<Deployment> {
  const { loader } = ctx.ports;
  switch (action.kind) {
    case 'deploy':
      return loader.attach(spec);
    case 'upgrade':
      return loader.upgrade(action.from, spec);
    case 'updateMaps':
      return loader.updateMaps(action.from, spec);
    case 'handover': {
      const d = await loader.handover(action.from, spec);
      ctx.running.delete(action.from.id);
      return d;
    }
    case 'reattach':
      await loader.detach(action.from.id);
      ctx.running.delete(action.from.id);
      return loader.attach(spec);
    case 'move': {
      // Attached on the new hooks under a passing id first, so the program runs somewhere at every moment.
      const moving = movingId(spec.id);
      if (ctx.running.has(moving)) {
        await loader.detach(moving);
        ctx.running.delete(moving);
      }
      const next = await loader.attach({ ...spec, id: moving });
      ctx.running.set(moving, next);
      await loader.detach(action.from.id);
      ctx.running.delete(action.from.id);
      const d = await loader.handover(next, spec);
      ctx.running.delete(moving);
      return d;
    }
  }
}

/** After a failed rename or move, what still runs in the wanted program's place under another id. */
function stillRunning(ctx: ExecuteContext, action: ChangeAction): Deployment | undefined {
  if (action.kind === 'handover') return ctx.running.get(action.from.id);
  if (action.kind === 'move') return ctx.running.get(movingId(action.want.id));
  return undefined;
}

/** The policy's entries checked against this version's manifest, before anything is loaded or written. */
function encodeMaps(want: WantedProgram, pkg: VerifiedPackage): EncodedMaps {
  const manifest = pkg.manifest as Manifest;
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

async function remove(ctx: ExecuteContext, d: Deployment): Promise<void> {
  try {
    await ctx.ports.loader.detach(d.id);
    ctx.running.delete(d.id);
    ctx.onEvent('REMOVED', deployed(d));
  } catch (err) {
    ctx.logger.error('detach failed', { deployment: d.id, error: errorMessage(err) });
  }
}

async function detachQuietly(ctx: ExecuteContext, id: string): Promise<void> {
  try {
    await ctx.ports.loader.detach(id);
  } catch (err) {
    ctx.logger.error('detach of drifted remains failed', { deployment: id, error: errorMessage(err) });
  }
}

function deployed(d: Deployment): EventFields {
  return { deployment: d.id, package: d.package, version: d.version, digest: d.digest };
}

function settle(
  ctx: ExecuteContext,
  want: WantedProgram,
  status: ProgramStatus,
  running: Deployment | undefined,
  reason: Reason | undefined,
): void {
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
  ctx.reports.set(want.id, report);
}
