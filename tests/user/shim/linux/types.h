/* SPDX-License-Identifier: GPL-2.0 */
/* types.h - userspace stand-in: fixed-width types and list heads */
#ifndef _SHIM_LINUX_TYPES_H
#define _SHIM_LINUX_TYPES_H

#include <linux/stddef.h>

typedef unsigned long long u64;
typedef unsigned int u32;

struct hlist_head {
	struct hlist_node *first;
};

struct hlist_node {
	struct hlist_node *next, **pprev;
};

struct list_head {
	struct list_head *next, *prev;
};

#endif /* _SHIM_LINUX_TYPES_H */
