// SPDX-License-Identifier: GPL-2.0
/*
 * mni_put.c - a put: a subscription taken out without waiting,
 * released by whoever lets go of it last
 */
#include <linux/bug.h>
#include <linux/cache.h>
#include <linux/lockdep.h>

#include "mni_internal.h"

/*
 * Set once at module init, before any engine exists, and never again: read
 * without a barrier (module loading orders it before every caller).
 */
static mni_put_done_t mni_put_done __read_mostly;

/**
 * mni_itree_set_put_done - name what releases a put subscription
 * @done: called once a put subscription is out of the tree and no
 *	callback runs on it (see mni_put_done_t)
 *
 * Context: module init, before the first engine is set up.
 */
void mni_itree_set_put_done(mni_put_done_t done)
{
	mni_put_done = done;
}

/**
 * mni_itree_put - take a subscription out without waiting
 * @it: the engine of the subscription's mm
 * @sub: the subscription; need not be one of ours
 * @release: called once no callback can run on @sub any more
 * @last: set when @sub is unlinked here and was the engine's last user
 *
 * If no walk holds @sub, it is unlinked and the caller releases it as the
 * put-done callback would (mni_itree_set_put_done()), with @last.
 * Otherwise it is marked dying, and the walk that lets go of it last
 * (each one holding it is told to look) unlinks it and calls the put-done
 * callback: after its round, at its end, or after its second passes. May
 * be called from @sub's own callback.
 * Context: any; does not sleep.
 * Return: 0 (unlinked: the caller releases), 1 (the engine will), or
 * -ENOENT if @sub is not in this engine or a remove or put of it has
 * begun already.
 */
int mni_itree_put(struct mni_itree *it, struct mmu_interval_notifier *sub,
		  mni_release_t release, bool *last)
{
	unsigned long flags;
	bool wake = false;
	int ret = 0;

	*last = false;
	raw_spin_lock_irqsave(&it->lock, flags);
	if (!mni_itree_contains(it, sub) || mni_sub_is_dying(sub)) {
		ret = -ENOENT;
	} else if (mni_itree_in_flight(it) && mni_itree_sub_busy(it, sub, true)) {
		mni_sub_set_put(sub, release);
		it->nr_put_pending++;
		ret = 1;
	} else {
		*last = mni_itree_unlink(it, sub);
		/* A read_begin() asleep on @sub returns now (unlink told it). */
		wake = !hlist_empty(&it->readers);
	}
	/*
	 * Under the lock: once it is dropped, the walk that holds @sub may
	 * release it, and the release may free it.
	 */
	if (ret >= 0)
		trace_mni_remove(it->id, sub, ret);
	raw_spin_unlock_irqrestore(&it->lock, flags);
	if (wake)
		mni_itree_wake_any(it);
	return ret;
}

/*
 * If @sub was put and no walk holds it any more, unlink it and hand back
 * its release, with @last as mni_itree_unlink() says; lock held. Walks that
 * still hold it are marked to look.
 */
static mni_release_t mni_itree_reap_locked(struct mni_itree *it,
					   struct mmu_interval_notifier *sub,
					   bool *last)
{
	mni_release_t release;

	lockdep_assert_held(&it->lock);
	release = mni_sub_put_release(sub);
	if (!release || mni_itree_sub_busy(it, sub, true))
		return NULL;
	*last = mni_itree_unlink(it, sub);
	/* Each put marked dying counted itself once (mni_itree_put()). */
	if (!WARN_ON_ONCE(!it->nr_put_pending))
		it->nr_put_pending--;
	return release;
}

/*
 * A walk let go of its round @subs (@n slots): look at each slot marked
 * MNI_SLOT_PUT, whose subscription the mark kept alive, unmark it, and
 * release it unless another walk still holds it. Unmarked slots may point
 * at subscriptions freed since, and are never followed. One round of the
 * lock per mark: puts are rare.
 */
void mni_itree_reap(struct mni_itree *it,
		    struct mmu_interval_notifier **subs, unsigned int n)
{
	struct mmu_interval_notifier *sub;
	mni_release_t release;
	bool last_user = false;
	unsigned int i;

	for (i = 0; i < n; i++) {
		raw_spin_lock_irq(&it->lock);
		sub = subs[i];
		release = NULL;
		if (mni_slot_is_put(sub)) {
			sub = mni_slot_sub(sub);
			WRITE_ONCE(subs[i], sub);
			release = mni_itree_reap_locked(it, sub, &last_user);
		}
		raw_spin_unlock_irq(&it->lock);
		if (release)
			mni_put_done(it, sub, release, last_user);
	}
}

/*
 * A walk's second passes are over: release the put subscriptions over the
 * range it may hold second passes of (@fin_start, @fin_last) that only it
 * held. Rare, so a fresh search per release.
 */
void mni_itree_reap_range(struct mni_itree *it, struct mni_inval *inv)
{
	struct mmu_interval_notifier *sub;
	struct interval_tree_node *node;
	unsigned long start, last;
	mni_release_t release;
	bool last_user = false;

	for (;;) {
		release = NULL;
		raw_spin_lock_irq(&it->lock);
		/* Updates widen it under the lock (mni_itree_update()). */
		start = inv->fin_start;
		last = inv->fin_last;
		for (node = mni_it_iter_first(&it->root, start, last);
		     node && it->nr_put_pending && !release;
		     node = mni_it_iter_next(node, start, last)) {
			sub = mni_sub_of(node);
			release = mni_itree_reap_locked(it, sub, &last_user);
		}
		raw_spin_unlock_irq(&it->lock);
		if (!release)
			return;
		mni_put_done(it, sub, release, last_user);
	}
}
