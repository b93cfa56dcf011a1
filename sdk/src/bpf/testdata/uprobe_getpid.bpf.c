// SPDX-License-Identifier: GPL-2.0
/* A uprobe (a kprobe-type program) on libc's getpid: attaches where uprobes exist even without kprobes. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} h3p_getpid_calls SEC(".maps");

SEC("uprobe/libc.so.6:getpid")
int BPF_KPROBE(on_getpid)
{
	__u32 key = 0;
	__u64 *calls = bpf_map_lookup_elem(&h3p_getpid_calls, &key);

	/* Count every call, from any process. */
	if (calls)
		__sync_fetch_and_add(calls, 1);
	return 0;
}
