// SPDX-License-Identifier: GPL-2.0
/* A tp_btf program that counts execs: `tracing`, which this kernel runs (the host-probe case). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

SEC("tp_btf/sched_process_exec")
int BPF_PROG(h3p_tp_btf, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&calls, &key);

	/* Count every exec. */
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}
