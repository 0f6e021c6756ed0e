/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mni_sub.h - calling one subscriber, as its ops define it (mni_sub.c)
 *
 * The engine calls these and knows nothing of kernel versions or of the
 * kinds of ops; tests/user gives it its own.
 */
#ifndef _MNI_SUB_H
#define _MNI_SUB_H

#include <linux/llist.h>
#include <linux/mmu_notifier.h>

/**
 * struct mni_finishes - the second passes one start pass collected
 * @kern: finishes of the kernel's own two-pass ops (7.1+), newest first
 * @mni: finishes of mni's two-pass ops (struct mni_interval_notifier_ops),
 *	newest first
 *
 * Filled by mni_sub_invalidate() on the walker's stack, without a lock;
 * run and emptied by mni_sub_finish_pass() once the pass is over.
 */
struct mni_finishes {
	struct llist_head kern;
	struct llist_head mni;
};

/* Did the pass collect a finish of either kind that has not run yet? */
static inline bool mni_finishes_pending(const struct mni_finishes *f)
{
	return !llist_empty(&f->kern) || !llist_empty(&f->mni);
}

bool mni_sub_invalidate(struct mmu_interval_notifier *sub,
			const struct mmu_notifier_range *range,
			unsigned long cur_seq, struct mni_finishes *finishes);
void mni_sub_finish_pass(struct mni_finishes *finishes);
bool mni_sub_finish_take(struct mni_finishes *from,
			 const struct mmu_interval_notifier *sub,
			 struct mni_finishes *to);
void mni_sub_finish_drop(struct mni_finishes *finishes,
			 const struct mmu_interval_notifier *sub);
void *mni_range_owner(const struct mmu_notifier_range *range);
void *mni_sub_name(const struct mmu_interval_notifier *sub);

#endif /* _MNI_SUB_H */
