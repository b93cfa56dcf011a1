// SPDX-License-Identifier: GPL-2.0
/* A cgroup connect4 program that counts and allows: the sock_addr case of the removal test. */
#include "hits.h"

SEC("cgroup/connect4")
int h7t_connect4(struct bpf_sock_addr *ctx)
{
	hit();
	return 1;
}
