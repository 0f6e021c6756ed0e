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
	mni_debugfs_init();
	return 0;
}

static void __exit mni_exit(void)
{
	/*
	 * Consumers pin the module, so normally nothing is left to undo.
	 * The reverse of init: no debugfs read runs once its files are gone;
	 * registrations end in SRCU callbacks (waited for by mni_mm_exit()),
	 * and those in RCU frees.
	 */
	mni_debugfs_exit();
	mni_mm_exit();
	rcu_barrier();
}

module_init(mni_init);
module_exit(mni_exit);

MODULE_DESCRIPTION("mmu interval notifier engine for out-of-tree drivers");
MODULE_LICENSE("GPL");
MODULE_VERSION(MNI_VERSION);
