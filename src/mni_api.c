// SPDX-License-Identifier: GPL-2.0
/*
 * mni_api.c - the exported interval notifier API
 *
 * Argument checks and the messages that name a misbehaving caller live
 * here; the engine itself is in mni_itree.c and mni_mm.c.
 */
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/sched/mm.h>

#include "mni.h"
#include "mni_kcompat.h"
#include "mni_mm.h"

#define mni_caller_err(ops, caller, fmt, ...)				\
	pr_err_ratelimited("mni: %ps (from %pS): " fmt "\n", ops, caller, \
			   ##__VA_ARGS__)

/* Checks common to both inserts; fills in @sub on success. */
static int mni_prepare(struct mmu_interval_notifier *sub, struct mm_struct *mm,
		       unsigned long start, unsigned long length,
		       const struct mmu_interval_notifier_ops *ops, void *caller)
{
	const char *fault;
	unsigned long last;

	if (!sub || !mm) {
		mni_caller_err(ops, caller, "insert with NULL %s",
			       sub ? "mm" : "subscription");
		return -EINVAL;
	}
	fault = ops ? mni_ops_fault(ops) : "NULL ops";
	if (fault) {
		mni_caller_err(ops, caller, "insert with %s", fault);
		return -EINVAL;
	}
	/* The tree holds closed intervals: [start, last]. */
	if (!length || check_add_overflow(start, length - 1, &last)) {
		mni_caller_err(ops, caller, "insert of %s range [%#lx, +%#lx)",
			       length ? "wrapping" : "empty", start, length);
		return -EOVERFLOW;
	}
	/*
	 * The caller must hold mm_users (mmget(), or current->mm): the core
	 * BUG()s when registering on an mm without users.
	 */
	if (atomic_read(&mm->mm_users) <= 0) {
		mni_caller_err(ops, caller, "insert on an mm that has no users left");
		return -EINVAL;
	}

	sub->interval_tree.start = start;
	sub->interval_tree.last = last;
	sub->ops = ops;
	sub->mm = mm;
	return 0;
}

static void mni_attach(struct mni_mm *mmm, struct mmu_interval_notifier *sub)
{
	/* Pairs with mmdrop() in mni_interval_notifier_remove(). */
	mmgrab(sub->mm);
	mni_itree_insert(&mmm->itree, sub);
}

/**
 * mni_interval_notifier_insert - Insert an interval notifier
 * @interval_sub: Interval subscription to register
 * @mm: mm_struct to attach to; the caller holds mm_users (mmget() or
 *	current->mm)
 * @start: Starting virtual address to monitor
 * @length: Length of the range to monitor
 * @ops: Interval notifier operations: @ops->invalidate, or from 7.1
 *	@ops->invalidate_start with @ops->invalidate_finish
 *
 * From return, @ops->invalidate is called for every change to the CPU page
 * tables of @mm that overlaps [@start, @start + @length), until
 * mni_interval_notifier_remove() returns. A fault path pairs
 * mni_interval_read_begin() with mmu_interval_read_retry().
 *
 * The first insert on an mm registers this module with the core, which
 * takes mmap_lock for write.
 *
 * Context: process context, may sleep; must not hold @mm's mmap_lock.
 * Return: 0; -EOVERFLOW for an empty or wrapping range; -EINVAL for NULL
 * arguments, ops without a callback or an mm without users; -ENOMEM; or
 * -EINTR when a signal interrupted the first registration on @mm.
 */
int mni_interval_notifier_insert(struct mmu_interval_notifier *interval_sub,
				 struct mm_struct *mm, unsigned long start,
				 unsigned long length,
				 const struct mmu_interval_notifier_ops *ops)
{
	struct mni_mm *mmm;
	int ret;

	ret = mni_prepare(interval_sub, mm, start, length, ops,
			  __builtin_return_address(0));
	if (ret)
		return ret;

	might_lock(&mm->mmap_lock);
	mmm = mni_mm_get_existing(mm);
	if (!mmm) {
		mmap_write_lock(mm);
		mmm = mni_mm_get(mm);
		mmap_write_unlock(mm);
		if (IS_ERR(mmm))
			return PTR_ERR(mmm);
	}
	mni_attach(mmm, interval_sub);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(mni_interval_notifier_insert, MNI_NS);

/**
 * mni_interval_notifier_insert_locked - Insert an interval notifier
 * @interval_sub: Interval subscription to register
 * @mm: mm_struct to attach to; the caller holds mm_users
 * @start: Starting virtual address to monitor
 * @length: Length of the range to monitor
 * @ops: Interval notifier operations: @ops->invalidate, or from 7.1
 *	@ops->invalidate_start with @ops->invalidate_finish
 *
 * As mni_interval_notifier_insert(), for a caller that already holds
 * @mm's mmap_lock for write.
 *
 * Context: process context, may sleep; mmap_lock held for write.
 * Return: as mni_interval_notifier_insert().
 */
int mni_interval_notifier_insert_locked(struct mmu_interval_notifier *interval_sub,
					struct mm_struct *mm,
					unsigned long start,
					unsigned long length,
					const struct mmu_interval_notifier_ops *ops)
{
	struct mni_mm *mmm;
	int ret;

	ret = mni_prepare(interval_sub, mm, start, length, ops,
			  __builtin_return_address(0));
	if (ret)
		return ret;

	mmm = mni_mm_get(mm);
	if (IS_ERR(mmm))
		return PTR_ERR(mmm);
	mni_attach(mmm, interval_sub);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(mni_interval_notifier_insert_locked, MNI_NS);

/**
 * mni_interval_notifier_remove - Remove an interval notifier
 * @interval_sub: Interval subscription to unregister
 *
 * When this returns, @ops->invalidate is not running on @interval_sub and
 * will never be called for it again, so its memory may be freed. If an
 * invalidation is in flight this waits for it to end, so the caller must
 * not hold a lock that the invalidate callback takes. Works after the mm
 * has exited.
 *
 * A subscription this module did not insert, or one already removed, is
 * refused with a rate-limited message and left untouched.
 *
 * Context: process context, may sleep.
 */
void mni_interval_notifier_remove(struct mmu_interval_notifier *interval_sub)
{
	struct mm_struct *mm;
	struct mni_itree *it;
	unsigned long epoch;
	struct mni_mm *mmm;
	int ret = -ENOENT;

	might_sleep();
	if (!interval_sub) {
		mni_caller_err(NULL, __builtin_return_address(0),
			       "remove of a NULL subscription");
		return;
	}
	mm = interval_sub->mm;

	/* RCU: a stranger's entry may be freed under us otherwise. */
	rcu_read_lock();
	it = mni_itree_of(interval_sub);
	mmm = it ? container_of(it, struct mni_mm, itree) :
		   mni_mm_lookup_rcu(mm);
	if (mmm)
		ret = mni_itree_remove(&mmm->itree, interval_sub, &epoch);
	rcu_read_unlock();
	if (ret < 0) {
		mni_caller_err(interval_sub->ops, __builtin_return_address(0),
			       "remove of a subscription not inserted here, or removed twice");
		return;
	}
	/* From here @interval_sub's user reference keeps @mmm alive. */

	lock_map_acquire(&mni_invalidate_map);
	lock_map_release(&mni_invalidate_map);
	if (ret > 0)
		wait_event(mmm->itree.wq, mni_itree_epoch_ended(&mmm->itree, epoch));

	mni_mm_put(mmm);
	/* Pairs with mmgrab() in mni_attach(). */
	mmdrop(mm);
}
EXPORT_SYMBOL_NS_GPL(mni_interval_notifier_remove, MNI_NS);

/**
 * mni_interval_read_begin - Begin a read side critical section against a VA
 *			     range
 * @interval_sub: The interval subscription
 *
 * Starts a collision-retry read section, like a seqcount read side but
 * one that may sleep: if an invalidation of @interval_sub is in flight it
 * waits for it to end. The caller then reads the CPU page tables (for
 * example with hmm_range_fault()), takes the lock its invalidate callback
 * takes, and checks mmu_interval_read_retry() before exposing the result.
 *
 * Context: process context, may sleep; must not hold a lock that the
 * invalidate callback takes.
 * Return: the sequence to pass to mmu_interval_read_retry() and
 * mmu_interval_check_retry(). For a subscription this module did not
 * insert, a sequence that read_retry always reports as a collision.
 */
unsigned long mni_interval_read_begin(struct mmu_interval_notifier *interval_sub)
{
	struct mni_itree *it = mni_itree_of(interval_sub);
	struct mni_mm *mmm;

	/* Inserted, so its user reference keeps the engine alive. */
	if (likely(it))
		return mni_itree_read_begin(it, interval_sub);

	/* Its insert or removal is queued behind an epoch, or a stranger. */
	rcu_read_lock();
	mmm = mni_mm_lookup_rcu(interval_sub->mm);
	rcu_read_unlock();
	if (mmm)
		return mni_itree_read_begin(&mmm->itree, interval_sub);

	mni_caller_err(interval_sub->ops, __builtin_return_address(0),
		       "read_begin on a subscription not inserted here");
	return READ_ONCE(interval_sub->invalidate_seq) + 1;
}
EXPORT_SYMBOL_NS_GPL(mni_interval_read_begin, MNI_NS);
