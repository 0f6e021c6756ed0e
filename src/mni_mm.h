/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mni_mm.h - one address space as this module sees it: its engine and the
 * classic mmu_notifiers that feed the engine from the core.
 */
#ifndef _MNI_MM_H
#define _MNI_MM_H

#include <linux/hashtable.h>
#include <linux/kref.h>
#include <linux/llist.h>
#include <linux/mmu_notifier.h>
#include <linux/rcupdate.h>

#include "mni_itree.h"

#define MNI_REGISTRY_BITS 7

/**
 * struct mni_mm - per-mm state
 * @itree: the engine.
 * @start_nb: notifier with invalidate_range_start (may fail) and release.
 * @end_nb: notifier with invalidate_range_end only. The core warns when a
 *	notifier that fails start also has an end, so the two halves live in
 *	two notifiers, registered and torn down together.
 * @mm: the address space; the key in the registry. Pinned (mm_count) by
 *	each registered notifier and by each subscription.
 * @node: link in the registry hash; changed under mni_registry_lock,
 *	walked under RCU.
 * @users: one, shared, while the engine has subscriptions or
 *	pre-registrations (mni_itree.nr_subs, mni_itree.nr_holds), plus one
 *	per insert or mni_mm_get() in progress that found the engine unused.
 *	Taken with atomic_long_inc_not_zero() under RCU, so no module-wide
 *	lock is on the insert and remove paths; the entry leaves the
 *	registry when it drops to zero, and never comes back. Each
 *	subscription and pre-registration holds an mmgrab() of @mm.
 * @nbs_put: the notifiers were handed back to the core (by the last
 *	user or by release): whoever sets it first hands them back.
 * @ref: pins the memory, nothing else: one for the registry, dropped by
 *	the last user (or module exit) after it unhashed the entry; one per
 *	registered notifier, dropped by its free_notifier. The last one frees
 *	the struct after an RCU grace period, so registry walkers under
 *	rcu_read_lock() may read an entry that leaves meanwhile.
 * @rcu: frees the struct after registry walkers are done.
 * @counted: link in the list of entries whose counters count in the totals,
 *	from allocation to mni_mm_free(); under mni_stats_lock.
 * @pid: thread group of the task that first inserted, if it owns the mm.
 * @deferred: last-user puts (each with the mmgrab() of the subscription
 *	that was put) left to mni_mm_defer_work(), because they came where
 *	spinlock_t locks may not be taken; atomic.
 * @defer_node: on mni_mm_deferred while @deferred is not zero, holding a
 *	@ref.
 */
struct mni_mm {
	struct mni_itree itree;
	struct mmu_notifier start_nb;
	struct mmu_notifier end_nb;
	struct mm_struct *mm;
	struct hlist_node node;
	atomic_long_t users;
	atomic_t nbs_put;
	struct kref ref;
	struct rcu_head rcu;
	struct list_head counted;
	pid_t pid;
	atomic_t deferred;
	struct llist_node defer_node;
};

struct mni_mm *mni_mm_user_get_existing(struct mm_struct *mm);
struct mni_mm *mni_mm_user_get_locked(struct mm_struct *mm);
void mni_mm_user_put(struct mni_mm *mmm);
void mni_mm_put_done(struct mni_itree *it, struct mmu_interval_notifier *sub,
		     mni_release_t release, bool last);

/*
 * Puts whose release has not returned yet, for
 * mni_interval_notifier_put_barrier(): raised before the put, dropped
 * after its release returned (mni_mm_put_done()) or when it was refused.
 */
extern atomic_long_t mni_puts_pending;

static inline void mni_put_pending_inc(void)
{
	atomic_long_inc(&mni_puts_pending);
}

/*
 * Orders the release's last access, and the put's own work after it (the
 * deferral queued), before the barrier's look at zero.
 */
static inline void mni_put_pending_dec(void)
{
	atomic_long_dec_return_release(&mni_puts_pending);
}

static inline bool mni_put_pending(void)
{
	/* Pairs with atomic_long_dec_return_release() above. */
	return atomic_long_read_acquire(&mni_puts_pending);
}

bool mni_mm_insert_used(struct mm_struct *mm,
			struct mmu_interval_notifier *sub);
void mni_mm_attach(struct mni_mm *mmm, struct mmu_interval_notifier *sub);
void mni_mm_pin(struct mni_mm *mmm);
int mni_mm_unpin(struct mm_struct *mm);

/* The registry: mni_mm.c changes it, and says how it is read. */
extern struct hlist_head mni_registry[1 << MNI_REGISTRY_BITS];

/**
 * mni_mm_lookup_rcu - find the entry of @mm, without a reference
 * @mm: the address space; NULL (a subscription never inserted) finds none,
 *	since no entry has a NULL mm
 *
 * Inline: it is on every remove, put and read_begin.
 * Context: rcu_read_lock() held; the result is only valid under it
 * unless the caller knows a subscription of it is inserted.
 */
static inline struct mni_mm *mni_mm_lookup_rcu(struct mm_struct *mm)
{
	struct mni_mm *mmm;

	hash_for_each_possible_rcu(mni_registry, mmm, node, (unsigned long)mm)
		if (mmm->mm == mm)
			return mmm;
	return NULL;
}

void mni_mm_init(void);
void mni_mm_exit(void);

typedef void (*mni_mm_visit_t)(struct mni_mm *mmm, void *arg);
void mni_mm_for_each(mni_mm_visit_t visit, void *arg);
bool mni_mm_tryget_ref(struct mni_mm *mmm);
void mni_mm_put_ref(struct mni_mm *mmm);
void mni_mm_total_stats(struct mni_stats *sum);

#endif /* _MNI_MM_H */
