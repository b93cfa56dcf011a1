// SPDX-License-Identifier: GPL-2.0
/* Sees every exec (raw_tp). Loader removal and drift test program. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("raw_tp/sched_process_exec")
int kind_raw_tp(void *ctx)
{
	return 0;
}
