// SPDX-License-Identifier: GPL-2.0
/*
 * mni_update.c - a subscription moving to another range, and the
 * callbacks the walks in flight owe it
 */
#include <linux/minmax.h>
#include <linux/slab.h>

#include "mni_internal.h"

/*
 * Would @inv's walk miss a callback it owes @sub if @sub moved from its
 * place to [@start, @last]? Lock held. A walk owes @sub a callback if it
 * began after @sub's insert (or last update), does not skip it, overlaps
 * its old or its new range, and has not called it yet:
 *   - @sub in the walk's round: called, or called from the round whatever
 *     its range: owes nothing more;
 *   - old range overlapped: the tree walk calls @sub unless it has gone
 *     past @sub's place (before @next, or no @next);
 *   - new range only: owed while the walk still runs.
 * Whether it still runs is read from @pos, which the walker stores without
 * the lock: @waiters is set first, so either the walker sees it after its
 * last callback and comes back for @owed (mni_itree_walk_end()), or we see
 * that last @pos and take the walk for over.
 */
static bool mni_inval_owes(struct mni_inval *inv,
			   const struct mmu_interval_notifier *sub,
			   unsigned long start, unsigned long last)
{
	bool old = mni_inval_overlaps(inv, sub);
	unsigned int i, pos;

	if (mni_sub_stamp(sub) >= inv->seq || mni_inval_skips(inv, sub) ||
	    (!old && !mni_inval_overlaps_range(inv, start, last)))
		return false;
	for (i = 0; i < inv->nr_batch; i++)
		if (mni_slot_sub(inv->batch[i]) == sub)
			return false;
	if (old)
		return inv->next &&
		       !mni_node_before(&sub->interval_tree, inv->next);
	if (inv->next || inv->owed)
		return true;
	/* Read by mni_itree_walk_end(). */
	WRITE_ONCE(inv->waiters, true);
	/* Pairs with smp_mb() in mni_itree_walk_end(). */
	smp_mb();
	/* Pairs with smp_store_release() in mni_itree_call_batch(). */
	pos = smp_load_acquire(&inv->pos);
	return pos < inv->nr_batch;
}

/* How many of @n entries of mni_inval.owed the spares lack. Lock held. */
static unsigned int mni_owed_missing(struct mni_itree *it, unsigned int n)
{
	struct mni_owed *o;

	for (o = it->owed_spare; o && n; o = o->next)
		n--;
	return n;
}

/* @inv may hold a second pass of a subscription now at [@start, @last]. */
static void mni_inval_widen(struct mni_inval *inv, unsigned long start,
			    unsigned long last)
{
	inv->fin_start = min(inv->fin_start, start);
	inv->fin_last = max(inv->fin_last, last);
}

/* Add @n spare entries; without reclaim, which runs invalidations. */
static int mni_owed_alloc(struct mni_itree *it, unsigned int n)
{
	unsigned long flags;
	struct mni_owed *o;

	while (n--) {
		o = kmalloc(sizeof(*o), GFP_NOWAIT | __GFP_NOWARN);
		if (!o)
			o = kmalloc(sizeof(*o), GFP_ATOMIC | __GFP_NOWARN);
		if (!o)
			return -ENOMEM;
		raw_spin_lock_irqsave(&it->lock, flags);
		mni_owed_put_locked(it, o);
		raw_spin_unlock_irqrestore(&it->lock, flags);
	}
	return 0;
}

/**
 * mni_itree_update - move a subscription to another range
 * @it: the engine of the subscription's mm
 * @sub: the subscription; need not be one of ours
 * @start: first address of the new range
 * @last: last address of the new range (closed interval)
 *
 * In one critical section: every walk in flight that owes @sub a callback
 * (mni_inval_owes()) gets it queued, @sub moves to its new place, and its
 * sequence and stamp take a fresh value. So each invalidation whose walk
 * runs across the update and overlaps the old or the new range calls @sub
 * once; those that start later call it as its new range says; and
 * read_retry() reports a collision to every read begun before. Never
 * waits. Allocates only when a walk in flight owes @sub a callback and the
 * spare entries are used up.
 * Wakes the read_begin() sleepers, whose wait the move may have ended
 * (not with interrupts off: see mni_itree_wake_any()).
 * Context: any but hardirq, softirq and NMI (on PREEMPT_RT, one where
 * kmalloc() may be called); does not sleep.
 * Return: 0; -ENOENT if @sub is not in this engine or is going; -ENOMEM.
 */
int mni_itree_update(struct mni_itree *it, struct mmu_interval_notifier *sub,
		     unsigned long start, unsigned long last)
{
	unsigned long flags;
	unsigned int need, queued = 0;
	struct mni_inval *inv;
	struct mni_owed *o;
	int ret = 0;

	raw_spin_lock_irqsave(&it->lock, flags);
	for (;;) {
		if (!mni_itree_contains(it, sub) || mni_sub_is_dying(sub)) {
			ret = -ENOENT;
			goto out;
		}
		need = 0;
		hlist_for_each_entry(inv, &it->inflight, link)
			need += mni_inval_owes(inv, sub, start, last);
		need = mni_owed_missing(it, need);
		if (!need)
			break;
		raw_spin_unlock_irqrestore(&it->lock, flags);
		ret = mni_owed_alloc(it, need);
		raw_spin_lock_irqsave(&it->lock, flags);
		if (ret)
			goto out;
	}
	/*
	 * Under the same lock, a walk's answer can only turn from owed to
	 * not owed (its @pos moves on): the spares are enough. A walk that
	 * may hold a second pass of @sub, or is to call it, finds it at its
	 * new place after its second passes (mni_inval_may_finish()).
	 */
	hlist_for_each_entry(inv, &it->inflight, link) {
		if (mni_inval_may_finish(inv, sub))
			mni_inval_widen(inv, start, last);
		o = it->owed_spare;
		if (!o || !mni_inval_owes(inv, sub, start, last))
			continue;
		mni_inval_widen(inv, start, last);
		it->owed_spare = o->next;
		o->sub = sub;
		o->next = inv->owed;
		inv->owed = o;
		queued++;
	}
	mni_itree_move_locked(it, sub, start, last);
	/* Odd and fresh, like an insert's; walks in flight skip @sub now. */
	/* Pairs with READ_ONCE() in mni_itree_read_unlocked(). */
	WRITE_ONCE(it->seq, it->seq + 2);
	mni_sub_restamp(sub, it->seq);
	/*
	 * Pairs with READ_ONCE() in mmu_interval_check_retry(); a
	 * read_retry() is a plain read, ordered against this store only by
	 * the driver lock when the caller holds it (see the kernel-doc of
	 * mni_interval_notifier_update()).
	 */
	WRITE_ONCE(sub->invalidate_seq, it->seq);
	/* Under the lock: a callback may put @sub, a walk release it. */
	trace_mni_update(it->id, sub, queued);
out:
	raw_spin_unlock_irqrestore(&it->lock, flags);
	if (ret)
		return ret;
	/* A read_begin() asleep for the old range may be done now. */
	mni_itree_wake_any(it);
	return 0;
}
