// SPDX-License-Identifier: GPL-2.0
/*
 * mni_itree.c - the tree of one mm and its subscriptions
 *
 * The engine's files: this one (the tree: init, insert, remove, set_owner,
 * move), mni_walk.c (one invalidation), mni_read.c (read_begin and the
 * sleeps), mni_put.c (put and its release), mni_update.c (a subscription
 * moving); mni_internal.h holds what two of them share.
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
 * PTEs and see no new sequence. read_begin() closes it by waiting until no
 * invalidation that overlaps the subscription is between its start and its
 * end, and sampling the sequence in the same critical section.
 *
 * Records, not epochs
 * -------------------
 * Every invalidation the start notifier sees becomes a struct mni_inval on
 * @inflight, found again by its end through the range pointer the core
 * hands to both. So:
 *   - read_begin(sub) waits only for the records that overlap sub, and
 *     returns when the last of them ends, whatever else is in flight;
 *   - an end without a record (its start came before registration, was
 *     refused and dropped its record, or was never seen because the start
 *     notifier was already unhooked) changes nothing;
 *   - each record takes a fresh odd @seq and hands it to its callbacks, so
 *     two invalidations of one subscription are two collisions, whichever
 *     ends first, and read_begin() waits for both.
 *
 * Why a read can trust the sequence it samples: read_begin() samples under
 * the lock at an instant when no overlapping record exists. Every
 * invalidation that changes those PTEs later creates its record after
 * that instant, with a @seq above every value handed out before, and calls
 * the subscription (it is in the tree, stamped earlier) before its end: the
 * callback's set_seq() then differs from the sampled value. An invalidation
 * refused in non-blockable context changes no PTE.
 *
 * The tree is never frozen
 * ------------------------
 * A walker collects up to MNI_WALK_BATCH subscriptions under the lock (a
 * round), then calls them with the lock dropped, so one round of the lock
 * serves many callbacks. Its record keeps the node the next round starts
 * from (@next); an unlink of that node moves it on to its successor, so
 * changes to the tree meanwhile are fine. Inserts go straight into the
 * tree, stamped with the current @seq: a record with a @seq not above the
 * stamp began before the insert and skips the new node, whose read_begin()
 * waits for that record instead.
 *
 * remove() unlinks at once unless a walk still holds the subscription: it
 * is in the walk's round at or after the walker's progress (@pos), so its
 * callback runs or is still to come. Then remove() marks it dying (a
 * walker that has not reached it skips it) and waits for that round to
 * end: at most MNI_WALK_BATCH callbacks of an invalidation that overlaps
 * the subscription, never for other ranges. A remove() made from one of
 * the walk's own callbacks drops a later slot from the round instead, and
 * does not wait.
 */
#include <linux/bug.h>
#include <linux/printk.h>
#include <linux/slab.h>

#include "mni_internal.h"

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

/* The template's insert, with the total order above. */
static void mni_it_link(struct interval_tree_node *node,
			struct rb_root_cached *root)
{
	struct rb_node **link = &root->rb_root.rb_node, *parent_rb = NULL;
	struct interval_tree_node *parent;
	bool leftmost = true;

	while (*link) {
		parent_rb = *link;
		parent = rb_entry(parent_rb, struct interval_tree_node, rb);
		if (parent->__subtree_last < node->last)
			parent->__subtree_last = node->last;
		if (mni_node_before(node, parent)) {
			link = &parent->rb.rb_left;
		} else {
			link = &parent->rb.rb_right;
			leftmost = false;
		}
	}
	node->__subtree_last = node->last;
	rb_link_node(&node->rb, parent_rb, link);
	rb_insert_augmented_cached(&node->rb, root, leftmost, &mni_it_augment);
}

/**
 * mni_itree_init - set up an empty engine
 * @it: the engine
 * @id: its name in traces and debugfs
 *
 * Context: may sleep.
 * Return: 0, or -ENOMEM when the spare records cannot be allocated.
 */
int mni_itree_init(struct mni_itree *it, unsigned long id)
{
	struct mni_inval *inv;
	int i;

	raw_spin_lock_init(&it->lock);
	it->root = RB_ROOT_CACHED;
	it->seq = MNI_SEQ_FIRST;
	INIT_HLIST_HEAD(&it->inflight);
	it->nr_inflight = 0;
	INIT_HLIST_HEAD(&it->spare);
	it->nr_spare = 0;
	it->dead = false;
	it->released = false;
	it->nr_overflow = 0;
	for (i = 0; i < MNI_OVERFLOW_SLOTS; i++)
		it->overflow[i] = NULL;
	it->busy = 0;
	INIT_HLIST_HEAD(&it->readers);
	it->nr_put_pending = 0;
	it->owed_spare = NULL;
	it->nr_subs = 0;
	it->nr_holds = 0;
	init_swait_queue_head(&it->wq);
	it->stats = (struct mni_stats){};
	it->id = id;

	for (i = 0; i < MNI_SPARE_MIN; i++) {
		inv = kmalloc(sizeof(*inv), GFP_KERNEL);
		if (!inv)
			goto err_destroy;
		hlist_add_head(&inv->link, &it->spare);
		it->nr_spare++;
	}
	return 0;

err_destroy:
	mni_itree_destroy(it);
	return -ENOMEM;
}

/**
 * mni_itree_destroy - free the records of an engine nothing can enter
 * @it: the engine
 *
 * Also frees the records of invalidations whose end never came: the core
 * unhooks the notifiers at exit, possibly between a start and its end.
 * Context: any; no notifier of this engine can be called any more, and no
 * subscription or hold is left: each was removed, or forgotten by
 * mni_itree_abandon().
 */
void mni_itree_destroy(struct mni_itree *it)
{
	struct mni_inval *inv;
	struct hlist_node *next;
	struct mni_owed *o;

	WARN_ON_ONCE(it->nr_subs || it->nr_holds);
	hlist_for_each_entry_safe(inv, next, &it->inflight, link) {
		while ((o = inv->owed)) {
			inv->owed = o->next;
			kfree(o);
		}
		kfree(inv);
	}
	hlist_for_each_entry_safe(inv, next, &it->spare, link)
		kfree(inv);
	while ((o = it->owed_spare)) {
		it->owed_spare = o->next;
		kfree(o);
	}
	INIT_HLIST_HEAD(&it->inflight);
	INIT_HLIST_HEAD(&it->spare);
	it->nr_spare = 0;
	it->nr_inflight = 0;
}

/* Is anything using the engine (see mni_itree.nr_subs)? Lock held. */
static bool mni_itree_used(const struct mni_itree *it)
{
	return it->nr_subs || it->nr_holds;
}

static void mni_itree_link(struct mni_itree *it,
			   struct mmu_interval_notifier *sub)
{
	mni_sub_set_stamp(sub, it->seq);
	/*
	 * Odd, like every cur_seq, and handed to no invalidation that can
	 * call @sub. Pairs with READ_ONCE() in mmu_interval_check_retry(),
	 * which may run under no lock of ours; mmu_interval_read_retry() is
	 * a plain read, of a sequence only a read_begin() after this insert
	 * can have handed out.
	 */
	WRITE_ONCE(sub->invalidate_seq, it->seq);
	mni_it_link(&sub->interval_tree, &it->root);
	it->nr_subs++;
}

/**
 * mni_itree_insert - add a subscription
 * @it: the engine of the subscription's mm
 * @sub: subscription with interval_tree.start/last, ops and mm set
 *
 * Never waits. Invalidations already in flight do not call @sub; its
 * read_begin() waits for the ones that overlap it. Every invalidation that
 * starts after this returns calls it.
 *
 * Return: true if the engine was unused before: the caller's user
 * reference becomes the shared one; false: the caller drops its own.
 */
bool mni_itree_insert(struct mni_itree *it, struct mmu_interval_notifier *sub)
{
	unsigned long flags;
	bool first;

	raw_spin_lock_irqsave(&it->lock, flags);
	first = !mni_itree_used(it);
	mni_itree_link(it, sub);
	/* Under the lock: a walk may put and release @sub once it is dropped. */
	trace_mni_insert(it->id, sub, 0);
	raw_spin_unlock_irqrestore(&it->lock, flags);
	return first;
}

/**
 * mni_itree_insert_used - add a subscription to an engine in use
 * @it: the engine of the subscription's mm
 * @sub: as for mni_itree_insert()
 *
 * As mni_itree_insert(), for a caller without a user reference: the
 * shared one covers @sub, if there is one.
 *
 * Return: true if @sub was added; false if the engine is unused (then
 * its entry may be on its way out): take a user reference and use
 * mni_itree_insert().
 */
bool mni_itree_insert_used(struct mni_itree *it,
			   struct mmu_interval_notifier *sub)
{
	unsigned long flags;
	bool used;

	raw_spin_lock_irqsave(&it->lock, flags);
	used = mni_itree_used(it);
	if (used) {
		mni_itree_link(it, sub);
		/* Under the lock, as in mni_itree_insert(). */
		trace_mni_insert(it->id, sub, 0);
	}
	raw_spin_unlock_irqrestore(&it->lock, flags);
	return used;
}

/**
 * mni_itree_hold - keep the engine in use without a subscription
 * @it: the engine
 *
 * Return: as mni_itree_insert(): true if the caller's user reference
 * becomes the shared one.
 */
bool mni_itree_hold(struct mni_itree *it)
{
	unsigned long flags;
	bool first;

	raw_spin_lock_irqsave(&it->lock, flags);
	first = !mni_itree_used(it);
	it->nr_holds++;
	raw_spin_unlock_irqrestore(&it->lock, flags);
	return first;
}

/**
 * mni_itree_unhold - drop a hold mni_itree_hold() took
 * @it: the engine
 *
 * Return: -ENOENT if the engine has no hold; 1 if it was its last user, so
 * the caller drops the shared user reference; 0 otherwise.
 */
int mni_itree_unhold(struct mni_itree *it)
{
	unsigned long flags;
	int ret = -ENOENT;

	raw_spin_lock_irqsave(&it->lock, flags);
	if (it->nr_holds) {
		it->nr_holds--;
		ret = !mni_itree_used(it);
	}
	raw_spin_unlock_irqrestore(&it->lock, flags);
	return ret;
}

/**
 * mni_itree_remove_annotate - tell lockdep a remove() may wait for callbacks
 *
 * As the core annotates its own wait: lockdep then sees a caller that
 * holds a lock a callback takes. Not from inside a pass, which holds
 * mni_invalidate_map already: a second acquire would be reported as
 * recursion, and a remove() there never waits for that pass.
 * Context: before mni_itree_remove_begin(), outside any RCU section.
 */
void mni_itree_remove_annotate(void)
{
#ifdef CONFIG_LOCKDEP
	if (lock_is_held(&mni_invalidate_map))
		return;
#endif
	lock_map_acquire(&mni_invalidate_map);
	lock_map_release(&mni_invalidate_map);
}

/**
 * mni_itree_remove_begin - take a subscription out, or start doing so
 * @it: the engine of the subscription's mm
 * @sub: the subscription; need not be one of ours
 * @last: set when @sub is gone and was the engine's last user (see
 *	mni_itree_unlink())
 *
 * Called from inside an invalidation pass (one of its callbacks or second
 * passes), it never waits for that pass: a later slot of the round is
 * dropped, and the running callback's own subscription is let go at once
 * (the walker touches it no more). A second pass that pass still owes
 * @sub makes this return 1: mni_itree_remove_wait() runs it, and waits for
 * other passes as usual.
 *
 * Context: any; does not sleep.
 * Return: -ENOENT if @sub is not in this engine or a remove of it has
 * begun already; 0 if it is gone; 1 if a callback is still running on it:
 * no new one will start, and the caller must mni_itree_remove_wait().
 */
int mni_itree_remove_begin(struct mni_itree *it,
			   struct mmu_interval_notifier *sub, bool *last)
{
	unsigned long flags;
	bool wake = false;
	int ret = 0;

	*last = false;
	raw_spin_lock_irqsave(&it->lock, flags);
	if (!mni_itree_contains(it, sub) || mni_sub_is_dying(sub)) {
		ret = -ENOENT;
		goto out;
	}
	if (!mni_itree_in_flight(it))
		goto unlink;
	if (mni_itree_sub_busy(it, sub, false) ||
	    mni_itree_own_finish_take(it, sub, NULL)) {
		mni_sub_set_stamp(sub, MNI_STAMP_DYING);
		it->stats.remove_waits++;
		ret = 1;
		goto out;
	}
unlink:
	*last = mni_itree_unlink(it, sub);
	/* A read_begin() asleep on @sub returns now (unlink told it). */
	wake = !hlist_empty(&it->readers);
out:
	/* Under the lock, as in mni_itree_put(). */
	if (ret >= 0)
		trace_mni_remove(it->id, sub, ret);
	raw_spin_unlock_irqrestore(&it->lock, flags);
	if (wake)
		mni_itree_wake_any(it);
	return ret;
}

/*
 * Has @inv's walk called @sub, or does it still owe it a call, whatever
 * owners say from now on? Lock held. A subscription stamped before @inv
 * began has not moved since, so its place tells: the walk collects in tree
 * order, from @next on (all of the tree is behind it once @next is NULL);
 * an update's queued call (@owed) comes whatever the owner. One stamped
 * since (an update) may have been called at its old place.
 */
static bool mni_inval_reached(const struct mni_inval *inv,
			      const struct mmu_interval_notifier *sub)
{
	const struct mni_owed *o;

	if (mni_sub_stamp(sub) >= inv->seq || !inv->next ||
	    mni_node_before(&sub->interval_tree, inv->next))
		return true;
	for (o = inv->owed; o; o = o->next)
		if (o->sub == sub)
			return true;
	return false;
}

/*
 * @sub's owner becomes @owner: a walk in flight that names @owner decided
 * to call @sub when its owner was another, if it reached @sub already, and
 * read_begin() must not leave such a record out (mni_inval_skips_read()).
 * Lock held.
 */
static void mni_itree_owner_stale(struct mni_itree *it,
				  const struct mmu_interval_notifier *sub,
				  void *owner)
{
	struct mni_inval *inv;

	hlist_for_each_entry(inv, &it->inflight, link)
		if (inv->owner == owner && mni_inval_overlaps(inv, sub) &&
		    mni_inval_reached(inv, sub))
			inv->owner_stale = true;
}

/**
 * mni_itree_set_owner - name the owner whose migrations skip a subscription
 * @it: the engine of the subscription's mm
 * @sub: the subscription; need not be one of ours
 * @owner: compared with range->owner of MMU_NOTIFY_MIGRATE and
 *	MMU_NOTIFY_EXCLUSIVE invalidations; NULL: none
 *
 * Invalidations that start after this and name @owner do not call @sub,
 * and its read_begin() does not wait for them. One in flight that names
 * @owner skips @sub from here if its walk has not reached @sub yet, and
 * read_begin() then stops waiting for it (sleepers are woken); if its walk
 * has, read_begin() keeps waiting for it to end (mni_itree_owner_stale()).
 * Context: any but NMI; does not sleep.
 * Return: 0, or -ENOENT if @sub is not in this engine or is going.
 */
int mni_itree_set_owner(struct mni_itree *it, struct mmu_interval_notifier *sub,
			void *owner)
{
	unsigned long flags;
	int ret = 0;

	raw_spin_lock_irqsave(&it->lock, flags);
	if (!mni_itree_contains(it, sub) || mni_sub_is_dying(sub)) {
		ret = -ENOENT;
	} else {
		if (owner && owner != mni_sub_owner(sub))
			mni_itree_owner_stale(it, sub, owner);
		mni_sub_set_owner(sub, owner);
	}
	raw_spin_unlock_irqrestore(&it->lock, flags);
	if (!ret)
		mni_itree_wake_any(it);
	return ret;
}

/*
 * The new range of a subscription that moves; lock held. A walk's trace of
 * its callback reads them without the lock: WRITE_ONCE(), paired with
 * READ_ONCE() in the mni_sub_class trace record (mni_trace.h).
 */
static void mni_sub_set_range(struct mmu_interval_notifier *sub,
			      unsigned long start, unsigned long last)
{
	WRITE_ONCE(sub->interval_tree.start, start);
	WRITE_ONCE(sub->interval_tree.last, last);
}

/*
 * Does [@start, ...] keep @sub's place in tree order, between the nodes
 * before and after it? Then a move is a change of key in place. Lock held.
 */
static bool mni_itree_keeps_place(struct mmu_interval_notifier *sub,
				  unsigned long start)
{
	struct interval_tree_node *node = &sub->interval_tree;
	struct rb_node *prev = rb_prev(&node->rb), *next = rb_next(&node->rb);
	struct interval_tree_node *p, *n;

	p = prev ? rb_entry(prev, struct interval_tree_node, rb) : NULL;
	n = next ? rb_entry(next, struct interval_tree_node, rb) : NULL;
	/* Compared at @node's address: the order's tie-break. */
	return (!p || p->start < start ||
		(p->start == start && (unsigned long)p < (unsigned long)node)) &&
	       (!n || start < n->start ||
		(start == n->start && (unsigned long)node < (unsigned long)n));
}

/**
 * mni_itree_move_locked - move a subscription to another range in the tree
 * @it: the engine
 * @sub: a subscription in @it's tree
 * @start: first address of the new range
 * @last: last address of the new range (closed interval)
 *
 * Context: @it->lock held.
 */
void mni_itree_move_locked(struct mni_itree *it,
			   struct mmu_interval_notifier *sub,
			   unsigned long start, unsigned long last)
{
	lockdep_assert_held(&it->lock);
	if (mni_itree_keeps_place(sub, start)) {
		/* Same place: the subtree maxima above it are all that change. */
		mni_sub_set_range(sub, start, last);
		mni_it_augment.propagate(&sub->interval_tree.rb, NULL);
	} else {
		mni_itree_take_out(it, sub);
		mni_sub_set_range(sub, start, last);
		mni_it_link(&sub->interval_tree, &it->root);
	}
}

/**
 * mni_itree_add_stats - add the engine's counters into @sum
 * @it: the engine
 * @sum: the total
 *
 * Callbacks of invalidations still in flight count too: their records
 * hold them until the end adds them to @it->stats.
 */
void mni_itree_add_stats(struct mni_itree *it, struct mni_stats *sum)
{
	unsigned long flags;
	struct mni_inval *inv;

	raw_spin_lock_irqsave(&it->lock, flags);
	mni_stats_add(sum, &it->stats);
	/* Pairs with WRITE_ONCE() in mni_itree_call_batch(). */
	hlist_for_each_entry(inv, &it->inflight, link)
		sum->callbacks += READ_ONCE(inv->called);
	raw_spin_unlock_irqrestore(&it->lock, flags);
}

/**
 * mni_itree_inspect - snapshot the engine for debugfs
 * @it: the engine
 * @info: filled with the engine's counters
 * @visit: if not NULL, called under the engine's lock (so it must not
 *	sleep) for each subscription, in address order
 * @arg: passed to @visit
 */
void mni_itree_inspect(struct mni_itree *it, struct mni_itree_info *info,
		       mni_itree_visit_t visit, void *arg)
{
	unsigned long flags;
	struct mmu_interval_notifier *sub;
	struct interval_tree_node *node;
	enum mni_sub_state state;

	raw_spin_lock_irqsave(&it->lock, flags);
	info->seq = it->seq;
	info->in_flight = it->nr_inflight + it->nr_overflow;
	info->dead = it->dead;
	info->subscriptions = it->nr_subs;
	info->holds = it->nr_holds;
	for (node = mni_it_iter_first(&it->root, 0, ULONG_MAX);
	     visit && node; node = mni_it_iter_next(node, 0, ULONG_MAX)) {
		sub = mni_sub_of(node);
		if (mni_sub_is_dying(sub))
			state = MNI_SUB_REMOVING;
		else if (mni_itree_overlap_in_flight(it, sub))
			state = MNI_SUB_INVALIDATING;
		else
			state = MNI_SUB_IDLE;
		visit(arg, sub, state);
	}
	raw_spin_unlock_irqrestore(&it->lock, flags);
}

/**
 * mni_itree_abandon - forget the subscriptions and holds whose owner is gone
 * @it: the engine, whose notifiers are handed back
 * @info: filled with what was forgotten, as by mni_itree_inspect()
 *
 * For module exit, when a consumer unloaded without removing: the memory
 * of its subscriptions may be gone, so none is read. The tree is emptied
 * and the counts cleared without a walk; mni_itree_destroy() then finds
 * nothing left. A walk still running could only be calling a forgotten
 * subscription, whose code left with its owner.
 */
void mni_itree_abandon(struct mni_itree *it, struct mni_itree_info *info)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&it->lock, flags);
	info->seq = it->seq;
	info->in_flight = it->nr_inflight;
	info->dead = it->dead;
	info->subscriptions = it->nr_subs;
	info->holds = it->nr_holds;
	it->root = RB_ROOT_CACHED;
	it->nr_subs = 0;
	it->nr_holds = 0;
	raw_spin_unlock_irqrestore(&it->lock, flags);
}
