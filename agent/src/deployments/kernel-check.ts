// The kernel as observer: each link a deployment holds, checked against what the loader recorded, and repaired
// from what this process holds open (the link fd, the collection).
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type AttachTarget, interfaceIndex, type LinkInfo, type PinnableLink } from '@bpfleet/sdk/bpf';
import { errorMessage } from '@bpfleet/sdk/errors';
import type { KernelCheck } from '../ports.js';
import type { HeldDeployment } from './held-deployment.js';

type Outcome = NonNullable<KernelCheck['outcome']>;
type DriftCode = 'DRIFT_TARGET_MISSING' | 'DRIFT_DETACHED' | 'DRIFT_PROGRAM_REPLACED' | 'DRIFT_PIN_MISSING';

interface Finding {
  code: DriftCode;
  message: string;
  outcome: Outcome;
}

/** Attaches a program of the held collection again where the record says (the old link is detached). */
export type Reattach = (name: string, target: AttachTarget) => Promise<PinnableLink>;

const SEVERITY: DriftCode[] = [
  'DRIFT_TARGET_MISSING',
  'DRIFT_DETACHED',
  'DRIFT_PROGRAM_REPLACED',
  'DRIFT_PIN_MISSING',
];
const OUTCOMES: Outcome[] = ['redeploy', 'waiting', 'repaired'];

/** `ifindexOf` resolves an interface name now (0: none); one check round may share one lookup per name. */
export async function checkDeployment(
  id: string,
  dir: string,
  held: HeldDeployment,
  reattach: Reattach,
  ifindexOf: (name: string) => number = interfaceIndex,
): Promise<KernelCheck> {
  const findings: Finding[] = [];
  for (const [name, programId] of Object.entries(held.version.programIds)) {
    const where = `deployment ${id}: program ${name}`;
    try {
      findings.push(
        ...(await checkLink(where, name, programId, join(dir, 'links', name), held, reattach, ifindexOf)),
      );
    } catch (err) {
      findings.push({
        code: 'DRIFT_DETACHED',
        message: `${where}: repair failed: ${errorMessage(err)}`,
        outcome: 'redeploy',
      });
    }
  }
  if (findings.length === 0) return { id };
  const worst = [...findings].sort(
    (a, b) => SEVERITY.indexOf(a.code) - SEVERITY.indexOf(b.code),
  )[0] as Finding;
  const outcome = OUTCOMES.find((o) => findings.some((f) => f.outcome === o)) as Outcome;
  const message = findings.length > 1 ? `${worst.message} (and ${findings.length - 1} more)` : worst.message;
  return { id, drift: { code: worst.code, message }, outcome };
}

async function checkLink(
  where: string,
  name: string,
  programId: number,
  pin: string,
  held: HeldDeployment,
  reattach: Reattach,
  ifindexOf: (name: string) => number,
): Promise<Finding[]> {
  const link = held.links.get(name);
  if (!link) return [{ code: 'DRIFT_DETACHED', message: `${where}: no link held`, outcome: 'redeploy' }];
  const out: Finding[] = [];
  const target = held.version.targets?.[name];
  const info = link.info();
  const state = target ? targetState(target, info, ifindexOf) : 'ok';
  if (state !== 'ok' && target) {
    const gone = state === 'missing';
    const code = gone ? 'DRIFT_TARGET_MISSING' : 'DRIFT_DETACHED';
    const message = `${where}: ${gone ? `${describe(target)} is gone` : `detached from ${describe(target)}`}`;
    // Nothing can attach to a target that is gone, with or without a collection: wait until it is back.
    if (gone) return [{ code, message, outcome: 'waiting' }];
    if (!held.collection) return [{ code, message, outcome: 'redeploy' }];
    // Make before break: the new link is on the hook before the stale one goes (and with it the old pin).
    const fresh = await reattach(name, target);
    try {
      link.remove();
    } finally {
      held.links.set(name, fresh);
      fresh.pin(pin);
    }
    return [{ code, message: `${message}; attached again`, outcome: 'repaired' }];
  }
  if (info.programId !== programId) {
    const message = `${where}: the link runs program ${info.programId}, not ${programId}`;
    if (!held.collection) return [{ code: 'DRIFT_PROGRAM_REPLACED', message, outcome: 'redeploy' }];
    link.update(held.collection.program(name));
    out.push({ code: 'DRIFT_PROGRAM_REPLACED', message: `${message}; swapped back`, outcome: 'repaired' });
  }
  if (!existsSync(pin)) {
    link.pin(pin);
    out.push({
      code: 'DRIFT_PIN_MISSING',
      message: `${where}: pin ${pin} was deleted; pinned again`,
      outcome: 'repaired',
    });
  }
  return out;
}

/** `missing`: the interface or cgroup is not there; `moved`: the link is detached or on another one. */
function targetState(
  target: AttachTarget,
  info: LinkInfo,
  ifindexOf: (name: string) => number,
): 'ok' | 'missing' | 'moved' {
  switch (target.kind) {
    case 'xdp':
    case 'tcx': {
      const want = typeof target.interface === 'number' ? target.interface : ifindexOf(target.interface);
      if (want === 0) return 'missing';
      return info.ifindex === want ? 'ok' : 'moved';
    }
    case 'cgroup': {
      // A cgroup's id is its cgroup2 directory's inode number.
      const want = statSync(target.path, { bigint: true, throwIfNoEntry: false })?.ino;
      if (want === undefined) return 'missing';
      return info.cgroupId === want ? 'ok' : 'moved';
    }
    default:
      return 'ok';
  }
}

function describe(target: AttachTarget): string {
  if (target.kind === 'cgroup') return `cgroup ${target.path}`;
  if (target.kind === 'auto') return 'its hook';
  return `interface ${target.interface}`;
}
