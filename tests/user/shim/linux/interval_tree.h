/* SPDX-License-Identifier: GPL-2.0 */
/* interval_tree.h - userspace stand-in: the node type only */
#ifndef _SHIM_LINUX_INTERVAL_TREE_H
#define _SHIM_LINUX_INTERVAL_TREE_H

#include <linux/rbtree.h>

struct interval_tree_node {
	struct rb_node rb;
	unsigned long start;	/* Start of interval */
	unsigned long last;	/* Last location _in_ interval */
	unsigned long __subtree_last;
};

#endif /* _SHIM_LINUX_INTERVAL_TREE_H */
