// SPDX-License-Identifier: GPL-2.0
/*
 * mni_main.c - module init and exit
 *
 * mmu_interval_notifier.ko gives out-of-tree drivers the interval notifier
 * engine under its own names (mni_*, namespace MNI), beside the kernel's.
 */
#include <linux/module.h>

#include "mni_mm.h"

static int __init mni_init(void)
{
	return 0;
}

static void __exit mni_exit(void)
{
	/* Consumers pin the module, so normally nothing is left to undo. */
	mni_mm_exit();
}

module_init(mni_init);
module_exit(mni_exit);

MODULE_DESCRIPTION("mmu interval notifier engine for out-of-tree drivers");
MODULE_LICENSE("GPL");
MODULE_VERSION(MNI_VERSION);
