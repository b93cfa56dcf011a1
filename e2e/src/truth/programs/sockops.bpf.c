// SPDX-License-Identifier: GPL-2.0
/* A sockops program that only counts: the sockops case of the removal test. */
#include "hits.h"

SEC("sockops")
int h7t_sockops(struct bpf_sock_ops *ctx)
{
	hit();
	return 1;
}
