// SPDX-License-Identifier: GPL-2.0
/* A tcx ingress program that counts and passes: the tcx case of the removal test. */
#include "hits.h"

SEC("tcx/ingress")
int h7t_tcx_only(struct __sk_buff *skb)
{
	hit();
	return TCX_NEXT;
}
