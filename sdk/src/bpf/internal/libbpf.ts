// The one file that imports koffi: libbpf 1.1 functions and structs, typed for the rest of sdk/bpf.
import koffi from 'koffi';
import { NotSupportedError } from '../../errors.js';

/** Opaque libbpf handles; only this file creates them. */
export interface ObjectHandle {
  readonly __brand: 'bpf_object';
}
export interface ProgramHandle {
  readonly __brand: 'bpf_program';
}
export interface MapHandle {
  readonly __brand: 'bpf_map';
}
export interface LinkHandle {
  readonly __brand: 'bpf_link';
}
export interface BtfHandle {
  readonly __brand: 'btf';
}
export interface RingBufferHandle {
  readonly __brand: 'ring_buffer';
}
/** A raw pointer into memory libbpf or koffi owns. */
export interface RawPointer {
  readonly __brand: 'pointer';
}

/** libbpf major.minor versions whose struct layouts this file matches. */
export const KNOWN_ABIS = ['1.1'];

/** Native memory with a stable address, for buffers libbpf keeps past the call that receives them. */
export interface NativeMemory {
  readonly ptr: RawPointer;
  readonly size: number;
  bytes(): Uint8Array;
  free(): void;
}

export interface LinkCreateOptions {
  flags?: number;
}

export interface TcHook {
  ifindex: number;
  attachPoint: number;
}

export interface TcOptions {
  progFd: number;
  handle: number;
  priority: number;
}

type Callback<T> = (err: unknown, value: T) => void;
interface AsyncFn<A extends unknown[], R> {
  (...args: A): R;
  async: (...args: [...A, Callback<R>]) => void;
}

koffi.opaque('bpf_object');
koffi.opaque('bpf_program');
koffi.opaque('bpf_map');
koffi.opaque('bpf_link');
koffi.opaque('btf');
koffi.opaque('ring_buffer');

koffi.struct('bpf_object_open_opts', {
  sz: 'size_t',
  object_name: 'const char *',
  relaxed_maps: 'bool',
  pin_root_path: 'const char *',
  unused_attach_prog_fd: 'uint32_t',
  kconfig: 'const char *',
  btf_custom_path: 'const char *',
  kernel_log_buf: 'void *',
  kernel_log_size: 'size_t',
  kernel_log_level: 'uint32_t',
});
koffi.struct('bpf_link_create_opts', {
  sz: 'size_t',
  flags: 'uint32_t',
  iter_info: 'void *',
  iter_info_len: 'uint32_t',
  target_btf_id: 'uint32_t',
  union_words: koffi.array('uint64_t', 4),
});
koffi.struct('bpf_prog_load_opts', {
  sz: 'size_t',
  attempts: 'int',
  expected_attach_type: 'int',
  prog_btf_fd: 'uint32_t',
  prog_flags: 'uint32_t',
  prog_ifindex: 'uint32_t',
  kern_version: 'uint32_t',
  attach_btf_id: 'uint32_t',
  attach_prog_fd: 'uint32_t',
  attach_btf_obj_fd: 'uint32_t',
  fd_array: 'void *',
  func_info: 'void *',
  func_info_cnt: 'uint32_t',
  func_info_rec_size: 'uint32_t',
  line_info: 'void *',
  line_info_cnt: 'uint32_t',
  line_info_rec_size: 'uint32_t',
  log_level: 'uint32_t',
  log_size: 'uint32_t',
  log_buf: 'void *',
});
koffi.struct('bpf_link_update_opts', { sz: 'size_t', flags: 'uint32_t', old_prog_fd: 'uint32_t' });
koffi.struct('bpf_xdp_attach_opts', { sz: 'size_t', old_prog_fd: 'int' });
koffi.struct('bpf_xdp_query_opts', {
  sz: 'size_t',
  prog_id: 'uint32_t',
  drv_prog_id: 'uint32_t',
  hw_prog_id: 'uint32_t',
  skb_prog_id: 'uint32_t',
  attach_mode: 'uint8_t',
});
koffi.struct('bpf_prog_attach_opts', { sz: 'size_t', flags: 'uint32_t', replace_prog_fd: 'int' });
koffi.struct('bpf_map_batch_opts', { sz: 'size_t', elem_flags: 'uint64_t', flags: 'uint64_t' });
koffi.struct('bpf_tc_hook', { sz: 'size_t', ifindex: 'int', attach_point: 'int', parent: 'uint32_t' });
koffi.struct('bpf_tc_opts', {
  sz: 'size_t',
  prog_fd: 'int',
  flags: 'uint32_t',
  prog_id: 'uint32_t',
  handle: 'uint32_t',
  priority: 'uint32_t',
});
koffi.struct('bpf_test_run_opts', {
  sz: 'size_t',
  data_in: 'void *',
  data_out: 'void *',
  data_size_in: 'uint32_t',
  data_size_out: 'uint32_t',
  ctx_in: 'void *',
  ctx_out: 'void *',
  ctx_size_in: 'uint32_t',
  ctx_size_out: 'uint32_t',
  retval: 'uint32_t',
  repeat: 'int',
  duration: 'uint32_t',
  flags: 'uint32_t',
  cpu: 'uint32_t',
  batch_size: 'uint32_t',
});
const printFn = koffi.proto('int bpf_libbpf_print_fn(int level, const char *fmt, void *ap)');
const sampleFn = koffi.proto('int bpf_ring_buffer_sample_fn(void *ctx, void *data, size_t size)');

// Layouts checked against the 1.1 headers (a C program printed sizeof/offsetof for each).
const LAYOUT = {
  bpf_object_open_opts: 80,
  bpf_link_create_opts: 64,
  bpf_link_update_opts: 16,
  bpf_prog_load_opts: 104,
  bpf_map_batch_opts: 24,
  bpf_xdp_attach_opts: 16,
  bpf_xdp_query_opts: 32,
  bpf_prog_attach_opts: 16,
  bpf_tc_hook: 24,
  bpf_tc_opts: 32,
  bpf_test_run_opts: 80,
} as const;
for (const [name, size] of Object.entries(LAYOUT)) {
  if (koffi.sizeof(name) !== size)
    throw new Error(`libbpf: struct ${name} is ${koffi.sizeof(name)} bytes, want ${size}`);
}

/** Binds the functions; libbpf is loaded on first use so importing this module never needs it. */
function bind() {
  let lib: ReturnType<typeof koffi.load>;
  let libc: ReturnType<typeof koffi.load>;
  try {
    lib = koffi.load('libbpf.so.1');
    libc = koffi.load('libc.so.6');
  } catch (err) {
    throw new NotSupportedError(
      'LIBBPF_MISSING',
      `libbpf: cannot load libbpf.so.1 (install libbpf1): ${String(err)}`,
      {
        cause: err,
      },
    );
  }
  return {
    major: lib.func('uint32_t libbpf_major_version()') as () => number,
    minor: lib.func('uint32_t libbpf_minor_version()') as () => number,
    setPrint: lib.func('void *libbpf_set_print(bpf_libbpf_print_fn *fn)') as (fn: unknown) => unknown,
    strerror: lib.func('int libbpf_strerror(int err, _Out_ char *buf, size_t size)') as (
      err: number,
      buf: Buffer,
      size: number,
    ) => number,
    numPossibleCpus: lib.func('int libbpf_num_possible_cpus()') as () => number,
    progTypeStr: lib.func('const char *libbpf_bpf_prog_type_str(int t)') as (t: number) => string | null,
    mapTypeStr: lib.func('const char *libbpf_bpf_map_type_str(int t)') as (t: number) => string | null,
    attachTypeStr: lib.func('const char *libbpf_bpf_attach_type_str(int t)') as (t: number) => string | null,
    linkTypeStr: lib.func('const char *libbpf_bpf_link_type_str(int t)') as (t: number) => string | null,
    probeProgType: lib.func('int libbpf_probe_bpf_prog_type(int t, void *opts)') as (
      t: number,
      o: null,
    ) => number,
    probeMapType: lib.func('int libbpf_probe_bpf_map_type(int t, void *opts)') as (
      t: number,
      o: null,
    ) => number,
    probeHelper: lib.func('int libbpf_probe_bpf_helper(int t, int helper, void *opts)') as (
      t: number,
      h: number,
      o: null,
    ) => number,

    progLoad: lib.func(
      'int bpf_prog_load(int type, const char *name, const char *license, const void *insns, size_t cnt, const bpf_prog_load_opts *opts)',
    ) as (
      type: number,
      name: string,
      license: string,
      insns: Uint8Array,
      cnt: number,
      opts: object,
    ) => number,
    objectOpenMem: lib.func(
      'bpf_object *bpf_object__open_mem(void *buf, size_t size, const bpf_object_open_opts *opts)',
    ) as (buf: RawPointer, size: number, opts: object) => ObjectHandle | null,
    objectLoad: lib.func('int bpf_object__load(bpf_object *obj)') as AsyncFn<[ObjectHandle], number>,
    objectClose: lib.func('void bpf_object__close(bpf_object *obj)') as (obj: ObjectHandle) => void,
    objectBtf: lib.func('btf *bpf_object__btf(bpf_object *obj)') as (obj: ObjectHandle) => BtfHandle | null,
    objectNextProgram: lib.func(
      'bpf_program *bpf_object__next_program(bpf_object *obj, bpf_program *prev)',
    ) as (obj: ObjectHandle, prev: ProgramHandle | null) => ProgramHandle | null,
    objectNextMap: lib.func('bpf_map *bpf_object__next_map(bpf_object *obj, bpf_map *prev)') as (
      obj: ObjectHandle,
      prev: MapHandle | null,
    ) => MapHandle | null,

    programName: lib.func('const char *bpf_program__name(bpf_program *p)') as (p: ProgramHandle) => string,
    programSection: lib.func('const char *bpf_program__section_name(bpf_program *p)') as (
      p: ProgramHandle,
    ) => string,
    programType: lib.func('int bpf_program__type(bpf_program *p)') as (p: ProgramHandle) => number,
    programSetType: lib.func('int bpf_program__set_type(bpf_program *p, int t)') as (
      p: ProgramHandle,
      t: number,
    ) => number,
    programAttachType: lib.func('int bpf_program__expected_attach_type(bpf_program *p)') as (
      p: ProgramHandle,
    ) => number,
    programSetAttachType: lib.func('int bpf_program__set_expected_attach_type(bpf_program *p, int t)') as (
      p: ProgramHandle,
      t: number,
    ) => number,
    programFd: lib.func('int bpf_program__fd(bpf_program *p)') as (p: ProgramHandle) => number,
    programSetAutoload: lib.func('int bpf_program__set_autoload(bpf_program *p, bool autoload)') as (
      p: ProgramHandle,
      autoload: boolean,
    ) => number,
    programSetLogBuf: lib.func('int bpf_program__set_log_buf(bpf_program *p, void *buf, size_t size)') as (
      p: ProgramHandle,
      buf: RawPointer,
      size: number,
    ) => number,
    programAttach: lib.func('bpf_link *bpf_program__attach(bpf_program *p)') as AsyncFn<
      [ProgramHandle],
      LinkHandle | null
    >,
    programAttachCgroup: lib.func(
      'bpf_link *bpf_program__attach_cgroup(bpf_program *p, int cgroup_fd)',
    ) as AsyncFn<[ProgramHandle, number], LinkHandle | null>,

    mapName: lib.func('const char *bpf_map__name(bpf_map *m)') as (m: MapHandle) => string,
    mapType: lib.func('int bpf_map__type(bpf_map *m)') as (m: MapHandle) => number,
    mapKeySize: lib.func('uint32_t bpf_map__key_size(bpf_map *m)') as (m: MapHandle) => number,
    mapValueSize: lib.func('uint32_t bpf_map__value_size(bpf_map *m)') as (m: MapHandle) => number,
    mapMaxEntries: lib.func('uint32_t bpf_map__max_entries(bpf_map *m)') as (m: MapHandle) => number,
    mapFlags: lib.func('uint32_t bpf_map__map_flags(bpf_map *m)') as (m: MapHandle) => number,
    mapIsInternal: lib.func('bool bpf_map__is_internal(bpf_map *m)') as (m: MapHandle) => boolean,
    mapFd: lib.func('int bpf_map__fd(bpf_map *m)') as (m: MapHandle) => number,
    mapReuseFd: lib.func('int bpf_map__reuse_fd(bpf_map *m, int fd)') as (m: MapHandle, fd: number) => number,
    mapInitialValue: lib.func('void *bpf_map__initial_value(bpf_map *m, _Out_ size_t *psize)') as (
      m: MapHandle,
      size: number[],
    ) => RawPointer | null,
    mapSetInitialValue: lib.func(
      'int bpf_map__set_initial_value(bpf_map *m, const void *data, size_t size)',
    ) as (m: MapHandle, data: Uint8Array, size: number) => number,

    mapLookup: lib.func('int bpf_map_lookup_elem(int fd, const void *key, void *value)') as (
      fd: number,
      key: Uint8Array | null,
      value: Uint8Array,
    ) => number,
    mapUpdate: lib.func(
      'int bpf_map_update_elem(int fd, const void *key, const void *value, uint64_t flags)',
    ) as (fd: number, key: Uint8Array | null, value: Uint8Array, flags: number) => number,
    mapDelete: lib.func('int bpf_map_delete_elem(int fd, const void *key)') as (
      fd: number,
      key: Uint8Array,
    ) => number,
    mapNextKey: lib.func('int bpf_map_get_next_key(int fd, const void *key, void *next)') as (
      fd: number,
      key: Uint8Array | null,
      next: Uint8Array,
    ) => number,
    mapLookupBatch: lib.func(
      'int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, _Inout_ uint32_t *count, const bpf_map_batch_opts *opts)',
    ) as (
      fd: number,
      inBatch: Uint8Array | null,
      outBatch: Uint8Array,
      keys: Uint8Array,
      values: Uint8Array,
      count: number[],
      opts: object,
    ) => number,

    progTestRun: lib.func('int bpf_prog_test_run_opts(int prog_fd, _Inout_ bpf_test_run_opts *opts)') as (
      fd: number,
      opts: Record<string, unknown>,
    ) => number,

    objPin: lib.func('int bpf_obj_pin(int fd, const char *path)') as (fd: number, path: string) => number,
    objGet: lib.func('int bpf_obj_get(const char *path)') as (path: string) => number,
    objInfo: lib.func('int bpf_obj_get_info_by_fd(int fd, void *info, _Inout_ uint32_t *len)') as (
      fd: number,
      info: Uint8Array,
      len: number[],
    ) => number,

    linkCreate: lib.func(
      'int bpf_link_create(int prog_fd, int target_fd, int attach_type, const bpf_link_create_opts *opts)',
    ) as AsyncFn<[number, number, number, object], number>,
    linkUpdate: lib.func(
      'int bpf_link_update(int link_fd, int new_prog_fd, const bpf_link_update_opts *opts)',
    ) as (fd: number, progFd: number, opts: object) => number,
    linkDetach: lib.func('int bpf_link_detach(int link_fd)') as (fd: number) => number,
    // The attach forms from before bpf_link: netlink for XDP, BPF_PROG_ATTACH for cgroups.
    xdpAttach: lib.func(
      'int bpf_xdp_attach(int ifindex, int prog_fd, uint32_t flags, const bpf_xdp_attach_opts *opts)',
    ) as (ifindex: number, progFd: number, flags: number, opts: object) => number,
    xdpDetach: lib.func(
      'int bpf_xdp_detach(int ifindex, uint32_t flags, const bpf_xdp_attach_opts *opts)',
    ) as (ifindex: number, flags: number, opts: object) => number,
    xdpQuery: lib.func('int bpf_xdp_query(int ifindex, int flags, _Inout_ bpf_xdp_query_opts *opts)') as (
      ifindex: number,
      flags: number,
      opts: Record<string, number>,
    ) => number,
    progAttachOpts: lib.func(
      'int bpf_prog_attach_opts(int prog_fd, int target_fd, int type, const bpf_prog_attach_opts *opts)',
    ) as (progFd: number, targetFd: number, type: number, opts: object) => number,
    progDetach2: lib.func('int bpf_prog_detach2(int prog_fd, int target_fd, int type)') as (
      progFd: number,
      targetFd: number,
      type: number,
    ) => number,
    progQuery: lib.func(
      'int bpf_prog_query(int target_fd, int type, uint32_t query_flags, _Out_ uint32_t *attach_flags, _Out_ uint32_t *prog_ids, _Inout_ uint32_t *prog_cnt)',
    ) as (
      fd: number,
      type: number,
      flags: number,
      attachFlags: number[],
      ids: Uint32Array,
      cnt: number[],
    ) => number,
    progGetFdById: lib.func('int bpf_prog_get_fd_by_id(uint32_t id)') as (id: number) => number,
    linkOpen: lib.func('bpf_link *bpf_link__open(const char *path)') as (path: string) => LinkHandle | null,
    linkFd: lib.func('int bpf_link__fd(bpf_link *l)') as (l: LinkHandle) => number,
    linkPin: lib.func('int bpf_link__pin(bpf_link *l, const char *path)') as (
      l: LinkHandle,
      path: string,
    ) => number,
    linkUnpin: lib.func('int bpf_link__unpin(bpf_link *l)') as (l: LinkHandle) => number,
    linkDestroy: lib.func('int bpf_link__destroy(bpf_link *l)') as (l: LinkHandle) => number,

    tcHookCreate: lib.func('int bpf_tc_hook_create(bpf_tc_hook *hook)') as (hook: object) => number,
    tcHookDestroy: lib.func('int bpf_tc_hook_destroy(bpf_tc_hook *hook)') as (hook: object) => number,
    tcAttach: lib.func('int bpf_tc_attach(const bpf_tc_hook *hook, _Inout_ bpf_tc_opts *opts)') as AsyncFn<
      [object, Record<string, number>],
      number
    >,
    tcDetach: lib.func('int bpf_tc_detach(const bpf_tc_hook *hook, const bpf_tc_opts *opts)') as (
      hook: object,
      opts: object,
    ) => number,

    btfFindByNameKind: lib.func('int btf__find_by_name_kind(btf *btf, const char *name, uint32_t kind)') as (
      btf: BtfHandle,
      name: string,
      kind: number,
    ) => number,
    btfTypeById: lib.func('void *btf__type_by_id(btf *btf, uint32_t id)') as (
      btf: BtfHandle,
      id: number,
    ) => RawPointer | null,
    btfName: lib.func('const char *btf__name_by_offset(btf *btf, uint32_t offset)') as (
      btf: BtfHandle,
      offset: number,
    ) => string | null,
    btfLoadFromKernelById: lib.func('btf *btf__load_from_kernel_by_id(uint32_t id)') as (
      id: number,
    ) => BtfHandle | null,
    btfFree: lib.func('void btf__free(btf *btf)') as (btf: BtfHandle) => void,

    ringNew: lib.func(
      'ring_buffer *ring_buffer__new(int map_fd, bpf_ring_buffer_sample_fn *cb, void *ctx, void *opts)',
    ) as (fd: number, cb: unknown, ctx: null, opts: null) => RingBufferHandle | null,
    ringPoll: lib.func('int ring_buffer__poll(ring_buffer *rb, int timeout_ms)') as AsyncFn<
      [RingBufferHandle, number],
      number
    >,
    ringFree: lib.func('void ring_buffer__free(ring_buffer *rb)') as (rb: RingBufferHandle) => void,

    ifNameToIndex: libc.func('uint32_t if_nametoindex(const char *name)') as (name: string) => number,
    // Only F_DUPFD_CLOEXEC is used: its third argument is an int, as declared.
    fcntl: libc.func('int fcntl(int fd, int cmd, int arg)') as (
      fd: number,
      cmd: number,
      arg: number,
    ) => number,
    vsnprintf: libc.func('int vsnprintf(_Out_ uint8_t *buf, size_t size, const char *fmt, void *ap)') as (
      buf: Buffer,
      size: number,
      fmt: string,
      ap: unknown,
    ) => number,
  };
}

let bound: ReturnType<typeof bind> | undefined;
function fns(): ReturnType<typeof bind> {
  bound ??= bind();
  return bound;
}

function asyncCall<A extends unknown[], R>(
  fn: AsyncFn<A, R>,
  ...args: A
): Promise<{ value: R; errno: number }> {
  return new Promise((resolve, reject) => {
    fn.async(...args, (err: unknown, value: R) => {
      // koffi restores the worker thread's errno around this callback.
      if (err) reject(err);
      else resolve({ value, errno: koffi.errno() });
    });
  });
}

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

export async function attachAuto(prog: ProgramHandle): Promise<{ link: LinkHandle | null; errno: number }> {
  const r = await asyncCall(fns().programAttach, prog);
  return { link: r.value, errno: r.value ? 0 : r.errno };
}

export async function attachCgroup(
  prog: ProgramHandle,
  cgroupFd: number,
): Promise<{ link: LinkHandle | null; errno: number }> {
  const r = await asyncCall(fns().programAttachCgroup, prog, cgroupFd);
  return { link: r.value, errno: r.value ? 0 : r.errno };
}

export async function linkCreate(
  progFd: number,
  targetFd: number,
  attachType: number,
  options: LinkCreateOptions = {},
): Promise<number> {
  const opts = { sz: LAYOUT.bpf_link_create_opts, flags: options.flags ?? 0, union_words: [0n, 0n, 0n, 0n] };
  return (await asyncCall(fns().linkCreate, progFd, targetFd, attachType, opts)).value;
}

/** Netlink XDP attach; `oldProgFd` > 0 makes it an atomic replace of exactly that program (XDP_FLAGS_REPLACE). */
export function xdpAttach(ifindex: number, progFd: number, flags: number, oldProgFd = 0): number {
  const opts = { sz: LAYOUT.bpf_xdp_attach_opts, old_prog_fd: oldProgFd };
  return fns().xdpAttach(ifindex, progFd, flags, opts);
}

export function xdpDetach(ifindex: number, flags: number, oldProgFd = 0): number {
  return fns().xdpDetach(ifindex, flags, { sz: LAYOUT.bpf_xdp_attach_opts, old_prog_fd: oldProgFd });
}

export interface XdpQuery {
  rc: number;
  progId: number;
  drvProgId: number;
  skbProgId: number;
  attachMode: number;
}

export function xdpQuery(ifindex: number): XdpQuery {
  const o = {
    sz: LAYOUT.bpf_xdp_query_opts,
    prog_id: 0,
    drv_prog_id: 0,
    hw_prog_id: 0,
    skb_prog_id: 0,
    attach_mode: 0,
  };
  const rc = fns().xdpQuery(ifindex, 0, o);
  return {
    rc,
    progId: o.prog_id,
    drvProgId: o.drv_prog_id,
    skbProgId: o.skb_prog_id,
    attachMode: o.attach_mode,
  };
}

/** BPF_PROG_ATTACH; `replaceProgFd` > 0 (with BPF_F_REPLACE in flags) swaps exactly that program. */
export function progAttach(
  progFd: number,
  targetFd: number,
  type: number,
  flags: number,
  replaceProgFd = 0,
): number {
  const opts = { sz: LAYOUT.bpf_prog_attach_opts, flags, replace_prog_fd: replaceProgFd };
  return fns().progAttachOpts(progFd, targetFd, type, opts);
}

/** The program ids attached at a cgroup hook (at most 64 read), or the negative errno. */
export function progQuery(targetFd: number, type: number): { rc: number; ids: number[] } {
  const ids = new Uint32Array(64);
  const cnt = [ids.length];
  const rc = fns().progQuery(targetFd, type, 0, [0], ids, cnt);
  return { rc, ids: rc < 0 ? [] : [...ids.subarray(0, cnt[0] ?? 0)] };
}

const F_DUPFD_CLOEXEC = 1030;

/** A second fd of the same kernel object (close-on-exec), or -errno: needs no privilege, unlike a lookup by id. */
export function dupFd(fd: number): number {
  const r = fns().fcntl(fd, F_DUPFD_CLOEXEC, 0);
  return r < 0 ? -koffi.errno() : r;
}

export function linkUpdate(linkFd: number, progFd: number): number {
  return fns().linkUpdate(linkFd, progFd, { sz: LAYOUT.bpf_link_update_opts, flags: 0, old_prog_fd: 0 });
}

function tcHook(hook: TcHook): object {
  return { sz: LAYOUT.bpf_tc_hook, ifindex: hook.ifindex, attach_point: hook.attachPoint, parent: 0 };
}

export function tcHookCreate(hook: TcHook): number {
  return fns().tcHookCreate(tcHook(hook));
}

export function tcHookDestroy(hook: TcHook): number {
  return fns().tcHookDestroy(tcHook(hook));
}

export async function tcAttach(
  hook: TcHook,
  progFd: number,
): Promise<{ rc: number; handle: number; priority: number }> {
  const opts = { sz: LAYOUT.bpf_tc_opts, prog_fd: progFd, flags: 0, prog_id: 0, handle: 0, priority: 0 };
  const rc = (await asyncCall(fns().tcAttach, tcHook(hook), opts)).value;
  return { rc, handle: opts.handle, priority: opts.priority };
}

export function tcDetach(hook: TcHook, handle: number, priority: number): number {
  const opts = { sz: LAYOUT.bpf_tc_opts, prog_fd: 0, flags: 0, prog_id: 0, handle, priority };
  return fns().tcDetach(tcHook(hook), opts);
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
