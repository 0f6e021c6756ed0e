// SPDX-License-Identifier: GPL-2.0
/*
 * mni_itree.c - interval tree, in-flight records and the read side
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
#include <linux/interval_tree_generic.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "mni_itree.h"
#include "mni_trace.h"

#define MNI_IT_START(node) ((node)->start)
#define MNI_IT_LAST(node) ((node)->last)

/* Insertion is ours (mni_it_link()): the template's is unused. */
INTERVAL_TREE_DEFINE(struct interval_tree_node, rb, unsigned long,
		     __subtree_last, MNI_IT_START, MNI_IT_LAST,
		     static __maybe_unused, mni_it)

/* Records kept at registration, and kept free for non-blockable passes. */
#define MNI_SPARE_MIN		2
#define MNI_SPARE_RESERVE	1
/* Blockable ends free records above this many spares. */
#define MNI_SPARE_MAX		8

/* The stamp of a subscription remove() has begun on: no record calls it. */
#define MNI_STAMP_DYING		ULONG_MAX

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

static struct mmu_interval_notifier *mni_sub_of(struct interval_tree_node *node)
{
	return node ? container_of(node, struct mmu_interval_notifier,
				   interval_tree) : NULL;
}

/*
 * A subscription's deferred_item is unused by this engine's lists, so it
 * carries the subscription's stamp: .next holds mni_itree.seq as it was at
 * insert (or MNI_STAMP_DYING); .pprev holds its owner while it lives
 * (mni_itree_set_owner(), NULL by default), the release of a put one
 * (mni_sub_set_put()), NULL for one a remove() began on. Only for
 * subscriptions in our tree, and only under the engine lock (but for the
 * walker's early look at the stamp): never read from a stranger, whose
 * deferred_item the kernel's engine may leave uninitialised.
 */
static unsigned long mni_sub_stamp(const struct mmu_interval_notifier *sub)
{
	/*
	 * Pairs with WRITE_ONCE() in mni_sub_set_stamp(): a walker reads it
	 * without the lock, only to skip a dying subscription early.
	 */
	return (unsigned long)READ_ONCE(sub->deferred_item.next);
}

/* A new stamp for a subscription that stays in the tree: owner kept. */
static void mni_sub_restamp(struct mmu_interval_notifier *sub,
			    unsigned long stamp)
{
	/* Pairs with READ_ONCE() in mni_sub_stamp(). */
	WRITE_ONCE(sub->deferred_item.next, (struct hlist_node *)stamp);
}

static void mni_sub_set_stamp(struct mmu_interval_notifier *sub,
			      unsigned long stamp)
{
	mni_sub_restamp(sub, stamp);
	sub->deferred_item.pprev = NULL;
}

static bool mni_sub_is_dying(const struct mmu_interval_notifier *sub)
{
	return mni_sub_stamp(sub) == MNI_STAMP_DYING;
}

/*
 * A put subscription (mni_itree_put()) is dying, and keeps the release its
 * last holder calls in .pprev; a removed one has none there. Lock held.
 */
static void mni_sub_set_put(struct mmu_interval_notifier *sub,
			    mni_release_t release)
{
	mni_sub_set_stamp(sub, MNI_STAMP_DYING);
	sub->deferred_item.pprev = (struct hlist_node **)release;
}

static mni_release_t mni_sub_put_release(const struct mmu_interval_notifier *sub)
{
	if (!mni_sub_is_dying(sub))
		return NULL;
	return (mni_release_t)sub->deferred_item.pprev;
}

static void *mni_sub_owner(const struct mmu_interval_notifier *sub)
{
	return mni_sub_is_dying(sub) ? NULL : sub->deferred_item.pprev;
}

/* Tree order: by start, then by address, so every node has one place. */
static bool mni_node_before(const struct interval_tree_node *a,
			    const struct interval_tree_node *b)
{
	return a->start < b->start ||
	       (a->start == b->start && (unsigned long)a < (unsigned long)b);
}

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

/*
 * Is @sub in this tree? Found by its key alone, so a stranger (inserted by
 * the kernel's engine, or never inserted) is only compared, never written,
 * and none of its fields but interval_tree.start is read.
 */
static bool mni_itree_contains(struct mni_itree *it,
			       const struct mmu_interval_notifier *sub)
{
	const struct interval_tree_node *want = &sub->interval_tree;
	struct rb_node *rb = it->root.rb_root.rb_node;
	struct interval_tree_node *node;

	lockdep_assert_held(&it->lock);
	while (rb) {
		node = rb_entry(rb, struct interval_tree_node, rb);
		if (node == want)
			return true;
		rb = mni_node_before(want, node) ? rb->rb_left : rb->rb_right;
	}
	return false;
}

/* An entry of a walk's @owed back to the spares; lock held. */
static void mni_owed_put_locked(struct mni_itree *it, struct mni_owed *o)
{
	o->next = it->owed_spare;
	it->owed_spare = o;
}

/*
 * Take @sub's node out of the tree, to be linked again or not; lock held.
 * Always inlined, as is mni_itree_unlink(): both are on every remove, where
 * two calls fewer took 57 ns off an insert + remove of 537 ns under QEMU
 * TCG (results/bench.md, figure 4).
 */
static __always_inline void
mni_itree_take_out(struct mni_itree *it, struct mmu_interval_notifier *sub)
{
	struct mni_inval *inv;

	lockdep_assert_held(&it->lock);
	/* A walk's next round starts from a linked node: move it on. */
	hlist_for_each_entry(inv, &it->inflight, link)
		if (inv->next == &sub->interval_tree)
			inv->next = mni_it_iter_next(inv->next, inv->start,
						     inv->last);
	mni_it_remove(&sub->interval_tree, &it->root);
}

/*
 * Take @sub out for good; lock held. Return: true when it was the engine's
 * last user, so the caller must drop the shared user reference (see
 * mni_itree.nr_subs).
 */
static __always_inline bool
mni_itree_unlink(struct mni_itree *it, struct mmu_interval_notifier *sub)
{
	struct mni_owed **link, *o;
	struct mni_inval *inv;

	mni_itree_take_out(it, sub);
	/* No walk calls it any more: drop what updates queued for it. */
	hlist_for_each_entry(inv, &it->inflight, link) {
		for (link = &inv->owed; (o = *link);) {
			if (o->sub != sub) {
				link = &o->next;
				continue;
			}
			*link = o->next;
			mni_owed_put_locked(it, o);
		}
	}
	RB_CLEAR_NODE(&sub->interval_tree.rb);
	mni_sub_set_stamp(sub, 0);
	it->nr_subs--;
	return !it->nr_subs && !it->nr_holds;
}

/* An empty range ([x, x): last below start) overlaps nothing. */
static bool mni_inval_overlaps_range(const struct mni_inval *inv,
				     unsigned long start, unsigned long last)
{
	return inv->start <= inv->last && inv->start <= last &&
	       start <= inv->last;
}

static bool mni_inval_overlaps(const struct mni_inval *inv,
			       const struct mmu_interval_notifier *sub)
{
	return mni_inval_overlaps_range(inv, sub->interval_tree.start,
					sub->interval_tree.last);
}

/*
 * Does @inv leave @sub alone? A migration or exclusive access started by
 * @sub's own owner neither calls it nor collides with it. Lock held.
 */
static bool mni_inval_skips(const struct mni_inval *inv,
			    const struct mmu_interval_notifier *sub)
{
	return inv->owner && inv->owner == mni_sub_owner(sub);
}

/* Is an invalidation that overlaps @sub between its start and its end? */
static bool mni_itree_overlap_in_flight(struct mni_itree *it,
					const struct mmu_interval_notifier *sub)
{
	struct mni_inval *inv;

	lockdep_assert_held(&it->lock);
	hlist_for_each_entry(inv, &it->inflight, link) {
		if (mni_inval_skips(inv, sub))
			continue;
		if (mni_inval_overlaps(inv, sub))
			return true;
	}
	return false;
}

/*
 * A slot of a round whose subscription was put while the walk held it
 * carries this bit: the walk then holds the subscription until it looks at
 * the slot again, after the round (mni_itree_reap()), so the subscription
 * stays alive for that look, and the last walk to look releases it.
 */
#define MNI_SLOT_PUT	1UL

static struct mmu_interval_notifier *
mni_slot_sub(const struct mmu_interval_notifier *slot)
{
	return (struct mmu_interval_notifier *)((unsigned long)slot &
						~MNI_SLOT_PUT);
}

static bool mni_slot_is_put(const struct mmu_interval_notifier *slot)
{
	return (unsigned long)slot & MNI_SLOT_PUT;
}

/*
 * Does @inv's walk run @sub's callback, or still owe it one? Lock held.
 * @put: the caller puts @sub (or releases a put one): a holding walk's
 * slot is marked MNI_SLOT_PUT, so that walk looks at it after the round.
 *
 * A slot before @pos is done: the walker published @pos with a release
 * after that callback returned (and after it noted any finish the callback
 * asked for), and touches that subscription no more; the acquire here
 * orders our unlink and the caller's free after all of it. A slot at or
 * after @pos runs or is still to come. A marked slot holds until its walk
 * has looked at it.
 *
 * When the caller is the walker itself, it runs inside the callback of the
 * slot at @pos (a walk is on its stack only while it calls one): a later
 * slot is dropped from the round, so a callback may remove another
 * subscription of its own walk without waiting for itself.
 *
 * Slots change under the lock here while the walker reads them without
 * it: WRITE_ONCE(), paired with READ_ONCE() in mni_itree_call_batch().
 */
static bool mni_inval_holds(struct mni_inval *inv,
			    const struct mmu_interval_notifier *sub, bool put)
{
	struct mmu_interval_notifier *marked;
	unsigned int i;

	for (i = 0; i < inv->nr_batch; i++)
		if (mni_slot_sub(inv->batch[i]) == sub)
			break;
	if (i == inv->nr_batch)
		return false;
	if (mni_slot_is_put(inv->batch[i]))
		return true;
	marked = (struct mmu_interval_notifier *)((unsigned long)sub |
						  MNI_SLOT_PUT);
	if (inv->walker == current) {
		if (i > inv->pos) {
			WRITE_ONCE(inv->batch[i], NULL);
			return false;
		}
		if (i < inv->pos)
			return false;
		/* Its own callback: the walk finishes a put after it returns. */
		if (put)
			WRITE_ONCE(inv->batch[i], marked);
		WRITE_ONCE(inv->waiters, true);
		return true;
	}
	if (put)
		WRITE_ONCE(inv->batch[i], marked);
	/* Read by mni_itree_walk_end() and mni_itree_walk_next(). */
	WRITE_ONCE(inv->waiters, true);
	/*
	 * Pairs with smp_mb() in mni_itree_walk_end(): the walker, past its
	 * last callback, sees @waiters (and the mark) and looks, or we see
	 * its last @pos.
	 */
	smp_mb();
	/* Pairs with smp_store_release() in mni_itree_call_batch(). */
	if (i >= smp_load_acquire(&inv->pos))
		return true;
	if (put)
		WRITE_ONCE(inv->batch[i], (struct mmu_interval_notifier *)sub);
	return false;
}

/*
 * May @inv's pending second passes include one of @sub's? Not only when
 * @sub overlaps @inv's range: a subscription @inv may have called can
 * have moved since (mni_itree_update() widens @fin_start and @fin_last to
 * its new place). Lock held.
 */
static bool mni_inval_may_finish(const struct mni_inval *inv,
				 const struct mmu_interval_notifier *sub)
{
	return inv->fin_start <= inv->fin_last &&
	       inv->fin_start <= sub->interval_tree.last &&
	       sub->interval_tree.start <= inv->fin_last;
}

/*
 * Is any invalidation between its start and its end? Lock held. Spares the
 * hot paths the call to mni_itree_sub_busy() when none is.
 */
static bool mni_itree_in_flight(const struct mni_itree *it)
{
	return !hlist_empty(&it->inflight);
}

/*
 * Does a walk hold @sub (mni_inval_holds()), or owe it a second pass? Asks
 * every record, so that each walk holding @sub is told to look at it again
 * when it lets go (@waiters, and with @put the mark on its slot).
 */
static bool mni_itree_sub_busy(struct mni_itree *it,
			       const struct mmu_interval_notifier *sub, bool put)
{
	struct mni_inval *inv;
	bool busy = false;

	lockdep_assert_held(&it->lock);
	/*
	 * mni_inval_holds() first: its acquire of @pos makes a @finishing
	 * set before a callback's slot was passed visible here. A finish of
	 * a subscription that moved since is found by the widened range:
	 * stress's two-pass subscriptions, updated and then removed, were
	 * freed under a pending finish when only the walk's range was asked.
	 */
	hlist_for_each_entry(inv, &it->inflight, link)
		if (mni_inval_holds(inv, sub, put) ||
		    (READ_ONCE(inv->finishing) &&
		     mni_inval_may_finish(inv, sub)))
			busy = true;
	return busy;
}

/*
 * Wake read_begin() and remove() sleepers after a change they wait for.
 * The change was made under it->lock, and every sleeper queues itself
 * before it takes that lock to test its condition (mni_itree_wait()), so
 * a sleeper this check misses has not tested yet and will see the change:
 * the lock orders the two, no barrier is needed. A lost wake-up here hangs
 * tests/user's "remove waits only for the callback running on its sub"
 * and "read_wait sleeps until the last overlapping end" (mutation
 * lost-wake-up in tests/user/mutate.sh).
 */
static void mni_itree_wake(struct mni_itree *it)
{
	if (swait_active(&it->wq))
		swake_up_all(&it->wq);
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
	it->seq = 1;
	INIT_HLIST_HEAD(&it->inflight);
	it->nr_inflight = 0;
	INIT_HLIST_HEAD(&it->spare);
	it->nr_spare = 0;
	it->dead = false;
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
 * Context: any; no notifier of this engine can be called any more.
 */
void mni_itree_destroy(struct mni_itree *it)
{
	struct mni_inval *inv;
	struct hlist_node *next;
	struct mni_owed *o;

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
	 * call @sub. Pairs with READ_ONCE() in mmu_interval_read_retry().
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
	bool first;

	raw_spin_lock(&it->lock);
	first = !mni_itree_used(it);
	mni_itree_link(it, sub);
	raw_spin_unlock(&it->lock);

	trace_mni_insert(it->id, sub, 0);
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
	bool used;

	raw_spin_lock(&it->lock);
	used = mni_itree_used(it);
	if (used)
		mni_itree_link(it, sub);
	raw_spin_unlock(&it->lock);

	if (used)
		trace_mni_insert(it->id, sub, 0);
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
	bool first;

	raw_spin_lock(&it->lock);
	first = !mni_itree_used(it);
	it->nr_holds++;
	raw_spin_unlock(&it->lock);
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
	int ret = -ENOENT;

	raw_spin_lock(&it->lock);
	if (it->nr_holds) {
		it->nr_holds--;
		ret = !mni_itree_used(it);
	}
	raw_spin_unlock(&it->lock);
	return ret;
}

/**
 * mni_itree_remove_begin - take a subscription out, or start doing so
 * @it: the engine of the subscription's mm
 * @sub: the subscription; need not be one of ours
 * @last: set when @sub is gone and was the engine's last user (see
 *	mni_itree_unlink())
 *
 * Context: any; does not sleep.
 * Return: -ENOENT if @sub is not in this engine or a remove of it has
 * begun already; 0 if it is gone; 1 if a callback is still running on it:
 * no new one will start, and the caller must mni_itree_remove_wait().
 */
int mni_itree_remove_begin(struct mni_itree *it,
			   struct mmu_interval_notifier *sub, bool *last)
{
	int ret = 0;

	*last = false;
	raw_spin_lock(&it->lock);
	if (!mni_itree_contains(it, sub) || mni_sub_is_dying(sub)) {
		ret = -ENOENT;
	} else if (mni_itree_in_flight(it) && mni_itree_sub_busy(it, sub, false)) {
		mni_sub_set_stamp(sub, MNI_STAMP_DYING);
		it->stats.remove_waits++;
		ret = 1;
	} else {
		*last = mni_itree_unlink(it, sub);
	}
	raw_spin_unlock(&it->lock);

	if (ret >= 0)
		trace_mni_remove(it->id, sub, ret);
	return ret;
}

/**
 * mni_itree_put - take a subscription out without waiting
 * @it: the engine of the subscription's mm
 * @sub: the subscription; need not be one of ours
 * @release: called once no callback can run on @sub any more
 * @last: set when @sub is unlinked here and was the engine's last user
 *
 * If no walk holds @sub, it is unlinked and the caller must call
 * mni_itree_put_done() with @last. Otherwise it is marked dying, and the
 * walk that lets go of it last (each one holding it is told to look)
 * unlinks it and calls mni_itree_put_done(): after its round, at its end,
 * or after its second passes. May be called from @sub's own callback.
 * Context: any; does not sleep.
 * Return: 0 (unlinked: call mni_itree_put_done()), 1 (the engine will),
 * or -ENOENT if @sub is not in this engine or a remove or put of it has
 * begun already.
 */
int mni_itree_put(struct mni_itree *it, struct mmu_interval_notifier *sub,
		  mni_release_t release, bool *last)
{
	int ret = 0;

	*last = false;
	raw_spin_lock(&it->lock);
	if (!mni_itree_contains(it, sub) || mni_sub_is_dying(sub)) {
		ret = -ENOENT;
	} else if (mni_itree_in_flight(it) && mni_itree_sub_busy(it, sub, true)) {
		mni_sub_set_put(sub, release);
		it->nr_put_pending++;
		ret = 1;
	} else {
		*last = mni_itree_unlink(it, sub);
	}
	raw_spin_unlock(&it->lock);

	if (ret >= 0)
		trace_mni_remove(it->id, sub, ret);
	return ret;
}

/**
 * mni_itree_set_owner - name the owner whose migrations skip a subscription
 * @it: the engine of the subscription's mm
 * @sub: the subscription; need not be one of ours
 * @owner: compared with range->owner of MMU_NOTIFY_MIGRATE and
 *	MMU_NOTIFY_EXCLUSIVE invalidations; NULL: none
 *
 * Invalidations that start after this and name @owner do not call @sub,
 * and its read_begin() does not wait for them.
 * Context: any; does not sleep.
 * Return: 0, or -ENOENT if @sub is not in this engine or is going.
 */
int mni_itree_set_owner(struct mni_itree *it, struct mmu_interval_notifier *sub,
			void *owner)
{
	int ret = 0;

	raw_spin_lock(&it->lock);
	if (!mni_itree_contains(it, sub) || mni_sub_is_dying(sub))
		ret = -ENOENT;
	else
		sub->deferred_item.pprev = owner;
	raw_spin_unlock(&it->lock);
	return ret;
}

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
	struct mni_owed *o;

	while (n--) {
		o = kmalloc(sizeof(*o), GFP_NOWAIT | __GFP_NOWARN);
		if (!o)
			o = kmalloc(sizeof(*o), GFP_ATOMIC | __GFP_NOWARN);
		if (!o)
			return -ENOMEM;
		raw_spin_lock(&it->lock);
		mni_owed_put_locked(it, o);
		raw_spin_unlock(&it->lock);
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
 * Context: any but NMI (on PREEMPT_RT, one where kmalloc() may be
 * called); does not sleep.
 * Return: 0; -ENOENT if @sub is not in this engine or is going; -ENOMEM.
 */
int mni_itree_update(struct mni_itree *it, struct mmu_interval_notifier *sub,
		     unsigned long start, unsigned long last)
{
	unsigned int need, queued = 0;
	struct mni_inval *inv;
	struct mni_owed *o;
	int ret = 0;

	raw_spin_lock(&it->lock);
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
		raw_spin_unlock(&it->lock);
		ret = mni_owed_alloc(it, need);
		raw_spin_lock(&it->lock);
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
	if (mni_itree_keeps_place(sub, start)) {
		/* Same place: the subtree maxima above it are all that change. */
		sub->interval_tree.start = start;
		sub->interval_tree.last = last;
		mni_it_augment.propagate(&sub->interval_tree.rb, NULL);
	} else {
		mni_itree_take_out(it, sub);
		sub->interval_tree.start = start;
		sub->interval_tree.last = last;
		mni_it_link(&sub->interval_tree, &it->root);
	}
	/* Odd and fresh, like an insert's; walks in flight skip @sub now. */
	it->seq += 2;
	mni_sub_restamp(sub, it->seq);
	/* Pairs with READ_ONCE() in mmu_interval_read_retry(). */
	WRITE_ONCE(sub->invalidate_seq, it->seq);
out:
	raw_spin_unlock(&it->lock);
	if (!ret)
		trace_mni_update(it->id, sub, queued);
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
static void mni_itree_reap(struct mni_itree *it,
			   struct mmu_interval_notifier **subs, unsigned int n)
{
	struct mmu_interval_notifier *sub;
	mni_release_t release;
	bool last_user = false;
	unsigned int i;

	for (i = 0; i < n; i++) {
		raw_spin_lock(&it->lock);
		sub = subs[i];
		release = NULL;
		if (mni_slot_is_put(sub)) {
			sub = mni_slot_sub(sub);
			WRITE_ONCE(subs[i], sub);
			release = mni_itree_reap_locked(it, sub, &last_user);
		}
		raw_spin_unlock(&it->lock);
		if (release)
			mni_itree_put_done(it, sub, release, last_user);
	}
}

/*
 * A walk's second passes are over: release the put subscriptions over the
 * range it may hold second passes of (@fin_start, @fin_last) that only it
 * held. Rare, so a fresh search per release.
 */
static void mni_itree_reap_range(struct mni_itree *it, struct mni_inval *inv)
{
	struct mmu_interval_notifier *sub;
	struct interval_tree_node *node;
	unsigned long start, last;
	mni_release_t release;
	bool last_user = false;

	for (;;) {
		release = NULL;
		raw_spin_lock(&it->lock);
		/* Updates widen it under the lock (mni_itree_update()). */
		start = inv->fin_start;
		last = inv->fin_last;
		for (node = mni_it_iter_first(&it->root, start, last);
		     node && it->nr_put_pending && !release;
		     node = mni_it_iter_next(node, start, last)) {
			sub = mni_sub_of(node);
			release = mni_itree_reap_locked(it, sub, &last_user);
		}
		raw_spin_unlock(&it->lock);
		if (!release)
			return;
		mni_itree_put_done(it, sub, release, last_user);
	}
}

/*
 * Sleep until @done(it, arg), tested under the lock, is true. Queued on
 * @wq before each test, so a wake-up after the test is not lost (see
 * mni_itree_wake()).
 * Return: 0, -EINTR on a fatal signal (@killable), or -ETIMEDOUT once
 * @timeout jiffies have passed (MAX_SCHEDULE_TIMEOUT: never).
 */
static int mni_itree_wait(struct mni_itree *it,
			  bool (*done)(struct mni_itree *it, void *arg),
			  void *arg, bool killable, long timeout)
{
	DECLARE_SWAITQUEUE(wait);
	bool ok;
	int ret;

	for (;;) {
		ret = prepare_to_swait_event(&it->wq, &wait,
					     killable ? TASK_KILLABLE :
							TASK_UNINTERRUPTIBLE);
		raw_spin_lock(&it->lock);
		ok = done(it, arg);
		raw_spin_unlock(&it->lock);
		if (ok) {
			ret = 0;
			break;
		}
		if (ret) {
			ret = -EINTR;
			break;
		}
		if (!timeout) {
			ret = -ETIMEDOUT;
			break;
		}
		timeout = schedule_timeout(timeout);
	}
	finish_swait(&it->wq, &wait);
	return ret;
}

/* What mni_itree_remove_wait() waits to do, and what came of it. */
struct mni_unlink_wait {
	struct mmu_interval_notifier *sub;
	bool last;
};

static bool mni_itree_try_unlink(struct mni_itree *it, void *arg)
{
	struct mni_unlink_wait *w = arg;

	if (mni_itree_sub_busy(it, w->sub, false))
		return false;
	w->last = mni_itree_unlink(it, w->sub);
	return true;
}

/**
 * mni_itree_remove_wait - finish a remove that mni_itree_remove_begin()
 *			   could not complete
 * @it: the engine
 * @sub: the subscription, dying
 *
 * Waits only for the callbacks running on @sub (and the second passes they
 * asked for), never for other invalidations or their ends. When this
 * returns, no callback runs on @sub and none will.
 * Context: process context, may sleep.
 * Return: true if @sub was the engine's last user (see mni_itree_unlink()).
 */
bool mni_itree_remove_wait(struct mni_itree *it,
			   struct mmu_interval_notifier *sub)
{
	struct mni_unlink_wait w = { .sub = sub };

	mni_itree_wait(it, mni_itree_try_unlink, &w, false,
		       MAX_SCHEDULE_TIMEOUT);
	return w.last;
}

/**
 * mni_itree_collision_seq - a sequence read_retry() always reports
 * @sub: any subscription
 *
 * Every cur_seq and every insert's sequence is odd; this is even.
 */
unsigned long mni_itree_collision_seq(const struct mmu_interval_notifier *sub)
{
	/* Pairs with WRITE_ONCE() in mmu_interval_set_seq(). */
	return (READ_ONCE(sub->invalidate_seq) | 1) + 1;
}

/* One step of read_begin(), under the lock: -EAGAIN while it must wait. */
static int mni_itree_sample_locked(struct mni_itree *it,
				   struct mmu_interval_notifier *sub,
				   unsigned long *seq)
{
	lockdep_assert_held(&it->lock);
	if (!mni_itree_contains(it, sub) || mni_sub_is_dying(sub))
		return -ENOENT;
	if (it->dead) {
		*seq = mni_itree_collision_seq(sub);
		return 0;
	}
	if (mni_itree_overlap_in_flight(it, sub))
		return -EAGAIN;
	/*
	 * No overlapping record: every set_seq() of an ended one is done.
	 * Pairs with WRITE_ONCE() in mmu_interval_set_seq().
	 */
	*seq = READ_ONCE(sub->invalidate_seq);
	return 0;
}

/**
 * mni_itree_read_sample - read_begin() without sleeping
 * @it: the engine of @sub's mm
 * @sub: the subscription
 * @seq: set on success
 *
 * Context: any; does not sleep.
 * Return: 0 with @seq set; -EAGAIN if an invalidation that overlaps @sub
 * is in flight (then mni_itree_read_wait()); -ENOENT if @sub is not in
 * this engine or is being removed.
 */
int mni_itree_read_sample(struct mni_itree *it,
			  struct mmu_interval_notifier *sub, unsigned long *seq)
{
	int ret;

	raw_spin_lock(&it->lock);
	ret = mni_itree_sample_locked(it, sub, seq);
	raw_spin_unlock(&it->lock);
	return ret;
}

struct mni_read_wait {
	struct mmu_interval_notifier *sub;
	unsigned long *seq;
	int ret;
};

static bool mni_itree_try_sample(struct mni_itree *it, void *arg)
{
	struct mni_read_wait *rw = arg;

	rw->ret = mni_itree_sample_locked(it, rw->sub, rw->seq);
	return rw->ret != -EAGAIN;
}

/**
 * mni_itree_read_wait - read_begin()'s sleep
 * @it: the engine of @sub's mm
 * @sub: the subscription, in the tree
 * @timeout: jiffies to wait at most, or MAX_SCHEDULE_TIMEOUT
 * @killable: give up on a fatal signal
 * @seq: set on success
 *
 * Sleeps while an invalidation that overlaps @sub is in flight, and no
 * longer: other invalidations of the mm do not hold it up.
 * Context: process context, may sleep.
 * Return: 0, -EINTR, -ETIMEDOUT, or -ENOENT if @sub was removed meanwhile.
 */
int mni_itree_read_wait(struct mni_itree *it, struct mmu_interval_notifier *sub,
			long timeout, bool killable, unsigned long *seq)
{
	struct mni_read_wait rw = { .sub = sub, .seq = seq };
	u64 start = ktime_get_ns();
	u64 slept;
	int ret;

	ret = mni_itree_wait(it, mni_itree_try_sample, &rw, killable, timeout);
	if (!ret)
		ret = rw.ret;
	slept = ktime_get_ns() - start;

	/* The slow path: one more round of the lock for the counters. */
	raw_spin_lock(&it->lock);
	it->stats.waits++;
	it->stats.wait_ns += slept;
	it->stats.wait_max_ns = max(it->stats.wait_max_ns, slept);
	raw_spin_unlock(&it->lock);
	trace_mni_read_begin_wait(it->id, sub, slept);
	return ret;
}

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
 * reserve: allocated without reclaim (reclaim itself runs invalidations),
 * then the reserve, then from the atomic reserves, else try again a jiffy
 * later. Never fails.
 */
static struct mni_inval *mni_inval_alloc(struct mni_itree *it)
{
	struct mni_inval *inv;

	for (;;) {
		inv = kmalloc(sizeof(*inv), GFP_NOWAIT | __GFP_NOWARN);
		if (inv)
			return inv;
		raw_spin_lock(&it->lock);
		inv = mni_spare_take_locked(it, 0);
		raw_spin_unlock(&it->lock);
		if (inv)
			return inv;
		inv = kmalloc(sizeof(*inv), GFP_ATOMIC | __GFP_NOWARN);
		if (inv)
			return inv;
		schedule_timeout_uninterruptible(1);
	}
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
 * A walk that called a new or dying subscription fails tests/user's
 * model (mutation call-new-and-dying in tests/user/mutate.sh).
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
 * Record @range and collect its first round (mni_itree_collect_locked()).
 * The record is a spare, taken under the lock this takes anyway, or is
 * allocated. Non-blockable passes (the core has called non_block_start();
 * on PREEMPT_RT the allocator's locks sleep) only take a spare; blockable
 * ones leave MNI_SPARE_RESERVE of them for those.
 * Return: the record, or NULL (non-blockable, and no spare left).
 */
static struct mni_inval *
mni_itree_walk_first(struct mni_itree *it,
		     const struct mmu_notifier_range *range, bool blockable,
		     bool *more, unsigned long *in_flight)
{
	struct interval_tree_node *first;
	struct mni_inval *inv;

	raw_spin_lock(&it->lock);
	it->stats.invalidations++;
	inv = mni_spare_take_locked(it, blockable ? MNI_SPARE_RESERVE : 0);
	if (!inv && blockable) {
		raw_spin_unlock(&it->lock);
		inv = mni_inval_alloc(it);
		raw_spin_lock(&it->lock);
	}
	if (inv) {
		inv->range = range;
		inv->start = range->start;
		inv->last = range->end - 1;
		inv->fin_start = inv->start;
		inv->fin_last = inv->last;
		it->seq += 2;
		inv->seq = it->seq;
		inv->owner = mni_range_owner(range);
		inv->walker = current;
		inv->called = 0;
		inv->finishing = false;
		inv->waiters = false;
		inv->owed = NULL;
		hlist_add_head(&inv->link, &it->inflight);
		*in_flight = ++it->nr_inflight;
		first = range->end > range->start ?
			mni_it_iter_first(&it->root, inv->start, inv->last) :
			NULL;
		*more = mni_itree_collect_locked(it, inv, first);
	} else {
		it->stats.no_record++;
	}
	raw_spin_unlock(&it->lock);
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

	raw_spin_lock(&it->lock);
	wake = inv->waiters;
	inv->waiters = false;
	if (wake && it->nr_put_pending) {
		/* A put waits for this round: release it before the next. */
		raw_spin_unlock(&it->lock);
		mni_itree_reap(it, inv->batch, inv->nr_batch);
		raw_spin_lock(&it->lock);
	}
	more = mni_itree_collect_locked(it, inv, inv->next);
	raw_spin_unlock(&it->lock);
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
	 * Orders the last smp_store_release() of @pos before the loads of
	 * @waiters and of the wait queue. Pairs with smp_mb() in
	 * mni_inval_holds() (a remover that found its slot unfinished set
	 * @waiters first), with smp_mb() in mni_inval_owes() (an update that
	 * found the round unfinished set @waiters before it queued on @owed),
	 * and with the barrier of set_current_state() in
	 * prepare_to_swait_event() (a sleeper queues before it looks at @pos).
	 * Without it a remove() could sleep until the end, which the core may
	 * never send at exit (mutation walk-end-no-wake), and a walk could
	 * miss a subscription an update moved (update-owed-lost).
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

	raw_spin_lock(&it->lock);
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
	 * free) a subscription between our unlock and our look at its slot
	 * (tests/user's "a put sub a refused walk still holds is not released
	 * by another walk"). Pairs with smp_load_acquire() in
	 * mni_inval_holds() and mni_inval_owes().
	 */
	smp_store_release(&inv->pos, n);
	if (!wake)
		inv->nr_batch = 0;
	inv->next = NULL;
	inv->waiters = false;
	inv->finishing = false;
	raw_spin_unlock(&it->lock);

	/* Still our record: its batch and range are ours to read. */
	if (wake) {
		mni_itree_reap(it, inv->batch, n);
		raw_spin_lock(&it->lock);
		inv->nr_batch = 0;
		raw_spin_unlock(&it->lock);
		if (finishing)
			mni_itree_reap_range(it, inv);
	}
	if (refused) {
		raw_spin_lock(&it->lock);
		it->stats.callbacks += inv->called;
		it->stats.refused++;
		hlist_del(&inv->link);
		it->nr_inflight--;
		free = mni_inval_put_locked(it, inv, blockable);
		raw_spin_unlock(&it->lock);
	}
	if (free)
		kfree(inv);
	if (wake)
		mni_itree_wake(it);
}

/**
 * mni_itree_invalidate_start - call every subscription @range overlaps
 * @it: the engine of @range->mm
 * @range: the range the core is about to change
 *
 * Records the invalidation until mni_itree_invalidate_end() with the same
 * @range, unless it fails.
 *
 * Return: 0, or -EAGAIN in non-blockable context when a callback refused
 * (the subscriptions after it were not called) or no spare record was
 * left; the invalidation is then forgotten.
 */
int mni_itree_invalidate_start(struct mni_itree *it,
			       const struct mmu_notifier_range *range)
{
	const bool blockable = mmu_notifier_range_blockable(range);
	unsigned long in_flight;
	struct mni_inval *inv;
	struct mni_finishes finishes = {};
	bool done, more;

	inv = mni_itree_walk_first(it, range, blockable, &more, &in_flight);
	if (!inv)
		return -EAGAIN;

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
	if (mni_finishes_pending(&finishes)) {
		mni_sub_finish_pass(&finishes);
		mni_itree_walk_done(it, inv, !done, blockable);
	} else if (!done) {
		mni_itree_walk_done(it, inv, true, blockable);
	}
	lock_map_release(&mni_invalidate_map);
	return done ? 0 : -EAGAIN;
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
	bool free = false;

	raw_spin_lock(&it->lock);
	inv = mni_itree_find(it, range);
	if (inv) {
		it->stats.callbacks += inv->called;
		hlist_del(&inv->link);
		it->nr_inflight--;
		free = mni_inval_put_locked(it, inv,
					    mmu_notifier_range_blockable(range));
	}
	in_flight = it->nr_inflight;
	seq = it->seq;
	raw_spin_unlock(&it->lock);
	if (free)
		kfree(inv);
	if (inv)
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

	raw_spin_lock(&it->lock);
	it->dead = true;
	raw_spin_unlock(&it->lock);
	mni_itree_wake(it);

	mni_itree_invalidate_start(it, &range);
	mni_itree_invalidate_end(it, &range);
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
	struct mni_inval *inv;

	raw_spin_lock(&it->lock);
	mni_stats_add(sum, &it->stats);
	/* Pairs with WRITE_ONCE() in mni_itree_call_batch(). */
	hlist_for_each_entry(inv, &it->inflight, link)
		sum->callbacks += READ_ONCE(inv->called);
	raw_spin_unlock(&it->lock);
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
	struct mmu_interval_notifier *sub;
	struct interval_tree_node *node;
	enum mni_sub_state state;

	raw_spin_lock(&it->lock);
	info->seq = it->seq;
	info->in_flight = it->nr_inflight;
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
	raw_spin_unlock(&it->lock);
}
