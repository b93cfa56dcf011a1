// A device's inventory (what it is and what its kernel can run), sent in its retained `reported` message.
import { isObject } from '../is-object.js';
import { ProtocolError } from './protocol-error.js';

/**
 * Kernel feature answers probed so far: `true`, or why the kernel lacks it (the probe's words). A name that is
 * absent was not probed: the device decides when a package asks for it.
 */
export type ProbedTypes = Record<string, true | string>;

export interface DeviceInventory {
  /** The SDK's arch name (`x86`, `arm64`, …). */
  arch: string;
  endianness: 'little' | 'big';
  kernel: {
    /** `uname -r`. */
    release: string;
    /** `uname -v`. */
    version: string;
    /** The GNU build id from /sys/kernel/notes (hex), the key of a per-kernel BTF; absent when unreadable. */
    buildId?: string;
  };
  /** Where the device's BTF comes from: the kernel's own, one shipped to it (`external`), or none. */
  btf: 'kernel' | 'external' | 'none';
  libbpf: string;
  capabilities: string[];
  programTypes: ProbedTypes;
  attachTypes: ProbedTypes;
  agentVersion: string;
  /** Total memory of the device, bytes. */
  memoryBytes: number;
}

const BTF_SOURCES = ['kernel', 'external', 'none'] as const;
const NAME = /^[a-z0-9_]{1,64}$/;
const CAPABILITY = /^CAP_[A-Z_]{1,32}$/;

type Json = Record<string, unknown>;

function fail(path: string, expected: string): never {
  throw new ProtocolError('MESSAGE_INVALID', `reported state inventory.${path}: expected ${expected}`);
}

function only(obj: Json, path: string, keys: readonly string[]): void {
  for (const key of Object.keys(obj)) if (!keys.includes(key)) fail(`${path}${key}`, 'no such field');
}

function text(value: unknown, path: string, max = 256): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) fail(path, 'a string');
  return value;
}

function probed(value: unknown, path: string): ProbedTypes {
  if (!isObject(value) || Object.keys(value).length > 256) fail(path, 'an object of at most 256 type names');
  const out: ProbedTypes = {};
  for (const [name, answer] of Object.entries(value)) {
    if (!NAME.test(name)) fail(`${path}.${name.slice(0, 64)}`, 'a libbpf type name');
    if (answer !== true) out[name] = text(answer, `${path}.${name}`, 512);
    else out[name] = true;
  }
  return out;
}

/** Strict: unknown fields are refused, like the rest of the device messages. */
export function toInventory(value: unknown): DeviceInventory {
  if (!isObject(value)) fail('(root)', 'an object');
  only(value, '', [
    'arch',
    'endianness',
    'kernel',
    'btf',
    'libbpf',
    'capabilities',
    'programTypes',
    'attachTypes',
    'agentVersion',
    'memoryBytes',
  ]);
  const kernel = value.kernel;
  if (!isObject(kernel)) fail('kernel', 'an object');
  only(kernel, 'kernel.', ['release', 'version', 'buildId']);
  if (value.endianness !== 'little' && value.endianness !== 'big') fail('endianness', '"little" or "big"');
  if (!(BTF_SOURCES as readonly unknown[]).includes(value.btf)) fail('btf', BTF_SOURCES.join(', '));
  const caps = value.capabilities;
  if (
    !Array.isArray(caps) ||
    caps.length > 64 ||
    caps.some((c) => typeof c !== 'string' || !CAPABILITY.test(c))
  )
    fail('capabilities', 'a list of capability names (CAP_…)');
  const memory = value.memoryBytes;
  if (typeof memory !== 'number' || !Number.isSafeInteger(memory) || memory < 0)
    fail('memoryBytes', 'a non-negative integer');
  const buildId = kernel.buildId;
  if (buildId !== undefined && (typeof buildId !== 'string' || !/^[0-9a-f]{2,128}$/.test(buildId)))
    fail('kernel.buildId', 'lowercase hex');
  return {
    arch: text(value.arch, 'arch', 32),
    endianness: value.endianness,
    kernel: {
      release: text(kernel.release, 'kernel.release'),
      version: text(kernel.version, 'kernel.version'),
      ...(buildId !== undefined && { buildId: buildId as string }),
    },
    btf: value.btf as DeviceInventory['btf'],
    libbpf: text(value.libbpf, 'libbpf', 32),
    capabilities: caps as string[],
    programTypes: probed(value.programTypes, 'programTypes'),
    attachTypes: probed(value.attachTypes, 'attachTypes'),
    agentVersion: text(value.agentVersion, 'agentVersion', 64),
    memoryBytes: memory,
  };
}
