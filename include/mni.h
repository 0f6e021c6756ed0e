/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mni.h - the mmu interval notifier engine of mmu_interval_notifier.ko
 *
 * The types are the kernel's own struct mmu_interval_notifier and
 * struct mmu_interval_notifier_ops, so the kernel's inlines
 * mmu_interval_set_seq(), mmu_interval_read_retry() and
 * mmu_interval_check_retry() work on our subscriptions, and a subscription
 * of ours may be handed to hmm_range_fault().
 *
 * Callbacks run from a classic mmu_notifier. In non-blockable context
 * (!mmu_notifier_range_blockable(range)) the core has called
 * non_block_start(): a callback must not sleep there, it trylocks and
 * returns false when it cannot make progress. On PREEMPT_RT a spinlock_t
 * sleeps, so there a callback may take only raw spinlocks and trylocks.
 */
#ifndef _MNI_H
#define _MNI_H

#include <linux/mmu_notifier.h>
#include <linux/module.h>

/*
 * MNI_IMPORT_NS - import the MNI symbol namespace into a consumer module.
 *
 * MODULE_IMPORT_NS() takes a bare identifier up to 6.12 and a string
 * literal from 6.13; both expand to this modinfo string, so spelling it
 * out works on every kernel without a version test.
 */
#define MNI_IMPORT_NS() MODULE_INFO(import_ns, "MNI")

int mni_interval_notifier_insert(struct mmu_interval_notifier *interval_sub,
				 struct mm_struct *mm, unsigned long start,
				 unsigned long length,
				 const struct mmu_interval_notifier_ops *ops);
int mni_interval_notifier_insert_locked(struct mmu_interval_notifier *interval_sub,
					struct mm_struct *mm,
					unsigned long start,
					unsigned long length,
					const struct mmu_interval_notifier_ops *ops);
void mni_interval_notifier_remove(struct mmu_interval_notifier *interval_sub);
unsigned long mni_interval_read_begin(struct mmu_interval_notifier *interval_sub);
int mni_interval_read_begin_killable(struct mmu_interval_notifier *interval_sub,
				     unsigned long *seq);
int mni_interval_read_begin_timeout(struct mmu_interval_notifier *interval_sub,
				    long timeout, unsigned long *seq);
int mni_interval_notifier_put(struct mmu_interval_notifier *interval_sub,
			      void (*release)(struct mmu_interval_notifier *sub));
int mni_interval_notifier_update(struct mmu_interval_notifier *interval_sub,
				 unsigned long start, unsigned long length);
int mni_interval_notifier_set_owner(struct mmu_interval_notifier *interval_sub,
				    void *owner);
int mni_mm_get(struct mm_struct *mm);
int mni_mm_put(struct mm_struct *mm);

#endif /* _MNI_H */
