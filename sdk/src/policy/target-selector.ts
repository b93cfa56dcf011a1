// `target.where`: a policy's selector on device inventory, its strict parser, and the match against an inventory.
import type { DeviceInventory } from '../protocol/inventory.js';
import { PolicyFieldError } from './policy-error.js';

/** Every field given must hold; a list field holds when the device has every entry (arch: any one). */
export interface TargetSelector {
  /** The device's arch is one of these. */
  arch?: string[];
  /** Kernel release constraints, space-separated: `">=6.6"`, `">=5.10 <6.0"`. */
  kernel?: string;
  /** `true`: the kernel has its own BTF; `false`: it has none. */
  btf?: boolean;
  programTypes?: string[];
  attachTypes?: string[];
  capabilities?: string[];
}

/** How one selector field judged one device: it holds, it does not (with why), or the inventory cannot say. */
export interface SelectorVerdict {
  /** Why the device is left out, one line each; empty when it is selected. */
  excluded: string[];
  /** What the inventory could not answer (types not probed yet): the device decides. */
  unknown: string[];
}

/** Asks the device for a type its inventory has not probed (the agent passes its probe; the edge cannot). */
export type ProbeType = (kind: 'programType' | 'attachType', name: string) => true | string | undefined;

const FIELDS = ['arch', 'kernel', 'btf', 'programTypes', 'attachTypes', 'capabilities'] as const;
const ARCH = /^[a-z0-9_]{1,16}$/;
const TYPE_NAME = /^[a-z0-9_]{1,64}$/;
const CAPABILITY = /^CAP_[A-Z_]{1,32}$/;
const CONSTRAINT = /^(>=|<=|>|<|=)?(\d{1,4})(?:\.(\d{1,4}))?(?:\.(\d{1,6}))?$/;

function fail(code: string, path: string, message: string): never {
  throw new PolicyFieldError(code, path, message);
}

function list(value: unknown, path: string, re: RegExp, what: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 64)
    fail('INVALID_TYPE', path, 'expected a non-empty list (at most 64)');
  return value.map((v, i) => {
    if (typeof v !== 'string' || !re.test(v))
      fail('INVALID_VALUE', `${path}[${i}]`, `expected ${what}, got ${JSON.stringify(v)}`);
    return v;
  });
}

interface Constraint {
  op: '>=' | '<=' | '>' | '<' | '=';
  version: [number, number, number];
  text: string;
}

function constraints(text: string, path: string): Constraint[] {
  const parts = text.trim().split(/\s+/);
  if (text.trim() === '' || parts.length > 4)
    fail('INVALID_VALUE', path, 'expected 1 to 4 kernel constraints like ">=6.6"');
  return parts.map((part) => {
    const m = CONSTRAINT.exec(part);
    if (!m)
      fail(
        'INVALID_VALUE',
        path,
        `expected kernel constraints like ">=6.6" or ">=5.10 <6.0", got ${JSON.stringify(text)}`,
      );
    return {
      op: (m[1] ?? '=') as Constraint['op'],
      version: [Number(m[2]), Number(m[3] ?? 0), Number(m[4] ?? 0)],
      text: part,
    };
  });
}

/** Parses `target.where`; throws PolicyFieldError naming the field. */
export function toTargetSelector(value: unknown, path: string): TargetSelector {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail('INVALID_TYPE', path, 'expected an object');
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!(FIELDS as readonly string[]).includes(key))
      fail('UNKNOWN_FIELD', `${path}.${key}`, 'unknown field');
  }
  if (Object.keys(obj).length === 0)
    fail('INVALID_VALUE', path, `expected at least one of ${FIELDS.join(', ')}`);
  const where: TargetSelector = {};
  if (obj.arch !== undefined) where.arch = list(obj.arch, `${path}.arch`, ARCH, 'an arch name');
  if (obj.kernel !== undefined) {
    if (typeof obj.kernel !== 'string') fail('INVALID_TYPE', `${path}.kernel`, 'expected a string');
    constraints(obj.kernel, `${path}.kernel`);
    where.kernel = obj.kernel;
  }
  if (obj.btf !== undefined) {
    if (typeof obj.btf !== 'boolean') fail('INVALID_TYPE', `${path}.btf`, 'expected true or false');
    where.btf = obj.btf;
  }
  if (obj.programTypes !== undefined)
    where.programTypes = list(
      obj.programTypes,
      `${path}.programTypes`,
      TYPE_NAME,
      'a libbpf program type name',
    );
  if (obj.attachTypes !== undefined)
    where.attachTypes = list(obj.attachTypes, `${path}.attachTypes`, TYPE_NAME, 'a libbpf attach type name');
  if (obj.capabilities !== undefined)
    where.capabilities = list(obj.capabilities, `${path}.capabilities`, CAPABILITY, 'a capability (CAP_…)');
  return where;
}

/** `6.18.44-fc` → [6, 18, 44]; missing parts count as 0. */
export function kernelVersion(release: string): [number, number, number] {
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(release.trim());
  return m ? [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)] : [0, 0, 0];
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return Math.sign((a[i] ?? 0) - (b[i] ?? 0));
  return 0;
}

const HOLDS: Record<Constraint['op'], (d: number) => boolean> = {
  '>=': (d) => d >= 0,
  '<=': (d) => d <= 0,
  '>': (d) => d > 0,
  '<': (d) => d < 0,
  '=': (d) => d === 0,
};

/** Whether a kernel release meets constraints like ">=6.6"; the constraints that fail, as written. */
export function unmetKernel(release: string, text: string): string[] {
  const version = kernelVersion(release);
  return constraints(text, 'kernel')
    .filter((c) => !HOLDS[c.op](compare(version, c.version)))
    .map((c) => c.text);
}

function types(
  kind: 'programType' | 'attachType',
  names: readonly string[],
  inventory: DeviceInventory,
  probe: ProbeType | undefined,
  out: SelectorVerdict,
): void {
  const known = kind === 'programType' ? inventory.programTypes : inventory.attachTypes;
  const label = kind === 'programType' ? 'program type' : 'attach type';
  for (const name of names) {
    const answer = known[name] ?? probe?.(kind, name);
    if (answer === undefined) out.unknown.push(`${label} ${name} (not probed yet)`);
    else if (answer !== true) out.excluded.push(`${label} ${name} unsupported (${answer})`);
  }
}

/** Judges one device's inventory against a selector; every failing field gives one line. */
export function matchSelector(
  where: TargetSelector,
  inventory: DeviceInventory,
  probe?: ProbeType,
): SelectorVerdict {
  const out: SelectorVerdict = { excluded: [], unknown: [] };
  if (where.arch && !where.arch.includes(inventory.arch))
    out.excluded.push(`arch ${inventory.arch} is not ${where.arch.join(' or ')}`);
  if (where.kernel !== undefined) {
    const failed = unmetKernel(inventory.kernel.release, where.kernel);
    if (failed.length > 0) out.excluded.push(`kernel ${inventory.kernel.release} is not ${failed.join(' ')}`);
  }
  if (where.btf === true && inventory.btf !== 'kernel')
    out.excluded.push(`kernel has no BTF (${inventory.btf})`);
  if (where.btf === false && inventory.btf === 'kernel')
    out.excluded.push('kernel has BTF (the selector wants none)');
  if (where.programTypes) types('programType', where.programTypes, inventory, probe, out);
  if (where.attachTypes) types('attachType', where.attachTypes, inventory, probe, out);
  for (const cap of where.capabilities ?? []) {
    if (!inventory.capabilities.includes(cap)) out.excluded.push(`capability ${cap} missing`);
  }
  return out;
}
