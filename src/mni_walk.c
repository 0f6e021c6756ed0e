// SPDX-License-Identifier: GPL-2.0
/*
 * mni_walk.c - one invalidation: its record, its rounds of callbacks,
 * its end, and the release pass
 */
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "mni_internal.h"

/* A spare record, leaving @keep of them; lock held. */
static struct mni_inval *mni_spare_take_locked(struct mni_itree *it,
					       unsigned int keep)
{
	struct mni_inval *inv;

	lockdep_assert_held(&it->lock);
	if (it->nr_spare <= keep)
		return NULL;
	inv = hlist_entry(it->spare.first, struct mni_inval, link);
	hlist_del(&inv->link);
	it->nr_spare--;
	return inv;
}

/*
 * A record for a blockable invalidation with no spare to take but the
 * reserve: allocated without reclaim (reclaim itself runs invalidations,
 * and the core forbids it here), then from the atomic reserves. Once, no
 * retry: without one the walk goes on with no record
 * (mni_itree_invalidate_overflow()), and the reserve stays for the
 * non-blockable passes, the OOM reaper's, which cannot allocate.
 */
static struct mni_inval *mni_inval_alloc(void)
{
	struct mni_inval *inv;

	inv = kmalloc(sizeof(*inv), GFP_NOWAIT | __GFP_NOWARN);
	if (!inv)
		inv = kmalloc(sizeof(*inv), GFP_ATOMIC | __GFP_NOWARN);
	return inv;
}

/*
 * Take a slot of it->overflow for @range; lock held. False: all are used.
 */
static bool mni_overflow_take_locked(struct mni_itree *it,
				     const struct mmu_notifier_range *range)
{
	unsigned int i;

	lockdep_assert_held(&it->lock);
	for (i = 0; i < MNI_OVERFLOW_SLOTS; i++) {
		if (!it->overflow[i]) {
			it->overflow[i] = range;
			it->nr_overflow++;
			return true;
		}
	}
	return false;
}

/* Give back @range's slot of it->overflow, if it has one; lock held. */
static bool mni_overflow_put_locked(struct mni_itree *it,
				    const struct mmu_notifier_range *range)
{
	unsigned int i;

	lockdep_assert_held(&it->lock);
	for (i = 0; it->nr_overflow && i < MNI_OVERFLOW_SLOTS; i++) {
		if (it->overflow[i] == range) {
			it->overflow[i] = NULL;
			it->nr_overflow--;
			return true;
		}
	}
	return false;
}

/* Give back a record no longer in flight; lock held. True: caller frees. */
static bool mni_inval_put_locked(struct mni_itree *it, struct mni_inval *inv,
				 bool blockable)
{
	lockdep_assert_held(&it->lock);
	if (blockable && it->nr_spare >= MNI_SPARE_MAX)
		return true;
	hlist_add_head(&inv->link, &it->spare);
	it->nr_spare++;
	return false;
}

/*
 * Start a round of @inv's walk at @node (NULL: the walk is over): collect
 * the next MNI_WALK_BATCH subscriptions it must call, in tree order, and
 * keep where the round after starts. Lock held. A subscription inserted
 * after @inv began, or dying, is never called by it: neither ever becomes
 * callable again for @inv, so the nodes passed over need no second look.
 * Return: true if a round may follow this one.
 */
static bool mni_itree_collect_locked(struct mni_itree *it,
				     struct mni_inval *inv,
				     struct interval_tree_node *node)
{
	struct mmu_interval_notifier *sub;
	unsigned int n = 0;
	struct mni_owed *o;

	lockdep_assert_held(&it->lock);
	for (; node; node = mni_it_iter_next(node, inv->start, inv->last)) {
		sub = mni_sub_of(node);
		/* Inserted before @inv began, and not being removed. */
		if (mni_sub_stamp(sub) < inv->seq) {
			if (mni_inval_skips(inv, sub))
				continue;
			if (n == MNI_WALK_BATCH)
				break;
			inv->batch[n++] = sub;
		}
	}
	/* The tree is done: call what updates moved out of the walk's way. */
	while (!node && n < MNI_WALK_BATCH && inv->owed) {
		o = inv->owed;
		inv->owed = o->next;
		inv->batch[n++] = o->sub;
		mni_owed_put_locked(it, o);
	}
	inv->nr_batch = n;
	inv->pos = 0;
	inv->next = node;
	return node || inv->owed;
}

/*
 * With @stack NULL: a spare record, or one allocated (blockable only).
 * With @stack: no record could be had so; @stack serves the walk, and a
 * slot of it->overflow stands for it until the end (none once the engine
 * is dead: the core may never send that end). Lock held, dropped to
 * allocate. Blockable passes never take the last MNI_SPARE_RESERVE
 * spares, which are the non-blockable ones' only records.
 */
static struct mni_inval *
mni_itree_record_locked(struct mni_itree *it,
			const struct mmu_notifier_range *range, bool blockable,
			struct mni_inval *stack)
{
	struct mni_inval *inv;

	inv = mni_spare_take_locked(it, blockable ? MNI_SPARE_RESERVE : 0);
	if (inv || !blockable || stack)
		goto stack;
	raw_spin_unlock_irq(&it->lock);
	inv = mni_inval_alloc();
	raw_spin_lock_irq(&it->lock);
stack:
	if (inv)
		inv->on_stack = false;
	/* Dead: every read collides already, the walk needs no slot. */
	else if (stack && (it->dead || mni_overflow_take_locked(it, range)))
		inv = stack, inv->on_stack = true;
	return inv;
}

/*
 * Record @range and collect its first round (mni_itree_collect_locked()).
 * The record is a spare, taken under the lock this takes anyway, or is
 * allocated; or the walker's own @stack (mni_itree_record_locked()).
 * Non-blockable passes (the core has called non_block_start(); on
 * PREEMPT_RT the allocator's locks sleep) only take a spare; blockable
 * ones leave MNI_SPARE_RESERVE of them for those.
 * Return: the record; NULL with @skip set once the release pass is over
 * (nothing to call, nothing to record); NULL if none could be had.
 */
static struct mni_inval *
mni_itree_walk_first(struct mni_itree *it,
		     const struct mmu_notifier_range *range, bool blockable,
		     struct mni_inval *stack, bool *more,
		     unsigned long *in_flight, bool *skip)
{
	struct interval_tree_node *first;
	struct mni_inval *inv = NULL;

	raw_spin_lock_irq(&it->lock);
	/*
	 * The core calls a start it had looked up before the release unhooked
	 * it (an rmap walk through another mm's mapping of a shared file):
	 * every subscription has had its RELEASE and maps nothing any more.
	 */
	*skip = it->released;
	if (*skip)
		goto out;
	if (!stack)
		it->stats.invalidations++;
	inv = mni_itree_record_locked(it, range, blockable, stack);
	/* A start dropped the lock to allocate: the release may be over. */
	if (inv && it->released) {
		*skip = true;
		if (inv->on_stack)
			mni_overflow_put_locked(it, range);
		else
			mni_inval_put_locked(it, inv, false);
		inv = NULL;
		goto out;
	}
	if (inv) {
		inv->range = range;
		inv->start = range->start;
		inv->last = range->end - 1;
		inv->fin_start = inv->start;
		inv->fin_last = inv->last;
		/* Pairs with READ_ONCE() in mni_itree_read_unlocked(). */
		WRITE_ONCE(it->seq, it->seq + 2);
		inv->seq = it->seq;
		inv->owner = mni_range_owner(range);
		inv->walker = current;
		/* Set by the walker itself: see mni_itree_walk(). */
		inv->finishes = NULL;
		inv->called = 0;
		inv->finishing = false;
		inv->waiters = false;
		inv->owner_stale = false;
		inv->owed = NULL;
		hlist_add_head(&inv->link, &it->inflight);
		/* One in flight: a record, or an overflow slot. */
		if (!inv->on_stack)
			it->nr_inflight++;
		*in_flight = it->nr_inflight + it->nr_overflow;
		first = range->end > range->start ?
			mni_it_iter_first(&it->root, inv->start, inv->last) :
			NULL;
		*more = mni_itree_collect_locked(it, inv, first);
	} else if (stack && !blockable) {
		/* Refused: a blockable start sleeps and tries again instead. */
		it->stats.no_record++;
	}
	mni_itree_publish_busy_locked(it);
out:
	raw_spin_unlock_irq(&it->lock);
	return inv;
}

/*
 * Call this round's subscriptions, without the lock. A slot a remove()
 * from one of these callbacks cleared, or whose subscription another
 * remove() has marked dying, is skipped; that remove() waits for this
 * round as needed (mni_inval_holds()).
 * Return: false if a non-blockable callback refused; its slot and the
 * ones after it stay held until mni_itree_walk_done().
 */
static bool mni_itree_call_batch(struct mni_itree *it, struct mni_inval *inv,
				 const struct mmu_notifier_range *range,
				 struct mni_finishes *finishes)
{
	const bool blockable = mmu_notifier_range_blockable(range);
	struct mmu_interval_notifier *sub;
	unsigned int i;
	bool done;

	for (i = 0; i < inv->nr_batch; i++) {
		/* Pairs with WRITE_ONCE() in mni_inval_holds(). */
		sub = READ_ONCE(inv->batch[i]);
		/* NULL: dropped; marked or dying: being taken out. */
		if (sub && !mni_slot_is_put(sub) && !mni_sub_is_dying(sub)) {
			done = mni_sub_invalidate(sub, range, inv->seq,
						  finishes);
			/* Pairs with READ_ONCE() in mni_itree_add_stats(). */
			WRITE_ONCE(inv->called, inv->called + 1);
			/*
			 * The callback removed its own subscription, which
			 * may be freed already: drop the finish it may have
			 * asked for, and touch it no more. Only this task
			 * clears a slot (mni_inval_holds()); others only
			 * mark one: READ_ONCE(), as above.
			 */
			if (unlikely(!READ_ONCE(inv->batch[i]))) {
				mni_sub_finish_drop(finishes, sub);
				if (!done && !blockable)
					return false;
				goto slot_done;
			}
			trace_mni_callback(it->id, sub, done);
			if (!done) {
				if (!blockable)
					return false;
				pr_err_ratelimited("mni: %ps returned false in blockable context, ignored\n",
						   sub->ops);
			}
			/* Pairs with READ_ONCE() in mni_itree_sub_busy(). */
			if (mni_finishes_pending(finishes))
				WRITE_ONCE(inv->finishing, true);
		}
slot_done:
		/*
		 * The slot is done. Pairs with smp_load_acquire() in
		 * mni_inval_holds(): a remove() that sees it may free @sub.
		 */
		smp_store_release(&inv->pos, i + 1);
	}
	return true;
}

/*
 * Between two rounds: wake a remove() that waited for the one that ended,
 * and collect the next. Return: true if a round may follow the new one.
 */
static bool mni_itree_walk_next(struct mni_itree *it, struct mni_inval *inv)
{
	bool more, wake;

	raw_spin_lock_irq(&it->lock);
	wake = inv->waiters;
	inv->waiters = false;
	if (wake && it->nr_put_pending) {
		/* A put waits for this round: release it before the next. */
		raw_spin_unlock_irq(&it->lock);
		mni_itree_reap(it, inv->batch, inv->nr_batch);
		raw_spin_lock_irq(&it->lock);
	}
	more = mni_itree_collect_locked(it, inv, inv->next);
	raw_spin_unlock_irq(&it->lock);
	if (wake)
		mni_itree_wake(it);
	return more;
}

/*
 * The walk's last round is done: no round of the lock, unless a remove()
 * sleeps for a slot of that round or an update queued a callback on @owed
 * meanwhile; then a round of the lock as between two rounds. An empty
 * last round (most invalidations overlap no subscription) had no slot to
 * sleep for, and an update that saw it took the walk for over.
 * Return: true if that collected another round to call, with @more set.
 */
static bool mni_itree_walk_end(struct mni_itree *it, struct mni_inval *inv,
			       bool *more)
{
	if (!inv->nr_batch)
		return false;
	/*
	 * Orders the last smp_store_release() of @pos before the load of
	 * @waiters: the store-buffer pair with smp_mb() in mni_inval_holds()
	 * (a remover that found its slot unfinished set @waiters first) and
	 * with smp_mb() in mni_inval_owes() (an update that found the round
	 * unfinished set @waiters before it queued on @owed). Either we see
	 * @waiters and wake, from mni_itree_walk_next(), whoever then sleeps
	 * (a sleeper tests under the lock that call takes, mni_itree_wake()),
	 * or the remover and the update see our last @pos and do not wait.
	 * Without it a remove() could sleep until the end, which the core may
	 * never send at exit, and a walk could miss a subscription an update
	 * moved. The wait queue is not looked at here: no barrier of a
	 * sleeper's pairs with this one.
	 */
	smp_mb();
	if (!READ_ONCE(inv->waiters))
		return false;
	*more = mni_itree_walk_next(it, inv);
	return inv->nr_batch;
}

/*
 * The walk is over, with second passes run or a refusal to undo: nothing
 * is held any more, and the put subscriptions it held last are released.
 * A refused invalidation changes no PTE, so its record goes then; the end
 * the core may still send finds none.
 */
static void mni_itree_walk_done(struct mni_itree *it, struct mni_inval *inv,
				bool refused, bool blockable)
{
	bool finishing, wake, free = false;
	struct mni_owed *o;
	unsigned int n;

	raw_spin_lock_irq(&it->lock);
	/* A refused walk calls no more; a finished one has none left. */
	while ((o = inv->owed)) {
		inv->owed = o->next;
		mni_owed_put_locked(it, o);
	}
	finishing = inv->finishing;
	wake = inv->waiters || finishing || refused;
	n = inv->nr_batch;
	/*
	 * Every slot is done, also those a refusal left uncalled: from here
	 * the round holds only what its marks keep. The slots stay where
	 * mni_inval_holds() sees them until mni_itree_reap() has looked at
	 * each mark: emptied first, another walk could release (and the owner
	 * free) a subscription between our unlock and our look at its slot,
	 * also when the walk was refused. Pairs with smp_load_acquire() in
	 * mni_inval_holds() and mni_inval_owes().
	 */
	smp_store_release(&inv->pos, n);
	if (!wake)
		inv->nr_batch = 0;
	inv->next = NULL;
	inv->waiters = false;
	inv->finishing = false;
	raw_spin_unlock_irq(&it->lock);

	/* Still our record: its batch and range are ours to read. */
	if (wake) {
		mni_itree_reap(it, inv->batch, n);
		raw_spin_lock_irq(&it->lock);
		inv->nr_batch = 0;
		raw_spin_unlock_irq(&it->lock);
		if (finishing)
			mni_itree_reap_range(it, inv);
	}
	if (refused) {
		raw_spin_lock_irq(&it->lock);
		it->stats.callbacks += inv->called;
		it->stats.refused++;
		hlist_del(&inv->link);
		/* The end the core may still send finds neither. */
		if (inv->on_stack) {
			mni_overflow_put_locked(it, inv->range);
		} else {
			it->nr_inflight--;
			free = mni_inval_put_locked(it, inv, blockable);
		}
		mni_itree_publish_busy_locked(it);
		raw_spin_unlock_irq(&it->lock);
	}
	if (free)
		kfree(inv);
	if (wake)
		mni_itree_wake(it);
}

/*
 * The walk of @inv, recorded by mni_itree_walk_first(), and its second
 * passes. Return: 0, or -EAGAIN if a non-blockable callback refused.
 */
static int mni_itree_walk(struct mni_itree *it, struct mni_inval *inv,
			  const struct mmu_notifier_range *range, bool more,
			  unsigned long in_flight)
{
	const bool blockable = mmu_notifier_range_blockable(range);
	struct mni_finishes finishes = {};
	bool done;

	/* Read only by this task: a remove() from one of its callbacks. */
	inv->finishes = &finishes;

	/*
	 * Orders the store of it->busy in mni_itree_walk_first() before the
	 * stores of mmu_interval_set_seq() in this walk's callbacks (dropping
	 * the lock orders it only before the unlock). Pairs with smp_rmb() in
	 * mni_itree_read_unlocked(): a reader that sees a sequence one of
	 * these callbacks set also sees this walk in flight.
	 */
	smp_wmb();
	lock_map_acquire(&mni_invalidate_map);
	trace_mni_invalidate_start(it->id, range, in_flight, inv->seq);
	for (;;) {
		done = mni_itree_call_batch(it, inv, range, &finishes);
		if (!done)
			break;
		if (more)
			more = mni_itree_walk_next(it, inv);
		else if (!mni_itree_walk_end(it, inv, &more))
			break;
	}
	/*
	 * Second passes of two-pass ops: after the whole pass, even a refused
	 * one.
	 */
	if (mni_finishes_pending(&finishes))
		mni_sub_finish_pass(&finishes);
	/* The pass is over: see mni_inval.finishes. */
	inv->finishes = NULL;
	/*
	 * @finishing, the walker's own store: second passes were collected,
	 * even if removes from the pass ran or dropped all of them early.
	 */
	if (inv->finishing || !done)
		mni_itree_walk_done(it, inv, !done, blockable);
	lock_map_release(&mni_invalidate_map);
	return done ? 0 : -EAGAIN;
}

/* May a start that found no record find one, or a slot, now? Lock held. */
static bool mni_itree_may_record(struct mni_itree *it, void *arg __maybe_unused)
{
	return it->nr_spare > MNI_SPARE_RESERVE ||
	       it->nr_overflow < MNI_OVERFLOW_SLOTS || it->dead;
}

/*
 * A start with no spare record and none to allocate: the walk runs on a
 * record on this stack, and a slot of it->overflow keeps every
 * subscription colliding until the end (mni_itree_overlap_in_flight()),
 * as the kernel's own engine does for every invalidation: degraded, still
 * exact. Out of line, so the common start's frame holds no record.
 * With every slot in use too, a blockable start sleeps until an end gives
 * back a slot or a record (other invalidations' ends: a start holds none
 * of either before its walk), and leaves the reserve alone; a
 * non-blockable one is refused, and calls no one.
 * Return: as mni_itree_invalidate_start().
 */
static noinline int
mni_itree_invalidate_overflow(struct mni_itree *it,
			      const struct mmu_notifier_range *range)
{
	const bool blockable = mmu_notifier_range_blockable(range);
	unsigned long in_flight;
	struct mni_inval stack, *inv;
	bool more, skip;
	int ret;

	for (;;) {
		inv = mni_itree_walk_first(it, range, blockable, &stack, &more,
					   &in_flight, &skip);
		if (inv || skip)
			break;
		if (!blockable)
			return -EAGAIN;
		mni_itree_wait(it, mni_itree_may_record, NULL, false,
			       MAX_SCHEDULE_TIMEOUT);
	}
	if (!inv)
		return 0;
	ret = mni_itree_walk(it, inv, range, more, in_flight);
	if (ret || !inv->on_stack)
		return ret;
	/* The walk is over: the slot stands for it from here to the end. */
	raw_spin_lock_irq(&it->lock);
	it->stats.callbacks += inv->called;
	hlist_del(&inv->link);
	raw_spin_unlock_irq(&it->lock);
	return 0;
}

/**
 * mni_itree_invalidate_start - call every subscription @range overlaps
 * @it: the engine of @range->mm
 * @range: the range the core is about to change
 *
 * Records the invalidation until mni_itree_invalidate_end() with the same
 * @range, unless it fails. Allocates only without reclaim, once, and goes
 * on without a record when that fails (mni_itree_invalidate_overflow()).
 * Once the release pass is over, calls no one and records nothing.
 *
 * Return: 0, or -EAGAIN in non-blockable context when a callback refused
 * (the subscriptions after it were not called), or when no record and no
 * overflow slot was left; the invalidation is then forgotten.
 */
int mni_itree_invalidate_start(struct mni_itree *it,
			       const struct mmu_notifier_range *range)
{
	const bool blockable = mmu_notifier_range_blockable(range);
	unsigned long in_flight;
	struct mni_inval *inv;
	bool more, skip;

	inv = mni_itree_walk_first(it, range, blockable, NULL, &more,
				   &in_flight, &skip);
	if (inv)
		return mni_itree_walk(it, inv, range, more, in_flight);
	if (skip)
		return 0;
	return mni_itree_invalidate_overflow(it, range);
}

static struct mni_inval *mni_itree_find(struct mni_itree *it,
					const struct mmu_notifier_range *range)
{
	struct mni_inval *inv;

	lockdep_assert_held(&it->lock);
	hlist_for_each_entry(inv, &it->inflight, link)
		if (inv->range == range)
			return inv;
	return NULL;
}

/**
 * mni_itree_invalidate_end - an invalidation ended
 * @it: the engine
 * @range: the range its start was given
 *
 * Ends the record of @range, if there is one; an end without a record is
 * ignored. Wakes the readers that waited for it.
 */
void mni_itree_invalidate_end(struct mni_itree *it,
			      const struct mmu_notifier_range *range)
{
	unsigned long in_flight, seq;
	struct mni_inval *inv;
	bool free = false, ended;

	raw_spin_lock_irq(&it->lock);
	inv = mni_itree_find(it, range);
	if (inv) {
		it->stats.callbacks += inv->called;
		hlist_del(&inv->link);
		it->nr_inflight--;
		free = mni_inval_put_locked(it, inv,
					    mmu_notifier_range_blockable(range));
		ended = true;
	} else {
		ended = mni_overflow_put_locked(it, range);
	}
	mni_itree_publish_busy_locked(it);
	in_flight = it->nr_inflight + it->nr_overflow;
	seq = it->seq;
	raw_spin_unlock_irq(&it->lock);
	if (free)
		kfree(inv);
	if (ended)
		mni_itree_wake(it);
	trace_mni_invalidate_end(it->id, in_flight, seq);
}

/**
 * mni_itree_release - tell every subscription that the mm is going away
 * @it: the engine
 * @mm: the mm, for the range handed to the callbacks
 *
 * Marks the engine dead, so from here read_begin() reports a collision at
 * once and nothing waits for an end the core may never send, then runs a
 * full, blockable MMU_NOTIFY_RELEASE pass.
 */
void mni_itree_release(struct mni_itree *it, struct mm_struct *mm)
{
	struct mmu_notifier_range range = {
		.mm = mm,
		.start = 0,
		.end = ULONG_MAX,
		.flags = MMU_NOTIFIER_RANGE_BLOCKABLE,
		.event = MMU_NOTIFY_RELEASE,
	};

	raw_spin_lock_irq(&it->lock);
	it->dead = true;
	mni_itree_publish_busy_locked(it);
	raw_spin_unlock_irq(&it->lock);
	mni_itree_wake(it);

	mni_itree_invalidate_start(it, &range);
	raw_spin_lock_irq(&it->lock);
	it->released = true;
	raw_spin_unlock_irq(&it->lock);
	mni_itree_invalidate_end(it, &range);
}
