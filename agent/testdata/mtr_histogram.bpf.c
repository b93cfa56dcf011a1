// SPDX-License-Identifier: GPL-2.0
/* Packet sizes as a bcc-style log2 histogram (u32 slots[26] + sum), per-bucket per-CPU entries, a nested struct. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define MAX_SLOTS 26

struct hist {
	__u32 slots[MAX_SLOTS];
	__u64 sum;
};

struct bucket_key {
	__u32 parity;
	__u32 slot;
};

struct last_seen {
	__u32 len;
	char tag[8];
	struct {
		__u8 kind;
		__u64 runs;
	} inner;
	__u16 recent[4];
};

/* key 0: every packet; key 1: packets of odd length. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct hist);
} sizes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 128);
	__type(key, struct bucket_key);
	__type(value, __u64);
} size_buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct last_seen);
} last SEC(".maps");

/* Globals as metric sources: zero-initialised ones live in .bss, initialised ones in .data. */
__u64 packets_seen = 0;
__u64 bytes_seen = 0;
__u32 largest = 1;

/* bcc's log2l: 0 for 0, else the bit length (1 → 1, 2-3 → 2, 4-7 → 3, …). */
static __always_inline __u32 log2l(__u64 v)
{
	__u32 n = 0;

	for (int i = 0; i < 64 && v; i++) {
		v >>= 1;
		n++;
	}
	return n;
}

SEC("xdp")
int size_hist(struct xdp_md *ctx)
{
	__u64 len = ctx->data_end - ctx->data;
	__u32 slot = log2l(len);
	__u32 key = 0;
	struct hist *h;
	struct last_seen *l;
	struct bucket_key bk = { .parity = len & 1 };
	__u64 one = 1, *count;

	if (slot >= MAX_SLOTS)
		slot = MAX_SLOTS - 1;
	bk.slot = slot;
	/* The bcc shape: one array of slots, and the sum beside it. */
	h = bpf_map_lookup_elem(&sizes, &key);
	if (h) {
		__sync_fetch_and_add(&h->slots[slot], 1);
		__sync_fetch_and_add(&h->sum, len);
	}
	if (len & 1) {
		key = 1;
		h = bpf_map_lookup_elem(&sizes, &key);
		if (h) {
			__sync_fetch_and_add(&h->slots[slot], 1);
			__sync_fetch_and_add(&h->sum, len);
		}
	}
	/* One entry per (parity, bucket), per CPU. */
	count = bpf_map_lookup_elem(&size_buckets, &bk);
	if (count)
		*count += 1;
	else
		bpf_map_update_elem(&size_buckets, &bk, &one, BPF_NOEXIST);
	/* The nested struct: the last length, a tag, a kind by name, and the last four lengths. */
	key = 0;
	l = bpf_map_lookup_elem(&last, &key);
	if (l) {
		l->len = len;
		__builtin_memcpy(l->tag, "mtr-hst", 8);
		l->inner.kind = len & 1;
		l->inner.runs += 1;
		l->recent[l->inner.runs & 3] = len;
	}
	__sync_fetch_and_add(&packets_seen, 1);
	__sync_fetch_and_add(&bytes_seen, len);
	if (len > largest)
		largest = len;
	return XDP_PASS;
}
