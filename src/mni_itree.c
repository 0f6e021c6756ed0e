// SPDX-License-Identifier: GPL-2.0
/*
 * mni_itree.c - interval tree, invalidation sequence and deferred list
 *
 * The collision-retry scheme
 * --------------------------
 * A driver mirrors CPU page tables into a device. Its fault path reads the
 * CPU PTEs without any lock that the mm holds, so it needs to learn whether
 * an invalidation ran (or is still running) over its range meanwhile:
 *
 *	seq = read_begin(sub)		invalidate_start(range)
 *	read PTEs, build mapping	  for each sub overlapping range:
 *	lock(driver)			    lock(driver)
 *	if (read_retry(sub, seq))	    set_seq(sub, cur_seq)
 *		goto again		    tear down device mapping
 *	program device			    unlock(driver)
 *	unlock(driver)			clear the CPU PTEs
 *					invalidate_end(range)
 *
 * The driver lock orders set_seq() against read_retry(), so a fault that
 * read PTEs before the CPU cleared them always sees a new sequence. The one
 * window the driver lock cannot close is a fault that starts after the
 * callback ran but before the CPU PTEs are cleared: it would read the old
 * PTEs and see no new sequence. read_begin() closes it by waiting, when the
 * subscription was invalidated in the epoch still open, until that epoch
 * ends, i.e. until every invalidation in flight has called its end.
 *
 * State, all under mni_itree.lock:
 *   seq even:  idle, or only invalidations that overlap no subscription are
 *              in flight. The tree may change.
 *   seq odd:   an epoch is open; the tree is frozen, so invalidations walk it
 *              without the lock; inserts and removes go to the deferred list.
 * Each overlapping invalidation takes a fresh odd value (the first one of an
 * epoch does seq++, later ones seq += 2) and hands it to the callbacks, so
 * two invalidations of one epoch are two collisions for read_retry(). When
 * @active drops to zero inside an epoch, seq++ makes it even again and the
 * deferred list is applied, in one critical section.
 */
#include <linux/interval_tree_generic.h>
#include <linux/printk.h>
#include <linux/sched.h>

#include "mni_itree.h"
#include "mni_trace.h"

#define MNI_IT_START(node) ((node)->start)
#define MNI_IT_LAST(node) ((node)->last)

INTERVAL_TREE_DEFINE(struct interval_tree_node, rb, unsigned long,
		     __subtree_last, MNI_IT_START, MNI_IT_LAST, static, mni_it)

#ifdef CONFIG_LOCKDEP
/*
 * Taken around every invalidation pass and, empty, before the sleeps in
 * read_begin() and remove(): lockdep then sees a caller that holds, around
 * those sleeps, a lock that a callback takes. The core's own map for this
 * is not exported.
 */
static struct lock_class_key mni_invalidate_key;
struct lockdep_map mni_invalidate_map =
	STATIC_LOCKDEP_MAP_INIT("mni_invalidate_range", &mni_invalidate_key);
#endif

void mni_itree_init(struct mni_itree *it, struct mni_stats __percpu *stats,
		    unsigned long id)
{
	spin_lock_init(&it->lock);
	it->root = RB_ROOT_CACHED;
	it->seq = 2;
	it->epoch = 1;
	it->active = 0;
	INIT_HLIST_HEAD(&it->deferred);
	init_waitqueue_head(&it->wq);
	it->stats = stats;
	it->id = id;
}

static bool mni_itree_is_invalidating(struct mni_itree *it)
{
	lockdep_assert_held(&it->lock);
	return it->seq & 1;
}

/* Was a subscription whose invalidate_seq is @sub_seq called in this epoch? */
static bool mni_itree_seq_in_epoch(struct mni_itree *it, unsigned long sub_seq)
{
	return mni_itree_is_invalidating(it) && (sub_seq & 1) &&
	       (long)(sub_seq - it->epoch) >= 0;
}

/* Open an epoch, or take the next odd value of the open one. */
static unsigned long mni_itree_next_seq(struct mni_itree *it)
{
	lockdep_assert_held(&it->lock);
	if (mni_itree_is_invalidating(it)) {
		it->seq += 2;
	} else {
		it->seq++;
		it->epoch = it->seq;
	}
	return it->seq;
}

static void mni_sub_set_engine(struct mmu_interval_notifier *sub,
			       struct mni_itree *it)
{
	/* Pairs with READ_ONCE() in mni_itree_of(). */
	WRITE_ONCE(sub->deferred_item.next,
		   it ? (struct hlist_node *)((unsigned long)it | MNI_ENGINE_TAG) :
			NULL);
}

/* Off the deferred list: unhashed, and tagged with @it if in the tree. */
static void mni_sub_undefer(struct mmu_interval_notifier *sub,
			    struct mni_itree *it)
{
	__hlist_del(&sub->deferred_item);
	WRITE_ONCE(sub->deferred_item.pprev, NULL);
	mni_sub_set_engine(sub, it);
}

/* Close the epoch and apply what waited for it; the caller wakes @wq. */
static void mni_itree_end_epoch(struct mni_itree *it)
{
	struct mmu_interval_notifier *sub;
	struct hlist_node *next;

	lockdep_assert_held(&it->lock);
	it->seq++;
	hlist_for_each_entry_safe(sub, next, &it->deferred, deferred_item) {
		trace_mni_deferred_apply(it->id, sub,
					 RB_EMPTY_NODE(&sub->interval_tree.rb));
		if (RB_EMPTY_NODE(&sub->interval_tree.rb)) {
			mni_it_insert(&sub->interval_tree, &it->root);
			mni_sub_undefer(sub, it);
		} else {
			mni_it_remove(&sub->interval_tree, &it->root);
			RB_CLEAR_NODE(&sub->interval_tree.rb);
			mni_sub_undefer(sub, NULL);
		}
	}
}

/**
 * mni_itree_insert - add a subscription, or queue it behind the open epoch
 * @it: the engine of the subscription's mm
 * @sub: subscription with interval_tree.start/last, ops and mm set
 */
void mni_itree_insert(struct mni_itree *it, struct mmu_interval_notifier *sub)
{
	bool deferred = false;
	unsigned long seq;

	RB_CLEAR_NODE(&sub->interval_tree.rb);
	INIT_HLIST_NODE(&sub->deferred_item);

	spin_lock(&it->lock);
	if (mni_itree_is_invalidating(it)) {
		/* Frozen tree: the epoch's end inserts it. */
		hlist_add_head(&sub->deferred_item, &it->deferred);
		seq = it->seq;
		deferred = true;
	} else if (it->active) {
		/*
		 * Invalidations of unknown ranges are in flight and may cover
		 * this one: open an epoch so read_begin() waits them out.
		 */
		seq = mni_itree_next_seq(it);
		mni_it_insert(&sub->interval_tree, &it->root);
		mni_sub_set_engine(sub, it);
	} else {
		/* Odd, and older than any epoch still to come. */
		seq = it->seq - 1;
		mni_it_insert(&sub->interval_tree, &it->root);
		mni_sub_set_engine(sub, it);
	}
	/* Pairs with READ_ONCE() in mmu_interval_read_retry(). */
	WRITE_ONCE(sub->invalidate_seq, seq);
	spin_unlock(&it->lock);

	if (deferred)
		this_cpu_inc(it->stats->deferred);
	trace_mni_insert(it->id, sub, deferred);
}

static bool mni_itree_is_deferred(struct mni_itree *it,
				  struct mmu_interval_notifier *sub)
{
	struct mmu_interval_notifier *pos;

	hlist_for_each_entry(pos, &it->deferred, deferred_item)
		if (pos == sub)
			return true;
	return false;
}

/**
 * mni_itree_remove - take a subscription out, or queue its removal
 * @it: the engine of the subscription's mm
 * @sub: the subscription; need not be one of ours
 * @epoch: set when the caller must wait for this epoch to end
 *
 * Return: -ENOENT if @sub is not in this engine or its removal is already
 * queued, 1 if the removal is queued behind the open epoch (wait for
 * mni_itree_epoch_ended(@epoch) before @sub may be freed), 0 if it is gone.
 */
int mni_itree_remove(struct mni_itree *it, struct mmu_interval_notifier *sub,
		     unsigned long *epoch)
{
	int ret = 0;

	spin_lock(&it->lock);
	if (mni_itree_of(sub) != it) {
		/*
		 * Not in this tree: a pending insert to cancel, or a stranger
		 * (never inserted here, removed already, or whose removal is
		 * queued). Strangers are only compared, never written.
		 */
		if (RB_EMPTY_NODE(&sub->interval_tree.rb) &&
		    mni_itree_is_deferred(it, sub))
			mni_sub_undefer(sub, NULL);
		else
			ret = -ENOENT;
	} else if (mni_itree_is_invalidating(it)) {
		/* Callbacks may be running on it: the epoch's end removes it. */
		hlist_add_head(&sub->deferred_item, &it->deferred);
		*epoch = it->epoch;
		ret = 1;
	} else {
		mni_it_remove(&sub->interval_tree, &it->root);
		RB_CLEAR_NODE(&sub->interval_tree.rb);
		mni_sub_set_engine(sub, NULL);
	}
	spin_unlock(&it->lock);

	if (ret >= 0)
		trace_mni_remove(it->id, sub, ret);
	if (ret > 0)
		this_cpu_inc(it->stats->deferred);
	return ret;
}

/**
 * mni_itree_epoch_ended - has the epoch opened at @epoch ended?
 * @it: the engine
 * @epoch: an mni_itree.epoch value read under the lock while it was open
 *
 * Decided under the lock, so once a waiter sees true the end side has
 * finished with the deferred list and the subscriptions on it.
 */
bool mni_itree_epoch_ended(struct mni_itree *it, unsigned long epoch)
{
	bool ended;

	spin_lock(&it->lock);
	ended = !mni_itree_is_invalidating(it) || it->epoch != epoch;
	spin_unlock(&it->lock);
	return ended;
}

/* read_begin()'s sleep, timed for the statistics and the trace. */
static void mni_itree_wait_epoch(struct mni_itree *it,
				 struct mmu_interval_notifier *sub,
				 unsigned long epoch)
{
	u64 start = ktime_get_ns();
	struct mni_stats *stats;
	u64 slept;

	wait_event(it->wq, mni_itree_epoch_ended(it, epoch));
	slept = ktime_get_ns() - start;

	stats = get_cpu_ptr(it->stats);
	stats->waits++;
	stats->wait_ns += slept;
	stats->wait_max_ns = max(stats->wait_max_ns, slept);
	put_cpu_ptr(it->stats);
	trace_mni_read_begin_wait(it->id, sub, slept);
}

/**
 * mni_itree_read_begin - start a read side critical section for @sub
 * @it: the engine of @sub's mm
 * @sub: a subscription of this engine
 *
 * Return: the sequence to pass to mmu_interval_read_retry().
 */
unsigned long mni_itree_read_begin(struct mni_itree *it,
				   struct mmu_interval_notifier *sub)
{
	unsigned long seq, epoch;
	bool wait;

	spin_lock(&it->lock);
	/* Pairs with WRITE_ONCE() in mmu_interval_set_seq(), run unlocked. */
	seq = READ_ONCE(sub->invalidate_seq);
	wait = mni_itree_seq_in_epoch(it, seq);
	epoch = it->epoch;
	spin_unlock(&it->lock);

	lock_map_acquire(&mni_invalidate_map);
	lock_map_release(&mni_invalidate_map);
	if (wait)
		mni_itree_wait_epoch(it, sub, epoch);
	/*
	 * read_retry() may already be true here. Not looping lets the caller
	 * bound its own fault time.
	 */
	return seq;
}

static struct mmu_interval_notifier *
mni_itree_first(struct mni_itree *it, const struct mmu_notifier_range *range,
		unsigned long *cur_seq)
{
	struct interval_tree_node *node = NULL;
	unsigned long active, seq;

	spin_lock(&it->lock);
	active = ++it->active;
	if (range->end > range->start)
		node = mni_it_iter_first(&it->root, range->start,
					 range->end - 1);
	if (node)
		*cur_seq = mni_itree_next_seq(it);
	seq = it->seq;
	spin_unlock(&it->lock);

	this_cpu_inc(it->stats->invalidations);
	trace_mni_invalidate_start(it->id, range, active, seq);
	return node ? container_of(node, struct mmu_interval_notifier,
				   interval_tree) : NULL;
}

/* Unlocked: the odd sequence this pass took keeps the tree frozen. */
static struct mmu_interval_notifier *
mni_itree_next(struct mmu_interval_notifier *sub,
	       const struct mmu_notifier_range *range)
{
	struct interval_tree_node *node;

	node = mni_it_iter_next(&sub->interval_tree, range->start,
				range->end - 1);
	return node ? container_of(node, struct mmu_interval_notifier,
				   interval_tree) : NULL;
}

/**
 * mni_itree_invalidate_start - call every subscription @range overlaps
 * @it: the engine of @range->mm
 * @range: the range the core is about to change
 *
 * Counts the invalidation as active whatever the outcome: the caller pairs
 * every call with one mni_itree_invalidate_end(), also on failure.
 *
 * Return: 0, or -EAGAIN when a callback refused in non-blockable context;
 * the subscriptions after it were not called.
 */
int mni_itree_invalidate_start(struct mni_itree *it,
			       const struct mmu_notifier_range *range)
{
	const bool blockable = mmu_notifier_range_blockable(range);
	struct mmu_interval_notifier *sub;
	unsigned long cur_seq = 0, calls = 0;
	LLIST_HEAD(finishes);
	int ret = 0;
	bool done;

	lock_map_acquire(&mni_invalidate_map);
	for (sub = mni_itree_first(it, range, &cur_seq); sub;
	     sub = mni_itree_next(sub, range)) {
		calls++;
		done = mni_sub_invalidate(sub, range, cur_seq, &finishes);
		trace_mni_callback(it->id, sub, done);
		if (done)
			continue;
		if (!blockable) {
			this_cpu_inc(it->stats->refused);
			ret = -EAGAIN;
			break;
		}
		pr_err_ratelimited("mni: %ps returned false in blockable context, ignored\n",
				   sub->ops);
	}
	/* Second passes of two-pass ops: after the whole pass, even a refused one. */
	mni_sub_finish_pass(&finishes);
	lock_map_release(&mni_invalidate_map);
	if (calls)
		this_cpu_add(it->stats->callbacks, calls);
	return ret;
}

/**
 * mni_itree_invalidate_end - one invalidation counted by _start() ended
 * @it: the engine
 *
 * An end whose start was never counted (it began before this engine was
 * registered) finds @active at zero and is ignored.
 */
void mni_itree_invalidate_end(struct mni_itree *it)
{
	unsigned long active, seq;
	bool ended = false;

	spin_lock(&it->lock);
	if (it->active && !--it->active && mni_itree_is_invalidating(it)) {
		mni_itree_end_epoch(it);
		ended = true;
	}
	active = it->active;
	seq = it->seq;
	spin_unlock(&it->lock);
	/* Waiters re-check under the lock: see mni_itree_epoch_ended(). */
	if (ended)
		wake_up_all(&it->wq);
	trace_mni_invalidate_end(it->id, active, seq);
}

/**
 * mni_itree_release - tell every subscription that the mm is going away
 * @it: the engine
 * @mm: the mm, for the range handed to the callbacks
 *
 * A full, blockable MMU_NOTIFY_RELEASE pass, counted like any invalidation.
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

	mni_itree_invalidate_start(it, &range);
	mni_itree_invalidate_end(it);
}

/**
 * mni_itree_quiesce - forget invalidations whose end will never come
 * @it: the engine
 *
 * Only for when no invalidation can be inside or enter this engine any
 * more (its notifiers are unhooked and a grace period has passed): an end
 * the core skipped because it unhooked us mid-invalidation (mm exit)
 * would otherwise leave the epoch open for ever.
 */
void mni_itree_quiesce(struct mni_itree *it)
{
	bool ended = false;

	spin_lock(&it->lock);
	it->active = 0;
	if (mni_itree_is_invalidating(it)) {
		mni_itree_end_epoch(it);
		ended = true;
	}
	spin_unlock(&it->lock);
	if (ended)
		wake_up_all(&it->wq);
}

/**
 * mni_itree_inspect - snapshot the engine for debugfs
 * @it: the engine
 * @info: filled with the engine's counters
 * @visit: if not NULL, called under the engine's lock (so it must not
 *	sleep) for each subscription: those in the tree in address order,
 *	then pending inserts
 * @arg: passed to @visit
 */
void mni_itree_inspect(struct mni_itree *it, struct mni_itree_info *info,
		       mni_itree_visit_t visit, void *arg)
{
	struct mmu_interval_notifier *sub;
	struct interval_tree_node *node;
	enum mni_sub_state state;

	spin_lock(&it->lock);
	info->seq = it->seq;
	info->active = it->active;
	info->deferred = 0;
	hlist_for_each_entry(sub, &it->deferred, deferred_item)
		info->deferred++;

	for (node = mni_it_iter_first(&it->root, 0, ULONG_MAX);
	     visit && node; node = mni_it_iter_next(node, 0, ULONG_MAX)) {
		sub = container_of(node, struct mmu_interval_notifier,
				   interval_tree);
		if (!hlist_unhashed(&sub->deferred_item))
			state = MNI_SUB_PENDING_REMOVE;
		/* Pairs with WRITE_ONCE() in mmu_interval_set_seq(). */
		else if (mni_itree_seq_in_epoch(it, READ_ONCE(sub->invalidate_seq)))
			state = MNI_SUB_INVALIDATED;
		else
			state = MNI_SUB_IDLE;
		visit(arg, sub, state);
	}
	hlist_for_each_entry(sub, &it->deferred, deferred_item)
		if (visit && RB_EMPTY_NODE(&sub->interval_tree.rb))
			visit(arg, sub, MNI_SUB_PENDING_INSERT);
	spin_unlock(&it->lock);
}
