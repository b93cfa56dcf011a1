// libbpf 1.1 bound through koffi: its functions and structs, the opaque handles, the checked struct layouts.
// Only libbpf*.ts import koffi; the rest of sdk/bpf goes through their typed functions.
import koffi from 'koffi';
import { NotSupportedError } from '../../errors.js';
import type {
  AsyncFn,
  BtfHandle,
  LinkHandle,
  MapHandle,
  ObjectHandle,
  ProgramHandle,
  RawPointer,
  RingBufferHandle,
} from './libbpf-types.js';

// Declares the structs and callback types the signatures below name.
import './libbpf-structs.js';

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
export function fns(): ReturnType<typeof bind> {
  bound ??= bind();
  return bound;
}

export function asyncCall<A extends unknown[], R>(
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
