/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmu_notifier.h - userspace stand-in for the parts of the kernel's
 * <linux/mmu_notifier.h> the engine and its consumers use: the same type
 * and field names, and the same static inlines for the read side.
 */
#ifndef _SHIM_LINUX_MMU_NOTIFIER_H
#define _SHIM_LINUX_MMU_NOTIFIER_H

#include <linux/interval_tree.h>
#include <linux/list.h>

struct mm_struct;

enum mmu_notifier_event {
	MMU_NOTIFY_UNMAP = 0,
	MMU_NOTIFY_CLEAR,
	MMU_NOTIFY_PROTECTION_VMA,
	MMU_NOTIFY_PROTECTION_PAGE,
	MMU_NOTIFY_SOFT_DIRTY,
	MMU_NOTIFY_RELEASE,
	MMU_NOTIFY_MIGRATE,
	MMU_NOTIFY_EXCLUSIVE,
};

#define MMU_NOTIFIER_RANGE_BLOCKABLE 0x1

struct mmu_notifier_range {
	struct mm_struct *mm;
	unsigned long start;
	unsigned long end;
	unsigned int flags;
	enum mmu_notifier_event event;
	void *owner;
};

struct mmu_interval_notifier;

struct mmu_interval_notifier_ops {
	bool (*invalidate)(struct mmu_interval_notifier *interval_sub,
			   const struct mmu_notifier_range *range,
			   unsigned long cur_seq);
};

struct mmu_interval_notifier {
	struct interval_tree_node interval_tree;
	const struct mmu_interval_notifier_ops *ops;
	struct mm_struct *mm;
	struct hlist_node deferred_item;
	unsigned long invalidate_seq;
};

static inline bool
mmu_notifier_range_blockable(const struct mmu_notifier_range *range)
{
	return range->flags & MMU_NOTIFIER_RANGE_BLOCKABLE;
}

static inline void
mmu_interval_set_seq(struct mmu_interval_notifier *interval_sub,
		     unsigned long cur_seq)
{
	WRITE_ONCE(interval_sub->invalidate_seq, cur_seq);
}

/*
 * Called under the consumer's lock, the one set_seq() runs under: a plain
 * read, as in the kernel, so ThreadSanitizer flags any writer of
 * invalidate_seq that is not ordered by that lock.
 */
static inline bool
mmu_interval_read_retry(struct mmu_interval_notifier *interval_sub,
			unsigned long seq)
{
	return interval_sub->invalidate_seq != seq;
}

static inline bool
mmu_interval_check_retry(struct mmu_interval_notifier *interval_sub,
			 unsigned long seq)
{
	return READ_ONCE(interval_sub->invalidate_seq) != seq;
}

#endif /* _SHIM_LINUX_MMU_NOTIFIER_H */
