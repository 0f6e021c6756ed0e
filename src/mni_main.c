// SPDX-License-Identifier: GPL-2.0
/*
 * mni_main.c - module init and exit
 *
 * mmu_interval_notifier.ko gives out-of-tree drivers the interval notifier
 * engine under its own names (mni_*, namespace MNI), beside the kernel's.
 */
#include <linux/module.h>
#include <linux/rcupdate.h>

#include "mni_debugfs.h"
#include "mni_mm.h"

#define CREATE_TRACE_POINTS
#include "mni_trace.h"

static int __init mni_init(void)
{
	mni_mm_init();
	return mni_debugfs_init();
}

static void __exit mni_exit(void)
{
	/*
	 * Consumers pin the module, so normally nothing is left to undo.
	 * Each step may queue work for the next: registrations end in SRCU
	 * callbacks, debugfs updates in a workqueue, both in RCU frees.
	 */
	mni_mm_exit();
	mni_debugfs_exit();
	rcu_barrier();
}

module_init(mni_init);
module_exit(mni_exit);

MODULE_DESCRIPTION("mmu interval notifier engine for out-of-tree drivers");
MODULE_LICENSE("GPL");
MODULE_VERSION(MNI_VERSION);
