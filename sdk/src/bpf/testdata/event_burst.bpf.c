// SPDX-License-Identifier: GPL-2.0
/* Emits one ring buffer record per run (BPF_PROG_TEST_RUN) and counts the records the full ring refused. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct burst_event {
	__u64 seq;
	__u32 cpu;
	__u32 tag;
};

const volatile __u32 tag = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} burst_events SEC(".maps");

/* Failed bpf_ringbuf_reserve calls: the records the consumer will never see. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} burst_lost SEC(".maps");

/* Every attempt, numbered: slot 0 is the next sequence number. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} burst_seq SEC(".maps");

SEC("xdp")
int emit_burst(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *next = bpf_map_lookup_elem(&burst_seq, &zero);
	struct burst_event *e;
	__u64 *lost;

	if (!next)
		return XDP_PASS;
	/* Number the attempt first, so delivered and lost records share one sequence. */
	__u64 seq = __sync_fetch_and_add(next, 1);
	e = bpf_ringbuf_reserve(&burst_events, sizeof(*e), 0);
	if (!e) {
		lost = bpf_map_lookup_elem(&burst_lost, &zero);
		if (lost)
			*lost += 1;
		return XDP_PASS;
	}
	e->seq = seq;
	e->cpu = bpf_get_smp_processor_id();
	e->tag = tag;
	bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}
