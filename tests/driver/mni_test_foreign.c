// SPDX-License-Identifier: GPL-2.0
/*
 * mni_test_foreign.c - subscriptions made by the kernel's own engine
 *
 * Only in mni_test_mni.ko. This file must not include mni_compat.h: the
 * mmu_interval_notifier_* calls below are the kernel's, so the test can
 * hand a subscription the mni engine never saw to mni's remove.
 */
#include <linux/mmu_notifier.h>

#include "mni_test_foreign.h"

static bool foreign_invalidate(struct mmu_interval_notifier *sub,
			       const struct mmu_notifier_range *range,
			       unsigned long cur_seq)
{
	mmu_interval_set_seq(sub, cur_seq);
	return true;
}

static const struct mmu_interval_notifier_ops foreign_ops = {
	.invalidate = foreign_invalidate,
};

int mni_test_foreign_insert(struct mmu_interval_notifier *sub,
			    struct mm_struct *mm, unsigned long start,
			    unsigned long length)
{
	return mmu_interval_notifier_insert(sub, mm, start, length,
					    &foreign_ops);
}

void mni_test_foreign_remove(struct mmu_interval_notifier *sub)
{
	mmu_interval_notifier_remove(sub);
}
