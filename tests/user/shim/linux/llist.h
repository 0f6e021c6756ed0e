/* SPDX-License-Identifier: GPL-2.0 */
/*
 * llist.h - userspace stand-in: only what the engine names. The finish
 * list of two-pass ops (7.1+) stays empty here: the shim's ops are
 * one-pass, as in 6.1.
 */
#ifndef _SHIM_LINUX_LLIST_H
#define _SHIM_LINUX_LLIST_H

#include <linux/stddef.h>

struct llist_node {
	struct llist_node *next;
};

struct llist_head {
	struct llist_node *first;
};

#define LLIST_HEAD(name) struct llist_head name = { .first = NULL }

static inline bool llist_empty(const struct llist_head *head)
{
	return !__atomic_load_n(&head->first, __ATOMIC_RELAXED);
}

#endif /* _SHIM_LINUX_LLIST_H */
