// SPDX-License-Identifier: GPL-2.0
/*
 * mni_lockdep_bait.c - a consumer that breaks the read_begin() rule on
 * purpose, so a lockdep kernel must report it
 *
 * The rule: a driver must not hold, around mni_interval_read_begin(), a
 * lock that its invalidate callback takes, since read_begin() may wait
 * for that callback's invalidation to end. This module's callback takes
 * bait_lock; on load it first lets an invalidation run that callback
 * (lockdep learns mni_invalidate_range -> bait_lock), then calls
 * read_begin() with bait_lock held (bait_lock -> mni_invalidate_range).
 * Loading it must produce a "possible circular locking dependency" report
 * that names mni_invalidate_range. It then cleans up and loads normally.
 */
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched.h>

#include "mni_compat.h"

MNI_IMPORT_NS();

/* Taken by the callback and, wrongly, around read_begin(). */
static DEFINE_MUTEX(bait_lock);
static struct mmu_interval_notifier bait_sub;
static unsigned int bait_calls;		/* under bait_lock */

static bool bait_invalidate(struct mmu_interval_notifier *sub,
			    const struct mmu_notifier_range *range,
			    unsigned long cur_seq)
{
	if (!mmu_notifier_range_blockable(range)) {
		if (!mutex_trylock(&bait_lock))
			return false;
	} else {
		mutex_lock(&bait_lock);
	}
	mmu_interval_set_seq(sub, cur_seq);
	bait_calls++;
	mutex_unlock(&bait_lock);
	return true;
}

static const struct mmu_interval_notifier_ops bait_ops = {
	.invalidate = bait_invalidate,
};

static int __init bait_init(void)
{
	unsigned long addr;
	int ret;

	addr = vm_mmap(NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, 0);
	if (IS_ERR_VALUE(addr))
		return addr;
	ret = mmu_interval_notifier_insert(&bait_sub, current->mm, addr,
					   PAGE_SIZE, &bait_ops);
	if (ret)
		goto out_unmap;

	/* mni_invalidate_range -> bait_lock */
	vm_munmap(addr, PAGE_SIZE);

	/* bait_lock -> mni_invalidate_range: lockdep must object. */
	mutex_lock(&bait_lock);
	mmu_interval_read_begin(&bait_sub);
	pr_info("mni_lockdep_bait: callback ran %u time(s); read_begin under the callback's lock done\n",
		bait_calls);
	mutex_unlock(&bait_lock);

	mmu_interval_notifier_remove(&bait_sub);
	return 0;

out_unmap:
	vm_munmap(addr, PAGE_SIZE);
	return ret;
}

static void __exit bait_exit(void)
{
}

module_init(bait_init);
module_exit(bait_exit);

MODULE_DESCRIPTION("Provokes a lockdep report through the mni_invalidate_range map");
MODULE_LICENSE("GPL");
