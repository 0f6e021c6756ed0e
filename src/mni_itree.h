/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mni_itree.h - the interval-notifier engine of one address space
 *
 * The engine knows nothing of how invalidations reach it: mni_mm.c feeds it
 * the core's invalidate_range_start/end calls and the release pass. It makes
 * no mm calls, so tests/user/ can build it in userspace against shims.
 */
#ifndef _MNI_ITREE_H
#define _MNI_ITREE_H

#include <linux/llist.h>
#include <linux/mmu_notifier.h>
#include <linux/rbtree.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "mni_stats.h"

/**
 * struct mni_itree - subscriptions of one mm and their collision-retry state
 * @lock: guards every field below except @wq's own internals.
 * @root: subscriptions, keyed by their closed interval [start, last].
 *	Never changed while @seq is odd: invalidations walk it unlocked.
 * @seq: even while idle, odd while some invalidation that overlaps a
 *	subscription is in flight (an "epoch"). Every such invalidation gets
 *	its own odd value; the last one to end makes it even again.
 * @epoch: the odd @seq that opened the current epoch. A subscription whose
 *	invalidate_seq is odd and not below @epoch was invalidated in this
 *	epoch, so its reader must wait for the epoch to end.
 * @active: invalidations started and not yet ended, overlapping or not.
 * @deferred: inserts and removes that arrived while @seq was odd, chained
 *	through mmu_interval_notifier.deferred_item and applied when the
 *	epoch ends. An entry with an empty rb node is a pending insert; one
 *	that sits in @root is a pending remove.
 * @wq: read_begin() and remove() sleep here until an epoch ends.
 * @stats: counters, per CPU; set once before the engine is used.
 * @id: names the mm in traces and debugfs; set once before use.
 */
struct mni_itree {
	spinlock_t lock;		/* guards all below */
	struct rb_root_cached root;
	unsigned long seq;
	unsigned long epoch;
	unsigned long active;
	struct hlist_head deferred;
	wait_queue_head_t wq;
	struct mni_stats __percpu *stats;
	unsigned long id;
};

/*
 * While a subscription is in the tree and not on the deferred list, its
 * deferred_item.next, unused then, holds its engine with bit 0 set (no
 * hlist pointer has it): read_begin() and remove() find the engine without
 * a registry lookup. Anywhere else it is not tagged. Written under the
 * engine lock (WRITE_ONCE() in mni_itree.c, hlist_add_head()), read
 * locklessly here. A wrong tag shows as a stranger accepted or an owner
 * refused: tests/user's model (foreign, double and cancelled removes) and
 * mni_suite's remove_foreign / remove_twice / insert_during_invalidation.
 */
#define MNI_ENGINE_TAG 1UL

/**
 * mni_itree_of - the engine whose tree holds @sub, if it is one of ours
 * @sub: any subscription
 *
 * Return: the engine, or NULL if @sub is not in a tree of this module (or
 * is queued on a deferred list): the caller then looks it up.
 */
static inline struct mni_itree *
mni_itree_of(const struct mmu_interval_notifier *sub)
{
	/* Pairs with WRITE_ONCE() in mni_sub_set_engine(). */
	unsigned long v = (unsigned long)READ_ONCE(sub->deferred_item.next);

	return v & MNI_ENGINE_TAG ? (struct mni_itree *)(v & ~MNI_ENGINE_TAG) :
				    NULL;
}

/* In mni_sub.c: how the running kernel calls one subscriber. */
bool mni_sub_invalidate(struct mmu_interval_notifier *sub,
			const struct mmu_notifier_range *range,
			unsigned long cur_seq, struct llist_head *finishes);
void mni_sub_finish_pass(struct llist_head *finishes);

void mni_itree_init(struct mni_itree *it, struct mni_stats __percpu *stats,
		    unsigned long id);

#ifdef CONFIG_LOCKDEP
extern struct lockdep_map mni_invalidate_map;
#endif

void mni_itree_insert(struct mni_itree *it, struct mmu_interval_notifier *sub);
int mni_itree_remove(struct mni_itree *it, struct mmu_interval_notifier *sub,
		     unsigned long *epoch);
bool mni_itree_epoch_ended(struct mni_itree *it, unsigned long epoch);
unsigned long mni_itree_read_begin(struct mni_itree *it,
				   struct mmu_interval_notifier *sub);

int mni_itree_invalidate_start(struct mni_itree *it,
			       const struct mmu_notifier_range *range);
void mni_itree_invalidate_end(struct mni_itree *it);
void mni_itree_release(struct mni_itree *it, struct mm_struct *mm);
void mni_itree_quiesce(struct mni_itree *it);

/**
 * enum mni_sub_state - where a subscription stands, for debugfs
 * @MNI_SUB_IDLE: in the tree, not invalidated in the open epoch
 * @MNI_SUB_INVALIDATED: in the tree, invalidated in the open epoch
 * @MNI_SUB_PENDING_INSERT: waits for the epoch to end to enter the tree
 * @MNI_SUB_PENDING_REMOVE: waits for the epoch to end to leave the tree
 */
enum mni_sub_state {
	MNI_SUB_IDLE,
	MNI_SUB_INVALIDATED,
	MNI_SUB_PENDING_INSERT,
	MNI_SUB_PENDING_REMOVE,
};

/**
 * struct mni_itree_info - a consistent snapshot of an engine's state
 * @seq: mni_itree.seq
 * @active: invalidations in flight
 * @deferred: entries on the deferred list
 */
struct mni_itree_info {
	unsigned long seq;
	unsigned long active;
	unsigned long deferred;
};

typedef void (*mni_itree_visit_t)(void *arg,
				  const struct mmu_interval_notifier *sub,
				  enum mni_sub_state state);
void mni_itree_inspect(struct mni_itree *it, struct mni_itree_info *info,
		       mni_itree_visit_t visit, void *arg);

#endif /* _MNI_ITREE_H */
