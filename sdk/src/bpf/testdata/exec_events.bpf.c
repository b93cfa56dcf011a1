// SPDX-License-Identifier: GPL-2.0
/* Reports every exec through a ring buffer (tp_btf) and counts them with raw_tp and tracepoint programs. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "counters.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 tag = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* Slots: 0 raw_tp execs, 1 tracepoint execs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} exec_counts SEC(".maps");

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct exec_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->tag = tag;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("raw_tp/sched_process_exec")
int count_exec_raw(void *ctx)
{
	__u32 key = 0;
	__u64 *slot = bpf_map_lookup_elem(&exec_counts, &key);

	if (slot)
		__sync_fetch_and_add(slot, 1);
	return 0;
}

SEC("tracepoint/sched/sched_process_exec")
int count_exec_tp(void *ctx)
{
	__u32 key = 1;
	__u64 *slot = bpf_map_lookup_elem(&exec_counts, &key);

	if (slot)
		__sync_fetch_and_add(slot, 1);
	return 0;
}
