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

#include <linux/llist.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>

struct hmm_range;

/*
 * MNI_IMPORT_NS - import the MNI symbol namespace into a consumer module.
 *
 * MODULE_IMPORT_NS() takes a bare identifier up to 6.12 and a string
 * literal from 6.13; both expand to this modinfo string, so spelling it
 * out works on every kernel without a version test.
 */
#define MNI_IMPORT_NS() MODULE_INFO(import_ns, "MNI")

/**
 * struct mni_interval_notifier_finish - a second pass a two-pass start asks for
 * @link: the engine's, while the finish waits for the end of the start pass
 * @notifier: set by the engine to the subscription whose start handed this
 *	back, before its @invalidate_finish is called
 *
 * The driver owns the memory: it embeds this in its own object, usually
 * one preallocated per subscription, so that a non-blockable pass (the OOM
 * reaper, process_mrelease(2)) allocates nothing. The engine never
 * allocates or frees one. Hand an object back again only after its
 * @invalidate_finish has been called.
 */
struct mni_interval_notifier_finish {
	struct llist_node link;
	struct mmu_interval_notifier *notifier;
};

/**
 * struct mni_interval_notifier_ops - two-pass interval notifier ops, on
 *				      every kernel
 * @base: what the engine stores in mmu_interval_notifier.ops; all its
 *	callbacks must be NULL (it names the ops in messages and traces)
 * @invalidate_start: the first pass, called for each subscription the
 *	invalidation overlaps, as ->invalidate() would be: it calls
 *	mmu_interval_set_seq() under the driver lock and returns false only
 *	when the range is not blockable and it cannot make progress. It may
 *	set *@finish to a finish object of its own to ask for a second pass;
 *	left NULL, there is none for this call. A start returning false must
 *	not hand back a finish (one it does is ignored).
 * @invalidate_finish: the second pass: called once for each finish handed
 *	back, after the start pass has called every subscription (also when
 *	a later one refused), in the order the starts ran, and before the
 *	invalidation ends. In non-blockable context it must not sleep
 *	either. The finish object is the driver's again when it is called.
 *
 * The semantics of Linux 7.1's ->invalidate_start and ->invalidate_finish,
 * with a finish type of this module's own, so that they work on every
 * kernel. Insert with mni_interval_notifier_insert_two_pass().
 */
struct mni_interval_notifier_ops {
	struct mmu_interval_notifier_ops base;
	bool (*invalidate_start)(struct mmu_interval_notifier *interval_sub,
				 const struct mmu_notifier_range *range,
				 unsigned long cur_seq,
				 struct mni_interval_notifier_finish **finish);
	void (*invalidate_finish)(struct mni_interval_notifier_finish *finish);
};

int mni_interval_notifier_insert(struct mmu_interval_notifier *interval_sub,
				 struct mm_struct *mm, unsigned long start,
				 unsigned long length,
				 const struct mmu_interval_notifier_ops *ops);
int mni_interval_notifier_insert_locked(struct mmu_interval_notifier *interval_sub,
					struct mm_struct *mm,
					unsigned long start,
					unsigned long length,
					const struct mmu_interval_notifier_ops *ops);
int mni_interval_notifier_insert_two_pass(struct mmu_interval_notifier *interval_sub,
					  struct mm_struct *mm,
					  unsigned long start,
					  unsigned long length,
					  const struct mni_interval_notifier_ops *ops);
int mni_interval_notifier_insert_two_pass_locked(struct mmu_interval_notifier *interval_sub,
						 struct mm_struct *mm,
						 unsigned long start,
						 unsigned long length,
						 const struct mni_interval_notifier_ops *ops);
void mni_interval_notifier_remove(struct mmu_interval_notifier *interval_sub);
unsigned long mni_interval_read_begin(struct mmu_interval_notifier *interval_sub);
int mni_interval_read_begin_killable(struct mmu_interval_notifier *interval_sub,
				     unsigned long *seq);
int mni_interval_read_begin_timeout(struct mmu_interval_notifier *interval_sub,
				    long timeout, unsigned long *seq);
int mni_interval_notifier_put(struct mmu_interval_notifier *interval_sub,
			      void (*release)(struct mmu_interval_notifier *sub));
void mni_interval_notifier_put_barrier(void);
int mni_interval_notifier_update(struct mmu_interval_notifier *interval_sub,
				 unsigned long start, unsigned long length);
int mni_interval_notifier_set_owner(struct mmu_interval_notifier *interval_sub,
				    void *owner);
int mni_mm_get(struct mm_struct *mm);
int mni_hmm_range_fault_unlocked_timeout(struct hmm_range *range,
					 unsigned long timeout);
int mni_mm_put(struct mm_struct *mm);

#endif /* _MNI_H */
