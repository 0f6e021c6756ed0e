/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mni_mm.h - one address space as this module sees it: its engine and the
 * classic mmu_notifiers that feed the engine from the core.
 */
#ifndef _MNI_MM_H
#define _MNI_MM_H

#include <linux/kref.h>
#include <linux/mmu_notifier.h>
#include <linux/rcupdate.h>

#include "mni_itree.h"

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
 * @users: subscriptions plus inserts in progress, under mni_registry_lock.
 *	The entry is in the registry exactly while it is non-zero.
 * @nbs_put: the notifiers were handed back to the core (by the last
 *	remove or by release), under mni_registry_lock.
 * @live_nbs: notifiers whose free_notifier has not run yet.
 * @ref: one for the registry (@users != 0), one per live notifier.
 * @rcu: frees the struct after registry walkers are done.
 */
struct mni_mm {
	struct mni_itree itree;
	struct mmu_notifier start_nb;
	struct mmu_notifier end_nb;
	struct mm_struct *mm;
	struct hlist_node node;
	unsigned long users;
	bool nbs_put;
	atomic_t live_nbs;
	struct kref ref;
	struct rcu_head rcu;
};

struct mni_mm *mni_mm_get_existing(struct mm_struct *mm);
struct mni_mm *mni_mm_get(struct mm_struct *mm);
void mni_mm_put(struct mni_mm *mmm);
struct mni_mm *mni_mm_lookup_rcu(struct mm_struct *mm);
void mni_mm_exit(void);

#endif /* _MNI_MM_H */
