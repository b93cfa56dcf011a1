// SPDX-License-Identifier: GPL-2.0
/* v1 of acme/h7t-pings: one XDP program. */
#include "pings.h"
