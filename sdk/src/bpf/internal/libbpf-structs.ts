// libbpf's structs and callbacks declared to koffi, with their sizes checked against the 1.1 headers.
import koffi from 'koffi';

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
export const printFn = koffi.proto('int bpf_libbpf_print_fn(int level, const char *fmt, void *ap)');
export const sampleFn = koffi.proto('int bpf_ring_buffer_sample_fn(void *ctx, void *data, size_t size)');

// Layouts checked against the 1.1 headers (a C program printed sizeof/offsetof for each).
export const LAYOUT = {
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
