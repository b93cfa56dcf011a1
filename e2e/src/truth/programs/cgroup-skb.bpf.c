// SPDX-License-Identifier: GPL-2.0
/* A cgroup_skb egress program that counts and allows: the cgroup_skb case of the removal test. */
#include "hits.h"

SEC("cgroup_skb/egress")
int h7t_cg_skb(struct __sk_buff *skb)
{
	hit();
	return 1;
}
