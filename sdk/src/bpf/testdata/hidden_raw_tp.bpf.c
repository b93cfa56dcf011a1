// SPDX-License-Identifier: GPL-2.0
/* An XDP program the manifest lists, and beside it a raw_tp/sys_enter program it does not (a hidden one). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} h1c_syscalls SEC(".maps");

SEC("xdp")
int h1c_visible(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/* Runs on every syscall of every process once attached: what a hidden program could do. */
SEC("raw_tp/sys_enter")
int h1c_hidden(void *ctx)
{
	__u32 key = 0;
	__u64 *slot = bpf_map_lookup_elem(&h1c_syscalls, &key);

	if (slot)
		__sync_fetch_and_add(slot, 1);
	return 0;
}
