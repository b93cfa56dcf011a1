// libbpf 1.1 for the rest of sdk/bpf: objects, programs, maps, probes, ring buffers, warnings; attach calls
// re-exported from libbpf-attach.ts. Only libbpf*.ts import koffi.
import koffi from 'koffi';
import { NotSupportedError } from '../../errors.js';
import { asyncCall, fns } from './libbpf-bindings.js';
import { LAYOUT, printFn, sampleFn } from './libbpf-structs.js';
import type {
  MapHandle,
  NativeMemory,
  ObjectHandle,
  ProgramHandle,
  RawPointer,
  RingBufferHandle,
} from './libbpf-types.js';
import { KNOWN_ABIS } from './libbpf-types.js';

export * from './libbpf-attach.js';
export * from './libbpf-types.js';

/** libbpf warnings, kept so errors can say what libbpf said; never printed. */
const recentWarnings: string[] = [];
// Counts every warning ever kept, so a mark stays valid after the oldest ones fall out of the ring.
let warningCount = 0;
let warningListener: ((message: string) => void) | undefined;
// While `captureLibbpfOutput` runs, every level (debug included) also lands here.
let outputSink: string[] | undefined;
const printCallback = koffi.register((level: number, fmt: string, ap: unknown): number => {
  // INFO and DEBUG are noise for a loader that explains its own errors, unless someone is capturing.
  if (level > 0 && !outputSink) return 0;
  const buf = Buffer.alloc(1024);
  const n = fns().vsnprintf(buf, buf.length, fmt, ap);
  const message = buf
    .subarray(0, Math.max(0, Math.min(n, buf.length - 1)))
    .toString('utf8')
    .trimEnd();
  outputSink?.push(message);
  if (level > 0) return 0;
  recentWarnings.push(message);
  warningCount++;
  if (recentWarnings.length > 64) recentWarnings.shift();
  warningListener?.(message);
  return 0;
}, koffi.pointer(printFn));

let abiChecked = false;

/** The refusal for a libbpf whose struct layouts this file was not checked against, or undefined. */
export function abiProblem(major: number, minor: number): NotSupportedError | undefined {
  const abi = `${major}.${minor}`;
  if (KNOWN_ABIS.includes(abi)) return undefined;
  return new NotSupportedError(
    'LIBBPF_ABI_UNKNOWN',
    `libbpf: version ${abi} is not supported: struct layouts are pinned to libbpf ${KNOWN_ABIS.join(', ')}`,
  );
}

/** Refuses a libbpf whose ABI this file does not know; called before any other libbpf use. */
export function assertKnownAbi(): { major: number; minor: number } {
  const version = { major: fns().major(), minor: fns().minor() };
  if (!abiChecked) {
    const problem = abiProblem(version.major, version.minor);
    if (problem) throw problem;
    fns().setPrint(printCallback);
    abiChecked = true;
  }
  return version;
}

/** Subscribes to libbpf warnings (one listener; the loader forwards them to its injected logger). */
export function onLibbpfWarning(listener: ((message: string) => void) | undefined): void {
  warningListener = listener;
}

/** Warnings libbpf printed since `mark` (a value returned by `warningMark`). */
export function warningMark(): number {
  return warningCount;
}
export function warningsSince(mark: number): string[] {
  const fresh = Math.min(warningCount - mark, recentWarnings.length);
  return fresh > 0 ? recentWarnings.slice(-fresh) : [];
}

/** Runs synchronous libbpf calls and returns, with their result, every line libbpf printed meanwhile. */
export function captureLibbpfOutput<T>(fn: () => T): { value: T; output: string[] } {
  assertKnownAbi();
  const output: string[] = [];
  const outer = outputSink;
  outputSink = output;
  try {
    return { value: fn(), output };
  } finally {
    outputSink = outer;
    outer?.push(...output);
  }
}

/** Turns loading of one program on or off (libbpf loads every program of an object by default). */
export function setProgramAutoload(prog: ProgramHandle, autoload: boolean): number {
  return fns().programSetAutoload(prog, autoload);
}

export function libbpfStrerror(err: number): string {
  const buf = Buffer.alloc(256);
  fns().strerror(Math.abs(err), buf, buf.length);
  const end = buf.indexOf(0);
  return buf.subarray(0, end < 0 ? buf.length : end).toString('utf8');
}

export function errno(): number {
  return koffi.errno();
}

export function allocNative(size: number): NativeMemory {
  let ptr: unknown = koffi.alloc('uint8_t', size);
  return {
    get ptr() {
      if (ptr === null) throw new Error('libbpf: native memory used after free');
      return ptr as RawPointer;
    },
    size,
    bytes() {
      if (ptr === null) throw new Error('libbpf: native memory used after free');
      return new Uint8Array(koffi.view(ptr, size));
    },
    free() {
      if (ptr !== null) koffi.free(ptr);
      ptr = null;
    },
  };
}

export interface TestRunOutput {
  rc: number;
  errno: number;
  retval: number;
  /** Average ns per repetition, as the kernel measured it. */
  duration: number;
  dataOut: Uint8Array;
}

/** BPF_PROG_TEST_RUN: runs the program on `dataIn` `repeat` times in the kernel. */
export function progTestRun(
  fd: number,
  dataIn: Uint8Array,
  dataOutSize: number,
  repeat: number,
): TestRunOutput {
  const input = allocNative(Math.max(dataIn.length, 1));
  const output = allocNative(Math.max(dataOutSize, 1));
  try {
    input.bytes().set(dataIn);
    const opts: Record<string, unknown> = {
      sz: LAYOUT.bpf_test_run_opts,
      data_in: input.ptr,
      data_out: output.ptr,
      data_size_in: dataIn.length,
      data_size_out: dataOutSize,
      ctx_in: null,
      ctx_out: null,
      ctx_size_in: 0,
      ctx_size_out: 0,
      retval: 0,
      repeat,
      duration: 0,
      flags: 0,
      cpu: 0,
      batch_size: 0,
    };
    const rc = fns().progTestRun(fd, opts);
    const err = rc < 0 ? koffi.errno() : 0;
    const outSize = Math.min(Number(opts.data_size_out), dataOutSize);
    return {
      rc,
      errno: err,
      retval: Number(opts.retval),
      duration: Number(opts.duration),
      dataOut: output.bytes().slice(0, outSize),
    };
  } finally {
    input.free();
    output.free();
  }
}

/** Copies `size` bytes out of memory libbpf owns. */
export function readNative(ptr: RawPointer, size: number): Uint8Array {
  return new Uint8Array(koffi.view(ptr, size)).slice();
}

export function readU32(ptr: RawPointer, offset: number): number {
  return koffi.decode(ptr, offset, 'uint32_t') as number;
}

export function openMem(
  buf: NativeMemory,
  name: string,
  pinRoot?: string,
  btfPath?: string,
): { obj: ObjectHandle | null; errno: number } {
  const opts = {
    sz: LAYOUT.bpf_object_open_opts,
    object_name: name,
    pin_root_path: pinRoot ?? null,
    // CO-RE relocates against this file instead of the kernel's BTF (libbpf reads it at load).
    btf_custom_path: btfPath ?? null,
  };
  const obj = fns().objectOpenMem(buf.ptr, buf.size, opts);
  return { obj, errno: obj ? 0 : koffi.errno() };
}

export async function loadObject(obj: ObjectHandle): Promise<number> {
  return (await asyncCall(fns().objectLoad, obj)).value;
}

export function mapLookupBatch(
  fd: number,
  inBatch: Uint8Array | null,
  outBatch: Uint8Array,
  keys: Uint8Array,
  values: Uint8Array,
  count: number,
): { rc: number; count: number; errno: number } {
  const inout = [count];
  const rc = fns().mapLookupBatch(fd, inBatch, outBatch, keys, values, inout, {
    sz: LAYOUT.bpf_map_batch_opts,
    elem_flags: 0,
    flags: 0,
  });
  return { rc, count: inout[0] ?? 0, errno: rc < 0 ? koffi.errno() : 0 };
}

export interface ProbeLoadOptions {
  expectedAttachType?: number;
  attachBtfId?: number;
  progFlags?: number;
}

export interface ProbeLoadResult {
  /** The program fd (the caller closes it) or -errno. */
  fd: number;
  errno: number;
  /** The verifier log (level 1), for telling one refusal from another. */
  log: string;
}

let probeLoads = 0;

/** Kernel objects created by feature probes so far (program loads and map creations), for cache tests. */
export function probeLoadCount(): number {
  return probeLoads;
}

/** Loads `insns` (8 bytes each) as a probe program of `progType`, the way `bpftool feature probe` does. */
export function loadProbeProgram(
  progType: number,
  insns: Uint8Array,
  options: ProbeLoadOptions = {},
): ProbeLoadResult {
  const log = allocNative(4096);
  try {
    log.bytes()[0] = 0;
    const opts = {
      sz: LAYOUT.bpf_prog_load_opts,
      expected_attach_type: options.expectedAttachType ?? 0,
      attach_btf_id: options.attachBtfId ?? 0,
      prog_flags: options.progFlags ?? 0,
      log_level: 1,
      log_size: log.size,
      log_buf: log.ptr,
    };
    probeLoads++;
    const fd = fns().progLoad(progType, 'bpfleet_probe', 'GPL', insns, insns.length / 8, opts);
    const err = fd < 0 ? koffi.errno() : 0;
    const bytes = log.bytes();
    const end = bytes.indexOf(0);
    return {
      fd,
      errno: err,
      log: Buffer.from(bytes.subarray(0, end < 0 ? bytes.length : end)).toString('utf8'),
    };
  } finally {
    log.free();
  }
}

export function objInfo(fd: number, size: number): { rc: number; info: Uint8Array } {
  const info = new Uint8Array(size);
  const len = [size];
  const rc = fns().objInfo(fd, info, len);
  return { rc, info };
}

export function initialValue(map: MapHandle): Uint8Array | null {
  const size = [0];
  const ptr = fns().mapInitialValue(map, size);
  return ptr ? readNative(ptr, size[0] ?? 0) : null;
}

export type SampleListener = (data: Uint8Array) => void;

/** A ring buffer whose samples arrive through `listener`; the callback pointer lives as long as it does. */
export function ringBufferNew(
  mapFd: number,
  listener: SampleListener,
): { rb: RingBufferHandle | null; errno: number; release: () => void } {
  const cb = koffi.register((_ctx: unknown, data: unknown, size: number | bigint): number => {
    listener(readNative(data as RawPointer, Number(size)));
    return 0;
  }, koffi.pointer(sampleFn));
  const rb = fns().ringNew(mapFd, cb, null, null);
  const errnoValue = rb ? 0 : koffi.errno();
  return { rb, errno: errnoValue, release: () => koffi.unregister(cb) };
}

export async function ringBufferPoll(rb: RingBufferHandle, timeoutMs: number): Promise<number> {
  return (await asyncCall(fns().ringPoll, rb, timeoutMs)).value;
}

function makeApi() {
  const f = fns();
  return {
    numPossibleCpus: f.numPossibleCpus,
    progTypeStr: f.progTypeStr,
    mapTypeStr: f.mapTypeStr,
    attachTypeStr: f.attachTypeStr,
    linkTypeStr: f.linkTypeStr,
    probeProgType: (t: number) => {
      probeLoads++;
      return fns().probeProgType(t, null);
    },
    probeMapType: (t: number) => {
      probeLoads++;
      return fns().probeMapType(t, null);
    },
    probeHelper: (t: number, helper: number) => {
      probeLoads++;
      return fns().probeHelper(t, helper, null);
    },
    objectClose: f.objectClose,
    objectBtf: f.objectBtf,
    objectNextProgram: f.objectNextProgram,
    objectNextMap: f.objectNextMap,
    programName: f.programName,
    programSection: f.programSection,
    programType: f.programType,
    programSetType: f.programSetType,
    programAttachType: f.programAttachType,
    programSetAttachType: f.programSetAttachType,
    programFd: f.programFd,
    programSetLogBuf: f.programSetLogBuf,
    mapName: f.mapName,
    mapType: f.mapType,
    mapKeySize: f.mapKeySize,
    mapValueSize: f.mapValueSize,
    mapMaxEntries: f.mapMaxEntries,
    mapFlags: f.mapFlags,
    mapIsInternal: f.mapIsInternal,
    mapFd: f.mapFd,
    mapReuseFd: f.mapReuseFd,
    mapSetInitialValue: f.mapSetInitialValue,
    mapLookup: f.mapLookup,
    mapUpdate: f.mapUpdate,
    mapDelete: f.mapDelete,
    mapNextKey: f.mapNextKey,
    objPin: f.objPin,
    objGet: f.objGet,
    linkDetach: f.linkDetach,
    progDetach2: f.progDetach2,
    progGetFdById: f.progGetFdById,
    linkOpen: f.linkOpen,
    linkFd: f.linkFd,
    linkPin: f.linkPin,
    linkUnpin: f.linkUnpin,
    linkDestroy: f.linkDestroy,
    btfFindByNameKind: f.btfFindByNameKind,
    btfTypeById: f.btfTypeById,
    btfName: f.btfName,
    btfLoadFromKernelById: f.btfLoadFromKernelById,
    btfFree: f.btfFree,
    ringFree: f.ringFree,
    ifNameToIndex: f.ifNameToIndex,
  };
}

type Api = ReturnType<typeof makeApi>;
let api: Api | undefined;

/** Everything else: thin synchronous calls, names kept close to C (bound on first use). */
export const libbpf: Api = new Proxy({} as Api, {
  get(_target, key) {
    api ??= makeApi();
    return api[key as keyof Api];
  },
});
