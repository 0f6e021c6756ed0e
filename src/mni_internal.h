/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mni_internal.h - what the engine's files share, and nothing outside them
 *
 * Like mm/internal.h: the helpers here are static inline so that the fast
 * paths (insert, remove, read_begin) make no call across the engine's
 * files. Only src/mni_itree.c, mni_walk.c, mni_read.c, mni_put.c and
 * mni_update.c include it; the rest of the module sees mni_itree.h.
 */
#ifndef _MNI_INTERNAL_H
#define _MNI_INTERNAL_H

#include <linux/build_bug.h>
#include <linux/compiler.h>
#include <linux/interval_tree_generic.h>

#include "mni_itree.h"
#include "mni_sub.h"
#include "mni_trace.h"

/* Records kept at registration, and kept free for non-blockable passes. */
#define MNI_SPARE_MIN		2
#define MNI_SPARE_RESERVE	1
/* Blockable ends free records above this many spares. */
#define MNI_SPARE_MAX		8

/* The stamp of a subscription remove() has begun on: no record calls it. */
#define MNI_STAMP_DYING		ULONG_MAX

#define MNI_IT_START(node) ((node)->start)
#define MNI_IT_LAST(node) ((node)->last)

/*
 * The tree: the kernel's interval-tree template, static in each engine
 * file so the fast paths inline it as before. Insertion is ours
 * (mni_it_link() in mni_itree.c): the template's is unused.
 */
INTERVAL_TREE_DEFINE(struct interval_tree_node, rb, unsigned long,
		     __subtree_last, MNI_IT_START, MNI_IT_LAST,
		     static __maybe_unused, mni_it)

static inline struct mmu_interval_notifier *
mni_sub_of(struct interval_tree_node *node)
{
	return node ? container_of(node, struct mmu_interval_notifier,
				   interval_tree) : NULL;
}

/*
 * The stamp block: a subscription's deferred_item is unused by this
 * engine's lists, so it carries the subscription's stamp: .next holds
 * mni_itree.seq as it was at insert (or MNI_STAMP_DYING); .pprev holds
 * its owner while it lives (mni_sub_set_owner(), NULL by default), the
 * release of a put one (mni_sub_set_put()), NULL for one a remove() began
 * on. Written only under the engine lock, and read under it but by the
 * walker's early look at the stamp and by mni_itree_read_unlocked(); only
 * the latter reads it from a stranger too (mni_stamp_is_linked()). The
 * helpers below are the only code that touches deferred_item.
 */
static inline void mni_sub_stamp_layout(void)
{
	/* .next carries an unsigned long, .pprev a pointer of either kind. */
	BUILD_BUG_ON(sizeof(unsigned long) != sizeof(struct hlist_node *));
	BUILD_BUG_ON(sizeof(void *) != sizeof(struct hlist_node **));
	BUILD_BUG_ON(sizeof(mni_release_t) != sizeof(struct hlist_node **));
}

static inline unsigned long
mni_sub_stamp(const struct mmu_interval_notifier *sub)
{
	/*
	 * Pairs with WRITE_ONCE() in mni_sub_restamp(): a walker reads it
	 * without the lock, only to skip a dying subscription early.
	 */
	return (unsigned long)READ_ONCE(sub->deferred_item.next);
}

/* A new stamp for a subscription that stays in the tree: owner kept. */
static inline void mni_sub_restamp(struct mmu_interval_notifier *sub,
				   unsigned long stamp)
{
	mni_sub_stamp_layout();
	/* Pairs with READ_ONCE() in mni_sub_stamp(). */
	WRITE_ONCE(sub->deferred_item.next, (struct hlist_node *)stamp);
}

/* A stamp and no owner: an insert, a remove that waits, an unlink. */
static inline void mni_sub_set_stamp(struct mmu_interval_notifier *sub,
				     unsigned long stamp)
{
	mni_sub_restamp(sub, stamp);
	sub->deferred_item.pprev = NULL;
}

/*
 * Does @stamp, read without the lock, say its subscription is linked and
 * not dying? A linked one's stamp is a value mni_itree.seq had: odd, and
 * in [MNI_SEQ_FIRST, @seq] for any @seq read from it since; 0 (unlinked)
 * is not, nor is MNI_STAMP_DYING (above any @seq). A stranger inserted by
 * the kernel's engine holds an hlist pointer there (NULL, a node, or
 * LIST_POISON1), or, if that engine never wrote it, what its owner left:
 * 0, slab poison, a stale pointer, a small integer, none in the window.
 * A @seq read too old for the stamp only sends the caller to the lock.
 */
static inline bool mni_stamp_is_linked(unsigned long stamp, unsigned long seq)
{
	return (stamp & 1) && stamp >= MNI_SEQ_FIRST && stamp <= seq;
}

static inline bool mni_sub_is_dying(const struct mmu_interval_notifier *sub)
{
	return mni_sub_stamp(sub) == MNI_STAMP_DYING;
}

/* A living subscription's owner (mni_itree_set_owner()). Lock held. */
static inline void mni_sub_set_owner(struct mmu_interval_notifier *sub,
				     void *owner)
{
	sub->deferred_item.pprev = owner;
}

/*
 * A put subscription (mni_itree_put()) is dying, and keeps the release its
 * last holder calls in .pprev; a removed one has none there. Lock held.
 */
static inline void mni_sub_set_put(struct mmu_interval_notifier *sub,
				   mni_release_t release)
{
	mni_sub_set_stamp(sub, MNI_STAMP_DYING);
	sub->deferred_item.pprev = (struct hlist_node **)release;
}

static inline mni_release_t
mni_sub_put_release(const struct mmu_interval_notifier *sub)
{
	if (!mni_sub_is_dying(sub))
		return NULL;
	return (mni_release_t)sub->deferred_item.pprev;
}

static inline void *mni_sub_owner(const struct mmu_interval_notifier *sub)
{
	return mni_sub_is_dying(sub) ? NULL : sub->deferred_item.pprev;
}

/* Tree order: by start, then by address, so every node has one place. */
static inline bool mni_node_before(const struct interval_tree_node *a,
				   const struct interval_tree_node *b)
{
	return a->start < b->start ||
	       (a->start == b->start && (unsigned long)a < (unsigned long)b);
}

/*
 * Is @sub in this tree? Found by its key alone, so a stranger (inserted by
 * the kernel's engine, or never inserted) is only compared, never written,
 * and none of its fields but interval_tree.start is read.
 */
static inline bool mni_itree_contains(struct mni_itree *it,
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
static inline void mni_owed_put_locked(struct mni_itree *it, struct mni_owed *o)
{
	o->next = it->owed_spare;
	it->owed_spare = o;
}

/*
 * Take @sub's node out of the tree, to be linked again or not; lock held.
 * Always inlined, as is mni_itree_unlink(): both are on every remove, which
 * makes no call but the lock's and the tracepoint's.
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
	struct mni_reader *r;
	struct mni_inval *inv;

	mni_itree_take_out(it, sub);
	/* Its release may free it now: its sleeping readers let go of it. */
	hlist_for_each_entry(r, &it->readers, link)
		if (r->sub == sub)
			r->sub = NULL;
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
static inline bool mni_inval_overlaps_range(const struct mni_inval *inv,
					    unsigned long start, unsigned long last)
{
	return inv->start <= inv->last && inv->start <= last &&
	       start <= inv->last;
}

static inline bool mni_inval_overlaps(const struct mni_inval *inv,
				      const struct mmu_interval_notifier *sub)
{
	return mni_inval_overlaps_range(inv, sub->interval_tree.start,
					sub->interval_tree.last);
}

/*
 * Does @inv leave @sub alone? A migration or exclusive access started by
 * @sub's own owner neither calls it nor collides with it. Lock held.
 */
static inline bool mni_inval_skips(const struct mni_inval *inv,
				   const struct mmu_interval_notifier *sub)
{
	return inv->owner && inv->owner == mni_sub_owner(sub);
}

/*
 * May read_begin() on @sub leave @inv out? Only if @inv neither called nor
 * calls @sub: the walk decided that at collect time with the owner of
 * then, so once mni_itree_set_owner() has named @inv's owner for a
 * subscription @inv had already reached, @inv is waited for (@owner_stale).
 * Lock held.
 */
static inline bool mni_inval_skips_read(const struct mni_inval *inv,
					const struct mmu_interval_notifier *sub)
{
	return mni_inval_skips(inv, sub) && !inv->owner_stale;
}

/*
 * Store it->busy after a change of it->nr_inflight, it->nr_overflow or
 * it->dead, before the lock is dropped. Lock held.
 */
static inline void mni_itree_publish_busy_locked(struct mni_itree *it)
{
	lockdep_assert_held(&it->lock);
	/*
	 * Pairs with smp_load_acquire() in mni_itree_read_unlocked(): a
	 * reader that sees the zero an end stored also sees the page tables
	 * that invalidation changed, which the core changed before the end.
	 */
	smp_store_release(&it->busy,
			  it->nr_inflight + it->nr_overflow + it->dead);
}

/* Is an invalidation that overlaps @sub between its start and its end? */
static inline bool mni_itree_overlap_in_flight(struct mni_itree *it,
					       const struct mmu_interval_notifier *sub)
{
	struct mni_inval *inv;

	lockdep_assert_held(&it->lock);
	/* An invalidation without a record may cover any range. */
	if (it->nr_overflow)
		return true;
	hlist_for_each_entry(inv, &it->inflight, link) {
		if (mni_inval_skips_read(inv, sub))
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

static inline struct mmu_interval_notifier *
mni_slot_sub(const struct mmu_interval_notifier *slot)
{
	return (struct mmu_interval_notifier *)((unsigned long)slot &
						~MNI_SLOT_PUT);
}

static inline bool mni_slot_is_put(const struct mmu_interval_notifier *slot)
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
 * slot at @pos, or in the second passes after the round (a walk is on its
 * stack only then): a later slot is dropped from the round, so a callback
 * may remove another subscription of its own walk without waiting for
 * itself. A remove() of the subscription at @pos, from its own callback,
 * drops that slot too: the walker reads the slot again after the callback
 * returns and touches the subscription no more (mni_itree_call_batch()).
 * A put from there marks it instead, for the walk to release after.
 *
 * Slots change under the lock here while the walker reads them without
 * it: WRITE_ONCE(), paired with READ_ONCE() in mni_itree_call_batch().
 */
static inline bool mni_inval_holds(struct mni_inval *inv,
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
		if (!put) {
			WRITE_ONCE(inv->batch[i], NULL);
			return false;
		}
		/* Its own callback: the walk finishes a put after it returns. */
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
static inline bool mni_inval_may_finish(const struct mni_inval *inv,
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
static inline bool mni_itree_in_flight(const struct mni_itree *it)
{
	return !hlist_empty(&it->inflight);
}

/*
 * Is @inv the pass the caller itself is running, from one of whose
 * callbacks (or second passes) it calls in? Lock held.
 */
static inline bool mni_inval_is_own_pass(const struct mni_inval *inv)
{
	return inv->walker == current && inv->finishes;
}

/*
 * Does a walk hold @sub (mni_inval_holds()), or owe it a second pass? Asks
 * every record, so that each walk holding @sub is told to look at it again
 * when it lets go (@waiters, and with @put the mark on its slot).
 *
 * A remove() (!@put) made from inside a pass does not wait for that pass's
 * second passes: mni_itree_remove_begin() has run @sub's own pending finish
 * of that pass already, and the pass collects none for a subscription that
 * is dying. Waiting there would wait for the caller itself. A put does:
 * the pass releases it after its second passes (mni_itree_reap_range()).
 */
static inline bool mni_itree_sub_busy(struct mni_itree *it,
				      const struct mmu_interval_notifier *sub, bool put)
{
	struct mni_inval *inv;
	bool busy = false;

	lockdep_assert_held(&it->lock);
	/*
	 * mni_inval_holds() first: its acquire of @pos makes a @finishing
	 * set before a callback's slot was passed visible here. A finish of
	 * a subscription that moved since is found by the widened range
	 * (mni_inval_may_finish()), not by the walk's own: an update can move
	 * a subscription out of that range while its finish is pending.
	 */
	hlist_for_each_entry(inv, &it->inflight, link)
		if (mni_inval_holds(inv, sub, put) ||
		    (READ_ONCE(inv->finishing) &&
		     mni_inval_may_finish(inv, sub) &&
		     (put || !mni_inval_is_own_pass(inv))))
			busy = true;
	return busy;
}

/*
 * Move @sub's pending second passes of the passes the caller runs (more
 * than one when a callback started another invalidation) to @to, or with
 * @to NULL only tell whether there are any. Lock held; the lists are the
 * caller's own, which only it touches.
 */
static inline bool mni_itree_own_finish_take(struct mni_itree *it,
					     const struct mmu_interval_notifier *sub,
					     struct mni_finishes *to)
{
	struct mni_inval *inv;
	bool taken = false;

	lockdep_assert_held(&it->lock);
	hlist_for_each_entry(inv, &it->inflight, link)
		if (mni_inval_is_own_pass(inv) &&
		    mni_sub_finish_take(inv->finishes, sub, to))
			taken = true;
	return taken;
}

/*
 * Wake read_begin() and remove() sleepers after a change they wait for.
 * The change was made under it->lock, and every sleeper queues itself
 * before it takes that lock to test its condition (mni_itree_wait()), so
 * a sleeper this check misses has not tested yet and will see the change:
 * the lock orders the two, no barrier is needed. Every change a sleeper
 * waits for (a round let go, a record ended, the release pass begun) is
 * followed by a call here once the lock is dropped.
 */
static inline void mni_itree_wake(struct mni_itree *it)
{
	if (swait_active(&it->wq))
		swake_up_all(&it->wq);
}

/*
 * mni_itree_wake() from a caller that may have interrupts off (update, put
 * and set_owner may be called under a driver's irqsave lock, put and
 * set_owner from a hardirq handler): swake_up_all() turns them back on, so
 * then the sleepers wait for the record's end, which wakes them as well.
 */
static inline void mni_itree_wake_any(struct mni_itree *it)
{
	if (!irqs_disabled())
		mni_itree_wake(it);
}

/* In mni_itree.c: move @sub to [@start, @last] in the tree; lock held. */
void mni_itree_move_locked(struct mni_itree *it,
			   struct mmu_interval_notifier *sub,
			   unsigned long start, unsigned long last);

/* In mni_put.c: release the put subscriptions a walk held last. */
void mni_itree_reap(struct mni_itree *it,
		    struct mmu_interval_notifier **subs, unsigned int n);
void mni_itree_reap_range(struct mni_itree *it, struct mni_inval *inv);
/* In mni_read.c: read_begin(), remove() and a start without a record sleep. */
int mni_itree_wait(struct mni_itree *it,
		   bool (*done)(struct mni_itree *it, void *arg), void *arg,
		   bool killable, long timeout);

#endif /* _MNI_INTERNAL_H */
