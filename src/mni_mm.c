// SPDX-License-Identifier: GPL-2.0
/*
 * mni_mm.c - per-mm registration with the core and the registry of mms
 *
 * Lifetime of a struct mni_mm
 * ---------------------------
 * 1. The first insert on an mm, or mni_mm_get(), allocates it and
 *    registers end_nb, then start_nb, with mmap_lock held for write (see
 *    mni_mm_register()).
 * 2. It stays in the registry while @users != 0: one reference shared
 *    by its subscriptions and pre-registrations, counted under the engine
 *    lock (mni_itree.nr_subs), and one per insert in progress that found
 *    the engine unused. The last of them takes it out and hands both
 *    notifiers back with mmu_notifier_put(). A later insert makes a new
 *    entry.
 * 3. If the mm exits first, ->release marks the engine dead, runs the
 *    RELEASE pass and hands the notifiers back itself; the entry stays in
 *    the registry until the last remove, which then only drops the
 *    registry's reference.
 * 4. Notifiers are handed back start_nb first. From then on no start is
 *    recorded; an end finds its record or, with none, is ignored, so no end
 *    can count for an invalidation it does not belong to. Ends the core
 *    never sends (it unhooks end_nb too, possibly between a start and its
 *    end) leave records that nothing waits for: the engine is dead, or has
 *    no subscription left.
 * 5. Each notifier's free_notifier runs from an SRCU callback, after a grace
 *    period, once the core can no longer call it. The struct, with any
 *    record left, is freed after an RCU grace period for registry walkers,
 *    when the registry and both notifiers have dropped their references
 *    (@ref: nothing else holds one).
 *
 * Lock order: mmap_lock -> mni_registry_lock -> mni_itree.lock. Once an
 * entry exists, insert, remove, read_begin and invalidations take no
 * module-wide lock: the entry is found under RCU, and an engine in use
 * counts its subscriptions under its own lock;
 * mni_registry_lock serialises only hash changes (first insert, last
 * user) and module exit's pops.
 */
#include <linux/delay.h>
#include <linux/hashtable.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "mni_mm.h"

/*
 * Guards changes to the registry hash. Readers use rcu_read_lock(), also
 * where the section allocates (update: PREEMPT_RT allows that with
 * preemptible RCU, not with preemption off), and call_rcu() in
 * mni_mm_free() waits for them.
 */
static DEFINE_SPINLOCK(mni_registry_lock);
DEFINE_HASHTABLE(mni_registry, MNI_REGISTRY_BITS);

/* Names entries (mni_itree.id); never reused while loaded. */
static atomic_long_t mni_next_id;

/*
 * Guards mni_retired, the counters of entries already freed, and
 * mni_counted, every entry not freed yet, listed or not. An entry's
 * counters move from the one to the other in one critical section, so a
 * total never misses them (an entry leaves the registry a grace period
 * before it is freed) nor counts them twice.
 */
static DEFINE_SPINLOCK(mni_stats_lock);
static struct mni_stats mni_retired;
static LIST_HEAD(mni_counted);

/**
 * mni_mm_total_stats - add the counters of every entry, live or freed
 * @sum: the total
 */
void mni_mm_total_stats(struct mni_stats *sum)
{
	struct mni_mm *mmm;

	spin_lock(&mni_stats_lock);
	mni_stats_add(sum, &mni_retired);
	list_for_each_entry(mmm, &mni_counted, counted)
		mni_itree_add_stats(&mmm->itree, sum);
	spin_unlock(&mni_stats_lock);
}

static void mni_mm_free_rcu(struct rcu_head *rcu)
{
	struct mni_mm *mmm = container_of(rcu, struct mni_mm, rcu);

	mni_itree_destroy(&mmm->itree);
	kfree(mmm);
}

/* Last reference: may run from an SRCU callback, so no sleeping. */
static void mni_mm_free(struct kref *ref)
{
	struct mni_mm *mmm = container_of(ref, struct mni_mm, ref);

	/* Final: no notifier and no subscription can reach the engine. */
	spin_lock(&mni_stats_lock);
	mni_itree_add_stats(&mmm->itree, &mni_retired);
	list_del(&mmm->counted);
	spin_unlock(&mni_stats_lock);

	/* Registry walkers may still look at it: see mni_mm_lookup_rcu(). */
	call_rcu(&mmm->rcu, mni_mm_free_rcu);
}

/**
 * mni_mm_tryget_ref - pin an entry's memory found by mni_mm_lookup_rcu()
 * @mmm: the entry, looked up in the RCU section the caller is still in
 *
 * Return: false if its last reference is gone (it is on its way out).
 */
bool mni_mm_tryget_ref(struct mni_mm *mmm)
{
	return kref_get_unless_zero(&mmm->ref);
}

/**
 * mni_mm_put_ref - unpin what mni_mm_tryget_ref() pinned
 * @mmm: the entry
 */
void mni_mm_put_ref(struct mni_mm *mmm)
{
	kref_put(&mmm->ref, mni_mm_free);
}

/**
 * mni_mm_for_each - call @visit on every entry in the registry
 * @visit: called under rcu_read_lock(), so it must not sleep
 * @arg: passed to @visit
 */
void mni_mm_for_each(mni_mm_visit_t visit, void *arg)
{
	struct mni_mm *mmm;
	unsigned int bkt;

	rcu_read_lock();
	hash_for_each_rcu(mni_registry, bkt, mmm, node)
		visit(mmm, arg);
	rcu_read_unlock();
}

/*
 * Move the notifiers out of the entry once: true for the one caller (the
 * last user or release) who must hand them back.
 */
static bool mni_mm_take_nbs(struct mni_mm *mmm)
{
	return !atomic_xchg(&mmm->nbs_put, 1);
}

#ifdef MNI_DEBUG_HOOKS
/*
 * Test builds only (make MNI_DEBUG_HOOKS=1, never the package): how long
 * release pauses between handing back start_nb and end_nb, so that a test
 * can put invalidations into the window where only end_nb is hooked
 * (mni_triggers' exit_vs_punch_hole). Read once per release.
 */
static unsigned int debug_release_window_ms;
module_param(debug_release_window_ms, uint, 0600);

static void mni_debug_release_window(void)
{
	msleep(debug_release_window_ms);
}
#else
static void mni_debug_release_window(void)
{
}
#endif

/*
 * Unhook both notifiers; their free_notifier runs after a grace period.
 * start_nb first: after it no start is recorded, and an end that finds no
 * record changes nothing (mni_itree_invalidate_end()). @release: called
 * from ->release, where a test build may widen the window between the two.
 */
static void mni_mm_put_nbs(struct mni_mm *mmm, bool release)
{
	mmu_notifier_put(&mmm->start_nb);
	if (release)
		mni_debug_release_window();
	mmu_notifier_put(&mmm->end_nb);
}

static int mni_nb_invalidate_start(struct mmu_notifier *nb,
				   const struct mmu_notifier_range *range)
{
	struct mni_mm *mmm = container_of(nb, struct mni_mm, start_nb);

	/*
	 * A failed start drops its own record: whether the core then calls
	 * end_nb's end (5.12 on) or not (before), nothing is left in flight.
	 */
	return mni_itree_invalidate_start(&mmm->itree, range);
}

static void mni_nb_invalidate_end(struct mmu_notifier *nb,
				  const struct mmu_notifier_range *range)
{
	struct mni_mm *mmm = container_of(nb, struct mni_mm, end_nb);

	mni_itree_invalidate_end(&mmm->itree, range);
}

/*
 * The mm is exiting (mm_users is zero) and the core is about to unhook every
 * classic notifier, so exit_mmap()'s own unmaps will never reach us: tell
 * every subscription now, then hand the notifiers back.
 */
static void mni_nb_release(struct mmu_notifier *nb, struct mm_struct *mm)
{
	struct mni_mm *mmm = container_of(nb, struct mni_mm, start_nb);

	mni_itree_release(&mmm->itree, mm);
	if (mni_mm_take_nbs(mmm))
		mni_mm_put_nbs(mmm, true);
}

/* SRCU callback context: must not sleep. */
static void mni_nb_free(struct mni_mm *mmm)
{
	kref_put(&mmm->ref, mni_mm_free);
}

static void mni_start_nb_free(struct mmu_notifier *nb)
{
	mni_nb_free(container_of(nb, struct mni_mm, start_nb));
}

static void mni_end_nb_free(struct mmu_notifier *nb)
{
	mni_nb_free(container_of(nb, struct mni_mm, end_nb));
}

static const struct mmu_notifier_ops mni_start_ops = {
	.invalidate_range_start = mni_nb_invalidate_start,
	.release = mni_nb_release,
	.free_notifier = mni_start_nb_free,
};

static const struct mmu_notifier_ops mni_end_ops = {
	.invalidate_range_end = mni_nb_invalidate_end,
	.free_notifier = mni_end_nb_free,
};

static int mni_mm_register_nb(struct mni_mm *mmm, struct mmu_notifier *nb)
{
	int ret;

	/* Dropped by free_notifier, after mmu_notifier_put(). */
	kref_get(&mmm->ref);
	ret = __mmu_notifier_register(nb, mmm->mm);
	if (ret)
		kref_put(&mmm->ref, mni_mm_free);
	return ret;
}

/* Teach lockdep that reclaim may run invalidations, as the core does. */
static void mni_lockdep_prime(void)
{
	if (!IS_ENABLED(CONFIG_LOCKDEP))
		return;
	fs_reclaim_acquire(GFP_KERNEL);
	lock_map_acquire(&mni_invalidate_map);
	lock_map_release(&mni_invalidate_map);
	fs_reclaim_release(GFP_KERNEL);
}

/*
 * end_nb goes in first. Registration runs mm_take_all_locks() with
 * mmap_lock held for write, so no invalidation is in flight while start_nb
 * is added and every start it records has its end seen too. In the window
 * between the two registrations no start is recorded, so an end seen there
 * finds no record and is ignored. The other order would let an rmap
 * walker's start be recorded with its end lost before end_nb existed.
 */
static int mni_mm_register(struct mni_mm *mmm)
{
	int ret;

	mni_lockdep_prime();
	ret = mni_mm_register_nb(mmm, &mmm->end_nb);
	if (ret)
		return ret;
	ret = mni_mm_register_nb(mmm, &mmm->start_nb);
	if (ret)
		goto err_put_end;
	return 0;

err_put_end:
	atomic_set(&mmm->nbs_put, 1);
	mmu_notifier_put(&mmm->end_nb);
	return ret;
}

/**
 * mni_mm_user_get_existing - take a user reference on @mm's entry if it has one
 * @mm: the address space
 *
 * Takes no lock: an entry whose users already dropped to zero is on its way
 * out and is passed over, and so may be an older one still unhooking.
 * Context: any.
 * Return: the entry, or NULL.
 */
struct mni_mm *mni_mm_user_get_existing(struct mm_struct *mm)
{
	struct mni_mm *mmm;

	rcu_read_lock();
	hash_for_each_possible_rcu(mni_registry, mmm, node, (unsigned long)mm)
		if (mmm->mm == mm && atomic_long_inc_not_zero(&mmm->users))
			break;
	rcu_read_unlock();
	/* A user, so the registry's reference keeps it from here. */
	return mmm;
}

/**
 * mni_mm_user_get_locked - take a user reference on @mm's entry, creating
 *			    it if needed
 * @mm: the address space; mm_users must be held non-zero by the caller
 *
 * Context: mmap_lock held for write, which also keeps two callers from
 * creating an entry for the same mm at once. May sleep.
 * Return: the entry or an ERR_PTR(): -ENOMEM, or what registration with the
 * core returned (-EINTR when a signal is pending).
 */
struct mni_mm *mni_mm_user_get_locked(struct mm_struct *mm)
{
	struct mni_mm *mmm;
	int ret;

	/*
	 * Not mmap_assert_write_locked(): under DEBUG_VM it calls dump_mm(),
	 * which 6.1 does not export to modules.
	 */
	lockdep_assert_held_write(&mm->mmap_lock);

	mmm = mni_mm_user_get_existing(mm);
	if (mmm)
		return mmm;

	mmm = kzalloc(sizeof(*mmm), GFP_KERNEL);
	if (!mmm)
		return ERR_PTR(-ENOMEM);
	ret = mni_itree_init(&mmm->itree, atomic_long_inc_return(&mni_next_id));
	if (ret)
		goto err_free;
	/* Leaves the list in mni_mm_free(), on every path from here. */
	spin_lock(&mni_stats_lock);
	list_add(&mmm->counted, &mni_counted);
	spin_unlock(&mni_stats_lock);
	mmm->start_nb.ops = &mni_start_ops;
	mmm->end_nb.ops = &mni_end_ops;
	mmm->mm = mm;
	atomic_long_set(&mmm->users, 1);
	mmm->pid = current->mm == mm ? task_tgid_nr(current) : 0;
	kref_init(&mmm->ref);

	ret = mni_mm_register(mmm);
	if (ret)
		goto err_put;

	spin_lock(&mni_registry_lock);
	hash_add_rcu(mni_registry, &mmm->node, (unsigned long)mm);
	spin_unlock(&mni_registry_lock);
	return mmm;

err_put:
	kref_put(&mmm->ref, mni_mm_free);
	return ERR_PTR(ret);
err_free:
	kfree(mmm);
	return ERR_PTR(ret);
}

/**
 * mni_mm_user_put - drop a user reference
 * @mmm: the entry
 *
 * The last one takes the entry out of the registry and, unless release did
 * already, hands the notifiers back to the core.
 * Context: any but NMI; takes mni_registry_lock only for the last one.
 */
void mni_mm_user_put(struct mni_mm *mmm)
{
	if (!atomic_long_dec_and_test(&mmm->users))
		return;

	/*
	 * The notifiers go below, so the end of an invalidation in flight may
	 * never come: a read_begin() asleep on a subscription unlinked with
	 * interrupts off (no wake then) must look again now.
	 */
	mni_itree_wake_readers(&mmm->itree);
	spin_lock(&mni_registry_lock);
	hash_del_rcu(&mmm->node);
	spin_unlock(&mni_registry_lock);

	if (mni_mm_take_nbs(mmm))
		mni_mm_put_nbs(mmm, false);
	/* The registry's reference: see mni_mm.ref. */
	kref_put(&mmm->ref, mni_mm_free);
}

atomic_long_t mni_puts_pending = ATOMIC_LONG_INIT(0);

/*
 * Entries with last-user puts to finish (mni_mm.deferred), and the work
 * that finishes them; flushed at module exit.
 */
static LLIST_HEAD(mni_mm_deferred);
static void mni_mm_defer_work(struct work_struct *work);
static DECLARE_WORK(mni_mm_defer, mni_mm_defer_work);

static void mni_mm_defer_work(struct work_struct *work)
{
	struct llist_node *list = llist_del_all(&mni_mm_deferred);
	struct mni_mm *mmm, *next;
	int n;

	/* Off the list first: a new deferral may queue @mmm again at once. */
	llist_for_each_entry_safe(mmm, next, list, defer_node) {
		for (n = atomic_xchg(&mmm->deferred, 0); n; n--) {
			mni_mm_user_put(mmm);
			/* The put subscription's mmgrab(), kept until here. */
			mmdrop(mmm->mm);
		}
		/* The reference the queueing took. */
		kref_put(&mmm->ref, mni_mm_free);
	}
}

/*
 * The end of @mmm's registration, and the subscription's mmgrab() it
 * carries, for mni_mm_defer_work(): only raw locks and queue_work() here,
 * which a non-blockable invalidation (non_block_start()) may take. The
 * caller holds the shared user reference, and so @mmm, until this.
 */
static void mni_mm_user_put_deferred(struct mni_mm *mmm)
{
	if (atomic_inc_return(&mmm->deferred) == 1) {
		kref_get(&mmm->ref);
		llist_add(&mmm->defer_node, &mni_mm_deferred);
	}
	queue_work(system_wq, &mni_mm_defer);
}

/*
 * @release, then what the put's insert took. @defer: the caller may not
 * take spinlock_t locks (an invalidation, possibly non-blockable: on
 * PREEMPT_RT they sleep; or interrupts are off), so a last user's end of
 * the registration goes to a work item.
 */
static void mni_mm_release_put(struct mni_itree *it,
			       struct mmu_interval_notifier *sub,
			       mni_release_t release, bool last, bool defer)
{
	struct mni_mm *mmm = container_of(it, struct mni_mm, itree);
	struct mm_struct *mm = sub->mm;

	/* The owner may free @sub now: nothing below reads it. */
	release(sub);
	if (last && defer) {
		mni_mm_user_put_deferred(mmm);
	} else {
		if (last)
			mni_mm_user_put(mmm);
		/* Pairs with mmgrab() in mni_mm_attach() or mni_mm_insert_used(). */
		mmdrop(mm);
	}
	/*
	 * Last: the put is done, deferral queued, once the consumer's
	 * mni_interval_notifier_put_barrier() sees it; module exit flushes
	 * that work after the consumer is gone.
	 */
	mni_put_pending_dec();
}

/**
 * mni_mm_put_done - a put subscription is out of the tree and no callback
 *			runs on it: hand it back, then drop what its insert took
 * @it: the engine it was in
 * @sub: the subscription
 * @release: its owner's release
 * @last: @sub was the engine's last user: drop the shared user reference
 *
 * For a put that unlinked at once, in the put's own context: from
 * interrupt context or with interrupts off, a last user's end of the
 * registration is deferred.
 * The put's caller with @last holds the shared user reference until it is
 * dropped here, and one without touches the entry no more.
 */
void mni_mm_put_done(struct mni_itree *it, struct mmu_interval_notifier *sub,
		     mni_release_t release, bool last)
{
	/*
	 * Not from interrupt context or with interrupts off, where a
	 * spinlock_t taken with them on elsewhere would spin for ever; on
	 * PREEMPT_RT, where spinlock_t sleeps, not with preemption off either
	 * (under a raw lock, say).
	 */
	mni_mm_release_put(it, sub, release, last,
			   !in_task() || irqs_disabled() ||
			   (IS_ENABLED(CONFIG_PREEMPT_RT) && !preemptible()));
}

/*
 * The engine's put-done callback: a walk let go of a put subscription last.
 * That walk may be non-blockable (the OOM reaper's, inside the core's
 * non_block_start()), so a last user's end of the registration, which
 * takes spinlock_t locks, is deferred. The notifier call that runs this
 * holds the entry (its notifiers' references).
 */
static void mni_mm_put_done_walk(struct mni_itree *it,
				 struct mmu_interval_notifier *sub,
				 mni_release_t release, bool last)
{
	mni_mm_release_put(it, sub, release, last, true);
}

/**
 * mni_mm_insert_used - insert into @mm's engine, if it is in use
 * @mm: the address space
 * @sub: as for mni_itree_insert()
 *
 * The fast path of every insert after the first: no user reference is
 * taken, the engine's shared one covers @sub (see mni_itree.nr_subs).
 * Context: any; does not sleep.
 * Return: true if @sub was inserted; false if @mm has no entry in use.
 */
bool mni_mm_insert_used(struct mm_struct *mm, struct mmu_interval_notifier *sub)
{
	struct mni_mm *mmm;
	bool done = false;

	/*
	 * Before @sub is visible. Pairs with mmdrop() below, in
	 * mni_interval_notifier_remove() or in mni_mm_put_done().
	 */
	mmgrab(mm);
	rcu_read_lock();
	hash_for_each_possible_rcu(mni_registry, mmm, node, (unsigned long)mm) {
		if (mmm->mm == mm && mni_itree_insert_used(&mmm->itree, sub)) {
			done = true;
			break;
		}
	}
	rcu_read_unlock();
	if (!done)
		mmdrop(mm);
	return done;
}

/**
 * mni_mm_attach - insert into an entry the caller holds a user reference on
 * @mmm: the entry, from mni_mm_user_get_existing() or _locked()
 * @sub: as for mni_itree_insert()
 *
 * Hands the caller's user reference over: it becomes the engine's shared
 * one, or is dropped when the engine has that already.
 */
void mni_mm_attach(struct mni_mm *mmm, struct mmu_interval_notifier *sub)
{
	/*
	 * Before @sub is visible. Pairs with mmdrop() in
	 * mni_interval_notifier_remove() or in mni_mm_put_done().
	 */
	mmgrab(sub->mm);
	/* Not the first user: the engine holds the shared one already. */
	if (!mni_itree_insert(&mmm->itree, sub))
		mni_mm_user_put(mmm);
}

/**
 * mni_mm_pin - make a user reference a pre-registration
 * @mmm: the entry, with a user reference the caller hands over
 */
void mni_mm_pin(struct mni_mm *mmm)
{
	/* Not the first user: the engine holds the shared one already. */
	if (!mni_itree_hold(&mmm->itree))
		mni_mm_user_put(mmm);
}

/**
 * mni_mm_unpin - take back a pre-registration of @mm
 * @mm: the address space
 *
 * When it was the engine's last user, this ends the registration.
 * Return: 0, or -ENOENT if @mm has no pre-registration.
 */
int mni_mm_unpin(struct mm_struct *mm)
{
	struct mni_mm *mmm;
	int ret = -ENOENT;

	rcu_read_lock();
	hash_for_each_possible_rcu(mni_registry, mmm, node, (unsigned long)mm) {
		if (mmm->mm != mm)
			continue;
		ret = mni_itree_unhold(&mmm->itree);
		if (ret >= 0)
			break;
	}
	rcu_read_unlock();
	/* The last user's shared reference keeps the entry until here. */
	if (ret > 0)
		mni_mm_user_put(mmm);
	return ret < 0 ? ret : 0;
}

/*
 * Take any entry out of the registry, or return NULL when it is empty.
 * @put_nbs: set when the caller must hand the notifiers back.
 */
static struct mni_mm *mni_mm_pop(bool *put_nbs)
{
	struct mni_mm *mmm = NULL;
	unsigned int bkt;

	spin_lock(&mni_registry_lock);
	hash_for_each(mni_registry, bkt, mmm, node)
		break;
	if (mmm)
		hash_del_rcu(&mmm->node);
	spin_unlock(&mni_registry_lock);
	if (mmm)
		*put_nbs = mni_mm_take_nbs(mmm);
	return mmm;
}

/**
 * mni_mm_init - module init: tell the engine how a put subscription ends
 *
 * Before any entry, and so any engine, exists.
 */
void mni_mm_init(void)
{
	mni_itree_set_put_done(mni_mm_put_done_walk);
}

/**
 * mni_mm_exit - module exit: no entry may outlive the module
 *
 * Consumers pin this module while they are loaded, so an entry left here
 * belongs to a consumer that unloaded without removing its subscriptions.
 * Their memory is gone: unhook the notifiers so no callback can reach it,
 * make the engine forget them without reading them, drop the mm references
 * they held, and drop the registry's reference. Then wait for every
 * free_notifier this module queued. The caller still owes an rcu_barrier()
 * for the frees those end in.
 */
void mni_mm_exit(void)
{
	struct mni_itree_info info;
	struct mni_mm *mmm;
	unsigned long n;
	bool put_nbs;

	/*
	 * Registrations that last-user puts left to end. No more come: a put
	 * queues its deferral before its pending count drops, which the
	 * consumer's mni_interval_notifier_put_barrier() waits for before
	 * it unloads, and the consumer pins this module until then.
	 */
	flush_work(&mni_mm_defer);
	while ((mmm = mni_mm_pop(&put_nbs))) {
		if (put_nbs)
			mni_mm_put_nbs(mmm, false);
		mni_itree_abandon(&mmm->itree, &info);
		pr_warn("mni: mm %lu (pid %d): %lu subscription(s) never removed, %lu pre-registration(s) never put; forgetting them\n",
			mmm->itree.id, mmm->pid, info.subscriptions,
			info.holds);
		/*
		 * Pairs with the mmgrab() of each insert and mni_mm_get();
		 * out of the registry now, so nothing takes a user any more.
		 */
		for (n = info.subscriptions + info.holds; n; n--)
			mmdrop(mmm->mm);
		/* The registry's reference: see mni_mm.ref. */
		kref_put(&mmm->ref, mni_mm_free);
	}

	/* Runs every free_notifier queued above and by earlier puts. */
	mmu_notifier_synchronize();
}
