// SPDX-License-Identifier: GPL-2.0
/* Passes every packet (tcx ingress). Loader removal and drift test program. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tcx/ingress")
int kind_tcx(struct __sk_buff *ctx)
{
	return 0;
}
