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

#include <linux/list.h>
#include <linux/mmu_notifier.h>
#include <linux/rbtree.h>
#include <linux/spinlock.h>
#include <linux/swait.h>

#include "mni_stats.h"

/*
 * Subscriptions a walk collects per round of the engine lock. tests/user
 * also builds the engine with a small one, to cross round boundaries often.
 */
#ifndef MNI_WALK_BATCH
#define MNI_WALK_BATCH		16
#endif

struct mni_finishes;

/**
 * struct mni_owed - a callback a walk owes a subscription that moved
 * @next: the next on the walk's mni_inval.owed, or on mni_itree.owed_spare
 * @sub: the subscription, in the tree and not dying while this is queued
 *	(mni_itree_unlink() drops the entries of a subscription it unlinks)
 *
 * mni_itree_update() moves a subscription in the tree. A walk in flight
 * that still owes it a callback (it overlaps the old or the new range and
 * has not called it yet) may not find it at its new place, so the update
 * queues one of these on the walk's record; the walk calls the queued
 * subscriptions after its last round of the tree.
 */
struct mni_owed {
	struct mni_owed *next;
	struct mmu_interval_notifier *sub;
};

/**
 * struct mni_inval - one invalidation in flight: a record its end finds
 * @link: in mni_itree.inflight from start to end, or in mni_itree.spare.
 *	An hlist: unlike list_head (CONFIG_DEBUG_LIST, on in Debian's
 *	kernels) its updates make no out-of-line calls on the hot path.
 * @range: the core's range, the key the end looks the record up by (the
 *	core passes one pointer to a start, its end and the ends after a
 *	failed start). Only compared, never dereferenced after the start.
 * @start: first address of the range
 * @last: last address of the range (closed interval)
 * @seq: odd and unique: the cur_seq its callbacks get. Subscriptions
 *	stamped at or after it (inserted later) are not called by it.
 * @owner: the owner a migration or exclusive-access invalidation names
 *	(mni_range_owner()), else NULL: it skips, and does not collide with,
 *	subscriptions of that owner (mni_itree_set_owner()).
 * @walker: the task running the start pass, which alone calls @batch.
 * @finishes: while the pass (first or second) runs, the walker's own
 *	collection of second passes (on its stack), else NULL. Written and
 *	read by @walker only, so without the lock: a remove() made from one
 *	of its callbacks runs the removed subscription's pending finish
 *	from it (mni_itree_remove_begin()).
 * @owner_stale: mni_itree_set_owner() gave @owner to a subscription this
 *	walk has called or still calls: read_begin() then waits for this
 *	record whatever the owners say (mni_inval_skips_read()).
 * @next: the tree node the walk's next round starts from, or NULL. Kept
 *	linked: an unlink of it moves it on (mni_itree_unlink()).
 * @nr_batch: subscriptions collected in @batch this round.
 * @pos: the walker's progress in @batch: the callbacks of the slots
 *	before it have returned. Written by the walker without the lock
 *	(smp_store_release()), read by others with smp_load_acquire().
 * @called: callbacks made; the walker bumps it without the lock
 *	(WRITE_ONCE()), the stats read it under the lock (READ_ONCE()).
 * @finishing: two-pass finishes were collected and have not run yet; a
 *	remove() of a subscription it overlaps waits for them. Set by the
 *	walker before it publishes @pos past the callback that asked.
 * @fin_start: first address of the range whose subscriptions may have a
 *	second pass of this walk pending: its own, widened by
 *	mni_itree_update() to where the ones it may have called moved.
 * @fin_last: last address of that range
 * @waiters: a remove() sleeps for a slot of @batch, or an update queued
 *	on @owed; set under the lock, read by the walker after its last
 *	callback (see mni_itree_walk_end()).
 * @on_stack: the walker's own, for an invalidation that found no record to
 *	take: it leaves @inflight when the walk is over, and one of
 *	mni_itree.overflow stands for it until the end.
 * @owed: callbacks an update moved out of the walk's way
 *	(mni_itree_update()), made after the tree's last round.
 * @batch: the subscriptions of this round, in tree order. Filled under
 *	the lock; a slot is cleared only by @walker itself (a remove() made
 *	from one of its own callbacks), so the walker reads them unlocked.
 *
 * All fields but those said otherwise are under mni_itree.lock.
 */
struct mni_inval {
	struct hlist_node link;
	const struct mmu_notifier_range *range;
	unsigned long start;
	unsigned long last;
	unsigned long seq;
	unsigned long fin_start;
	unsigned long fin_last;
	void *owner;
	struct task_struct *walker;
	struct mni_finishes *finishes;
	struct interval_tree_node *next;
	unsigned int nr_batch;
	unsigned int pos;
	unsigned long called;
	bool finishing;
	bool waiters;
	bool owner_stale;
	bool on_stack;
	struct mni_owed *owed;
	struct mmu_interval_notifier *batch[MNI_WALK_BATCH];
};

/*
 * Invalidations an engine tracks without a record when it has none to take
 * and none can be allocated without reclaim (see mni_itree.overflow).
 */
#define MNI_OVERFLOW_SLOTS	4

/**
 * struct mni_reader - a read_begin() asleep on a subscription
 * @link: in mni_itree.readers while it may sleep
 * @sub: the subscription; set to NULL under the lock when it leaves the
 *	tree (mni_itree_unlink()), after which the reader never reads it
 *
 * On the reader's stack, registered by mni_itree_read_prepare() when it
 * answers -EAGAIN and dropped by mni_itree_read_wait() or
 * mni_itree_read_cancel(): a put's release may free the subscription as
 * soon as it is out of the tree, while its reader still sleeps.
 */
struct mni_reader {
	struct hlist_node link;
	struct mmu_interval_notifier *sub;
};

/**
 * struct mni_itree - subscriptions of one mm and their collision-retry state
 * @lock: guards every field below except @wq's internals and @id.
 *	Raw: it is taken inside the core's non_block_start() sections (the
 *	OOM reaper), where a PREEMPT_RT spinlock_t would sleep. Always taken
 *	with interrupts off: put and set_owner may be called from a hardirq
 *	or softirq handler, which would spin for ever on a CPU whose
 *	interrupted code holds it. Functions that may be called with
 *	interrupts off save them (_irqsave); those that sleep, or run only
 *	from the core's notifier calls, which may sleep, use _irq.
 * @stats: counters, next to @lock so they share its cache line.
 * @root: subscriptions, keyed by (start, address), each a closed interval
 *	[start, last]. Walkers collect up to MNI_WALK_BATCH of them under the
 *	lock and call them with the lock dropped (mni_inval.batch).
 * @seq: the last odd value handed to an invalidation or an update;
 *	starts at MNI_SEQ_FIRST and only grows. Written under the lock with
 *	WRITE_ONCE(): mni_itree_read_unlocked() reads it without.
 * @busy: @nr_inflight + @nr_overflow + @dead, stored with the lock held
 *	after each change of them (mni_itree_publish_busy_locked()), and read
 *	without it by mni_itree_read_unlocked(): while it is zero, no
 *	invalidation is in flight anywhere in the mm.
 * @inflight: records of the invalidations between their start and end.
 * @nr_inflight: entries on @inflight.
 * @spare: unused records, so non-blockable passes never allocate.
 * @nr_spare: entries on @spare.
 * @dead: the release pass has begun: read_begin() reports a collision at
 *	once, and no wait depends on an end (the core may never send it).
 * @released: the release pass is over: every subscription it called has
 *	had its MMU_NOTIFY_RELEASE, so a start after it calls no one.
 * @overflow: the range pointers of invalidations between their start and
 *	end that have no record (none was spare, none could be allocated
 *	without reclaim), NULL in unused slots: while one is set, every
 *	subscription collides (read_begin() waits, as the kernel's engine
 *	does for all of them).
 * @nr_overflow: slots of @overflow in use.
 * @readers: read_begin()s asleep (struct mni_reader).
 * @nr_put_pending: subscriptions put (mni_itree_put()) while a walk held
 *	them: the walk that stops holding one last unlinks and releases it.
 * @owed_spare: unused struct mni_owed, kept so walks never free one.
 * @nr_subs: subscriptions in @root, dying ones included.
 * @nr_holds: holds the mm layer keeps on the engine (mni_mm_get()).
 *	While @nr_subs + @nr_holds is not zero, they share one user
 *	reference of the mm's entry, so inserts and removes make no atomic
 *	operation on it: the call that raises the sum from zero keeps the
 *	reference its caller took, the one that brings it back to zero tells
 *	its caller to drop it (mni_mm.c).
 * @wq: read_begin() sleeps here for the invalidations overlapping its
 *	subscription, remove() for the callbacks running on its own. Simple
 *	wait queue: its lock is raw as well.
 * @id: names the mm in traces and debugfs; set once before use.
 */
struct mni_itree {
	raw_spinlock_t lock;		/* guards all below but wq, id */
	struct mni_stats stats;
	struct rb_root_cached root;
	unsigned long seq;
	unsigned long busy;		/* written under lock, read without */
	struct hlist_head inflight;
	unsigned long nr_inflight;
	struct hlist_head spare;
	unsigned int nr_spare;
	bool dead;
	bool released;
	unsigned int nr_overflow;
	const struct mmu_notifier_range *overflow[MNI_OVERFLOW_SLOTS];
	struct hlist_head readers;
	unsigned int nr_put_pending;
	struct mni_owed *owed_spare;
	unsigned long nr_subs;
	unsigned long nr_holds;
	struct swait_queue_head wq;	/* woken after the lock is dropped */
	unsigned long id;
};

/* What mni_itree_put() calls once no callback can run on the subscription. */
typedef void (*mni_release_t)(struct mmu_interval_notifier *sub);

/*
 * What the engine calls once a put subscription is out of the tree and no
 * callback runs on it: call @release, then drop what its insert took, and
 * with @last (its unlink left the engine unused) the engine's shared user
 * reference. Called without the engine lock, from the walk that held it
 * last; a put that unlinks at once leaves the call to its own caller.
 */
typedef void (*mni_put_done_t)(struct mni_itree *it,
			       struct mmu_interval_notifier *sub,
			       mni_release_t release, bool last);
void mni_itree_set_put_done(mni_put_done_t done);

int mni_itree_init(struct mni_itree *it, unsigned long id);
void mni_itree_add_stats(struct mni_itree *it, struct mni_stats *sum);
void mni_itree_destroy(struct mni_itree *it);

#ifdef CONFIG_LOCKDEP
extern struct lockdep_map mni_invalidate_map;
#endif

bool mni_itree_insert(struct mni_itree *it, struct mmu_interval_notifier *sub);
bool mni_itree_insert_used(struct mni_itree *it,
			   struct mmu_interval_notifier *sub);
bool mni_itree_hold(struct mni_itree *it);
int mni_itree_unhold(struct mni_itree *it);
void mni_itree_remove_annotate(void);
int mni_itree_remove_begin(struct mni_itree *it,
			   struct mmu_interval_notifier *sub, bool *last);
bool mni_itree_remove_wait(struct mni_itree *it,
			   struct mmu_interval_notifier *sub);
int mni_itree_put(struct mni_itree *it, struct mmu_interval_notifier *sub,
		  mni_release_t release, bool *last);
int mni_itree_set_owner(struct mni_itree *it, struct mmu_interval_notifier *sub,
			void *owner);
int mni_itree_update(struct mni_itree *it, struct mmu_interval_notifier *sub,
		     unsigned long start, unsigned long last);
bool mni_itree_read_unlocked(struct mni_itree *it,
			     struct mmu_interval_notifier *sub,
			     unsigned long *seq);
int mni_itree_read_sample(struct mni_itree *it,
			  struct mmu_interval_notifier *sub, unsigned long *seq);
int mni_itree_read_prepare(struct mni_itree *it,
			   struct mmu_interval_notifier *sub,
			   unsigned long *seq, struct mni_reader *reader);
int mni_itree_read_wait(struct mni_itree *it, struct mni_reader *reader,
			long timeout, bool killable, unsigned long *seq);
void mni_itree_read_cancel(struct mni_itree *it, struct mni_reader *reader);
unsigned long mni_itree_collision_seq(const struct mmu_interval_notifier *sub);
void mni_itree_wake_readers(struct mni_itree *it);

/*
 * What a read gets for a subscription that left the tree while the reader
 * slept, and that its release may have freed: read from nowhere, and a
 * collision all the same (every sequence this engine hands out is odd).
 */
#define MNI_SEQ_GONE		0UL

/*
 * The first mni_itree.seq, so every stamp and sequence of a linked
 * subscription lies in [MNI_SEQ_FIRST, seq]: far above small integers,
 * far below pointers, slab poison and user addresses, which is what an
 * unlinked subscription's stamp or a stranger's deferred_item holds
 * (mni_stamp_is_linked()).
 */
#define MNI_SEQ_FIRST		((1UL << 40) | 1)

int mni_itree_invalidate_start(struct mni_itree *it,
			       const struct mmu_notifier_range *range);
void mni_itree_invalidate_end(struct mni_itree *it,
			      const struct mmu_notifier_range *range);
void mni_itree_release(struct mni_itree *it, struct mm_struct *mm);

/**
 * enum mni_sub_state - where a subscription stands, for debugfs
 * @MNI_SUB_IDLE: in the tree, no invalidation in flight overlaps it
 * @MNI_SUB_INVALIDATING: an invalidation that overlaps it is in flight:
 *	its read_begin() would wait
 * @MNI_SUB_REMOVING: remove() waits for a callback still running on it
 */
enum mni_sub_state {
	MNI_SUB_IDLE,
	MNI_SUB_INVALIDATING,
	MNI_SUB_REMOVING,
};

/**
 * struct mni_itree_info - a consistent snapshot of an engine's state
 * @seq: mni_itree.seq
 * @in_flight: invalidations between start and end
 * @dead: the release pass has begun
 * @subscriptions: mni_itree.nr_subs
 * @holds: mni_itree.nr_holds
 */
struct mni_itree_info {
	unsigned long seq;
	unsigned long in_flight;
	bool dead;
	unsigned long subscriptions;
	unsigned long holds;
};

typedef void (*mni_itree_visit_t)(void *arg,
				  const struct mmu_interval_notifier *sub,
				  enum mni_sub_state state);
void mni_itree_inspect(struct mni_itree *it, struct mni_itree_info *info,
		       mni_itree_visit_t visit, void *arg);
void mni_itree_abandon(struct mni_itree *it, struct mni_itree_info *info);

#endif /* _MNI_ITREE_H */
