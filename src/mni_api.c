// SPDX-License-Identifier: GPL-2.0
/*
 * mni_api.c - the exported interval notifier API
 *
 * Argument checks and the messages that name a misbehaving caller live
 * here; the engine itself is in mni_itree.c and mni_mm.c.
 */
#include <linux/delay.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/sched/mm.h>

#include "mni.h"
#include "mni_kcompat.h"
#include "mni_mm.h"

/* @caller: the _RET_IP_ of the exported function the caller called. */
#define mni_caller_err(ops, caller, fmt, ...)				\
	pr_err_ratelimited("mni: %ps (from %pS): " fmt "\n", ops,	\
			   (void *)(caller), ##__VA_ARGS__)

/*
 * Is this a call from interrupt context (hardirq, softirq, NMI), which
 * insert and update refuse? They may allocate, and an insert may begin an
 * mm's registration, which sleeps. An inline test of the preempt count.
 */
static bool mni_in_interrupt(const struct mmu_interval_notifier_ops *ops,
			     const char *what, unsigned long caller)
{
	if (likely(in_task()))
		return false;
	mni_caller_err(ops, caller, "%s from interrupt context", what);
	return true;
}

/*
 * Is this a call from an NMI handler, which put and set_owner refuse? They
 * take the engine lock, which an NMI may have interrupted; from any other
 * context they are fine (the lock is taken with interrupts off, and the
 * end of a registration goes to a work item there).
 */
static bool mni_in_nmi(const struct mmu_interval_notifier_ops *ops,
		       const char *what, unsigned long caller)
{
	if (likely(!in_nmi()))
		return false;
	mni_caller_err(ops, caller, "%s from NMI context", what);
	return true;
}

/*
 * Checks common to every insert; fills in @sub on success. @fault: why
 * @ops cannot be called, found by the caller for its kind of ops, or NULL.
 */
static int mni_prepare(struct mmu_interval_notifier *sub, struct mm_struct *mm,
		       unsigned long start, unsigned long length,
		       const struct mmu_interval_notifier_ops *ops,
		       const char *fault, unsigned long caller)
{
	unsigned long last;

	if (mni_in_interrupt(ops, "insert", caller))
		return -EINVAL;
	if (!sub || !mm) {
		mni_caller_err(ops, caller, "insert with NULL %s",
			       sub ? "mm" : "subscription");
		return -EINVAL;
	}
	if (fault) {
		mni_caller_err(ops, caller, "insert with %s", fault);
		return -EINVAL;
	}
	/* The tree holds closed intervals: [start, last]. */
	if (!length || check_add_overflow(start, length - 1, &last)) {
		mni_caller_err(ops, caller, "insert of %s range [%#lx, +%#lx)",
			       length ? "wrapping" : "empty", start, length);
		return -EOVERFLOW;
	}
	/*
	 * The caller must hold mm_users (mmget(), or current->mm): the core
	 * BUG()s when registering on an mm without users.
	 */
	if (atomic_read(&mm->mm_users) <= 0) {
		mni_caller_err(ops, caller, "insert on an mm that has no users left");
		return -EINVAL;
	}

	sub->interval_tree.start = start;
	sub->interval_tree.last = last;
	sub->ops = ops;
	sub->mm = mm;
	return 0;
}

/* Why plain-insert @ops cannot be called, or NULL if they can. */
static const char *mni_plain_fault(const struct mmu_interval_notifier_ops *ops)
{
	return ops ? mni_ops_fault(ops) : "NULL ops";
}

/*
 * Why two-pass @ops cannot be called, or NULL if they can. A base with a
 * callback of its own would make the engine take them for the kernel's
 * kind (mni_sub.c), so it is refused as well.
 */
static const char *
mni_two_pass_fault(const struct mni_interval_notifier_ops *ops)
{
	if (!ops)
		return "NULL two-pass ops";
	if (!ops->invalidate_start)
		return "two-pass ops without invalidate_start";
	if (!ops->invalidate_finish)
		return "two-pass ops without invalidate_finish";
	if (!mni_ops_is_bare(&ops->base))
		return "two-pass ops whose base has a callback";
	return NULL;
}

/* Every insert: @locked says the caller holds @mm's mmap_lock for write. */
static int mni_insert(struct mmu_interval_notifier *sub, struct mm_struct *mm,
		      unsigned long start, unsigned long length,
		      const struct mmu_interval_notifier_ops *ops,
		      const char *fault, bool locked, unsigned long caller)
{
	struct mni_mm *mmm;
	int ret;

	ret = mni_prepare(sub, mm, start, length, ops, fault, caller);
	if (ret)
		return ret;

	if (locked) {
		mmm = mni_mm_user_get_locked(mm);
	} else {
		/* The fast path: the engine is in use, nothing to take. */
		if (mni_mm_insert_used(mm, sub))
			return 0;
		mmm = mni_mm_user_get_existing(mm);
		if (!mmm) {
			might_lock(&mm->mmap_lock);
			mmap_write_lock(mm);
			mmm = mni_mm_user_get_locked(mm);
			mmap_write_unlock(mm);
		}
	}
	if (IS_ERR(mmm))
		return PTR_ERR(mmm);
	mni_mm_attach(mmm, sub);
	return 0;
}

/**
 * mni_interval_notifier_insert - Insert an interval notifier
 * @interval_sub: Interval subscription to register
 * @mm: mm_struct to attach to; the caller holds mm_users (mmget() or
 *	current->mm)
 * @start: Starting virtual address to monitor
 * @length: Length of the range to monitor
 * @ops: Interval notifier operations: @ops->invalidate, or from 7.1
 *	@ops->invalidate_start with @ops->invalidate_finish
 *
 * Every invalidation of @mm's CPU page tables that overlaps
 * [@start, @start + @length) and starts after this returns calls
 * @ops->invalidate, until mni_interval_notifier_remove() is called. Ones
 * already in flight when this returns do not call it; instead the first
 * mni_interval_read_begin() waits for those that overlap the range to
 * end. A fault path pairs mni_interval_read_begin() with
 * mmu_interval_read_retry(). The insert itself never waits for an
 * invalidation.
 *
 * The first insert on an mm registers this module with the core, which
 * takes mmap_lock for write, unless mni_mm_get() registered @mm already:
 * then the insert takes no lock but the engine's own spinlock, allocates
 * nothing, and may be called with mmap_lock held for read (from a fault
 * handler) or in any task context that may not sleep (not from a hardirq,
 * softirq or NMI handler: -EINVAL).
 *
 * Context: process context, may sleep; must not hold @mm's mmap_lock
 * unless @mm is pre-registered with mni_mm_get().
 * Return: 0; -EOVERFLOW for an empty or wrapping range; -EINVAL for NULL
 * arguments, ops without a callback, an mm without users or a call from
 * interrupt context; -ENOMEM; or
 * -EINTR when a signal interrupted the first registration on @mm (never
 * on a pre-registered mm).
 */
int mni_interval_notifier_insert(struct mmu_interval_notifier *interval_sub,
				 struct mm_struct *mm, unsigned long start,
				 unsigned long length,
				 const struct mmu_interval_notifier_ops *ops)
{
	return mni_insert(interval_sub, mm, start, length, ops,
			  mni_plain_fault(ops), false,
			  _RET_IP_);
}
EXPORT_SYMBOL_NS_GPL(mni_interval_notifier_insert, MNI_NS);

/**
 * mni_interval_notifier_insert_locked - Insert an interval notifier
 * @interval_sub: Interval subscription to register
 * @mm: mm_struct to attach to; the caller holds mm_users
 * @start: Starting virtual address to monitor
 * @length: Length of the range to monitor
 * @ops: Interval notifier operations: @ops->invalidate, or from 7.1
 *	@ops->invalidate_start with @ops->invalidate_finish
 *
 * As mni_interval_notifier_insert(), for a caller that already holds
 * @mm's mmap_lock for write.
 *
 * Context: process context, may sleep; mmap_lock held for write.
 * Return: as mni_interval_notifier_insert().
 */
int mni_interval_notifier_insert_locked(struct mmu_interval_notifier *interval_sub,
					struct mm_struct *mm,
					unsigned long start,
					unsigned long length,
					const struct mmu_interval_notifier_ops *ops)
{
	return mni_insert(interval_sub, mm, start, length, ops,
			  mni_plain_fault(ops), true,
			  _RET_IP_);
}
EXPORT_SYMBOL_NS_GPL(mni_interval_notifier_insert_locked, MNI_NS);

/**
 * mni_interval_notifier_insert_two_pass - Insert an interval notifier with
 *					   mni's two-pass ops
 * @interval_sub: Interval subscription to register
 * @mm: mm_struct to attach to; the caller holds mm_users (mmget() or
 *	current->mm)
 * @start: Starting virtual address to monitor
 * @length: Length of the range to monitor
 * @ops: two-pass operations: @ops->invalidate_start and
 *	@ops->invalidate_finish, and no callback in @ops->base
 *
 * As mni_interval_notifier_insert(), on every kernel, but each
 * invalidation that overlaps the range calls @ops->invalidate_start
 * during its pass over the subscriptions, and then, for each start that
 * handed back a finish, @ops->invalidate_finish once the whole pass is
 * over (also after a refusal of a later subscription in non-blockable
 * context) and before the invalidation ends, so mni_interval_read_begin()
 * waits for the finish too. The engine stores &@ops->base in
 * @interval_sub->ops and allocates no finish: the driver hands back its
 * own (struct mni_interval_notifier_finish), preallocated so that a
 * non-blockable pass allocates nothing. mni_interval_notifier_remove()
 * and mni_interval_notifier_put() wait for or defer past a pending finish
 * as for a running callback.
 *
 * Context: as mni_interval_notifier_insert().
 * Return: as mni_interval_notifier_insert(); -EINVAL (and a rate-limited
 * message naming the caller) for NULL @ops, ops without a start or a
 * finish, or a base with a callback.
 */
int mni_interval_notifier_insert_two_pass(struct mmu_interval_notifier *interval_sub,
					  struct mm_struct *mm,
					  unsigned long start,
					  unsigned long length,
					  const struct mni_interval_notifier_ops *ops)
{
	return mni_insert(interval_sub, mm, start, length,
			  ops ? &ops->base : NULL, mni_two_pass_fault(ops),
			  false, _RET_IP_);
}
EXPORT_SYMBOL_NS_GPL(mni_interval_notifier_insert_two_pass, MNI_NS);

/**
 * mni_interval_notifier_insert_two_pass_locked - Insert an interval
 *						  notifier with mni's
 *						  two-pass ops
 * @interval_sub: Interval subscription to register
 * @mm: mm_struct to attach to; the caller holds mm_users
 * @start: Starting virtual address to monitor
 * @length: Length of the range to monitor
 * @ops: two-pass operations, as for mni_interval_notifier_insert_two_pass()
 *
 * As mni_interval_notifier_insert_two_pass(), for a caller that already
 * holds @mm's mmap_lock for write.
 *
 * Context: process context, may sleep; mmap_lock held for write.
 * Return: as mni_interval_notifier_insert_two_pass().
 */
int mni_interval_notifier_insert_two_pass_locked(struct mmu_interval_notifier *interval_sub,
						 struct mm_struct *mm,
						 unsigned long start,
						 unsigned long length,
						 const struct mni_interval_notifier_ops *ops)
{
	return mni_insert(interval_sub, mm, start, length,
			  ops ? &ops->base : NULL, mni_two_pass_fault(ops),
			  true, _RET_IP_);
}
EXPORT_SYMBOL_NS_GPL(mni_interval_notifier_insert_two_pass_locked, MNI_NS);

/**
 * mni_mm_get - pre-register an mm, so that inserts on it never register
 * @mm: the address space; the caller holds mm_users (mmget(), or
 *	current->mm), as in a driver's open()
 *
 * Registers this module with the core for @mm, if no subscription or
 * earlier mni_mm_get() did already, and keeps the registration until the
 * matching mni_mm_put(), whatever subscriptions come and go. Meanwhile
 * mni_interval_notifier_insert() on @mm takes no mmap_lock, allocates
 * nothing and cannot fail for want of a registration: a fault handler
 * holding mmap_lock for read may insert. Calls nest: each needs its own
 * mni_mm_put().
 *
 * Context: process context, may sleep; must not hold @mm's mmap_lock.
 * Return: 0; -EINVAL for a NULL @mm or one without users; -ENOMEM; or
 * -EINTR when a signal interrupted the registration.
 */
int mni_mm_get(struct mm_struct *mm)
{
	struct mni_mm *mmm;

	if (!mm || atomic_read(&mm->mm_users) <= 0) {
		mni_caller_err(NULL, _RET_IP_, "%s on %s",
			       __func__, mm ? "an mm without users" : "NULL");
		return -EINVAL;
	}
	mmm = mni_mm_user_get_existing(mm);
	if (!mmm) {
		might_lock(&mm->mmap_lock);
		mmap_write_lock(mm);
		mmm = mni_mm_user_get_locked(mm);
		mmap_write_unlock(mm);
		if (IS_ERR(mmm))
			return PTR_ERR(mmm);
	}
	/* Pairs with mmdrop() in mni_mm_put(). */
	mmgrab(mm);
	mni_mm_pin(mmm);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(mni_mm_get, MNI_NS);

/**
 * mni_mm_put - end a pre-registration made by mni_mm_get()
 * @mm: the address space
 *
 * Ends one mni_mm_get() of @mm. The registration with the core ends when
 * the last pre-registration is put and no subscription of @mm is left;
 * subscriptions still inserted keep working. Works after @mm has exited.
 * A put without a matching get changes nothing and is refused with a
 * rate-limited message.
 *
 * Context: process context; does not sleep.
 * Return: 0, or -EINVAL when @mm is NULL or has no pre-registration left.
 */
int mni_mm_put(struct mm_struct *mm)
{
	if (!mm || mni_mm_unpin(mm)) {
		mni_caller_err(NULL, _RET_IP_, "%s of %s",
			       __func__,
			       mm ? "an mm not pre-registered (put twice?)" : "NULL");
		return -EINVAL;
	}
	/* Pairs with mmgrab() in mni_mm_get(). */
	mmdrop(mm);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(mni_mm_put, MNI_NS);

/**
 * mni_interval_notifier_remove - Remove an interval notifier
 * @interval_sub: Interval subscription to unregister
 *
 * When this returns, no callback runs on @interval_sub and none will
 * (nor a second pass of two-pass ops), so its memory may be freed. It
 * waits only while the walk of an invalidation that overlaps
 * @interval_sub still holds it: its callback runs, or is due later in the
 * walk's current round (at most 16 callbacks, which skip it once they
 * see it dying), or, with two-pass ops, until the second passes of a
 * walk that may have called it have run (also when it moved since). It
 * never waits for other invalidations of the mm or for their ends. The
 * caller must not hold a lock that its own invalidate callback takes.
 * Works after the mm has exited.
 *
 * From inside a blockable callback (or a second pass) of this module's
 * subscriptions, it never waits for that callback's own invalidation: a
 * callback may remove another subscription, and its own (it must touch
 * it no more once this returns; a two-pass start that removes its own
 * subscription gets no second pass), and a second pass that invalidation
 * still owes the removed subscription runs in this call, before it
 * returns. It may still wait for another invalidation whose walk holds
 * the subscription: two invalidations whose callbacks remove each other's
 * subscriptions wait for each other for ever, which nothing detects. So
 * inside callbacks prefer mni_interval_notifier_put(), which never waits;
 * from a non-blockable callback, remove() is not allowed at all.
 *
 * A subscription this module did not insert (for example one of the
 * kernel's own engine), or one already removed, is refused with a
 * rate-limited message and left untouched: it is looked up in this
 * module's tree by its range, and no other field of it is read.
 *
 * Context: process context, may sleep; also a blockable callback.
 */
void mni_interval_notifier_remove(struct mmu_interval_notifier *interval_sub)
{
	struct mni_mm *mmm;
	struct mm_struct *mm;
	int ret = -ENOENT;
	bool last = false;

	might_sleep();
	if (!interval_sub) {
		mni_caller_err(NULL, _RET_IP_,
			       "remove of a NULL subscription");
		return;
	}
	mm = interval_sub->mm;

	/* Before any wait for callbacks, as the core does its own. */
	mni_itree_remove_annotate();
	/* RCU: a stranger's entry may be freed under us otherwise. */
	rcu_read_lock();
	mmm = mni_mm_lookup_rcu(mm);
	if (mmm)
		ret = mni_itree_remove_begin(&mmm->itree, interval_sub, &last);
	rcu_read_unlock();
	if (ret < 0) {
		mni_caller_err(interval_sub->ops, _RET_IP_,
			       "remove of a subscription not inserted here, or removed twice");
		return;
	}
	/*
	 * From here, until it is unlinked, @interval_sub keeps the shared
	 * user reference, and so @mmm; with @last, it is ours to drop.
	 */
	if (ret > 0)
		last = mni_itree_remove_wait(&mmm->itree, interval_sub);

	if (last)
		mni_mm_user_put(mmm);
	/* Pairs with mmgrab() in mni_mm_attach() or mni_mm_insert_used(). */
	mmdrop(mm);
}
EXPORT_SYMBOL_NS_GPL(mni_interval_notifier_remove, MNI_NS);

/**
 * mni_interval_notifier_put - Remove an interval notifier without waiting
 * @interval_sub: Interval subscription to unregister
 * @release: called once no callback can run on @interval_sub any more
 *
 * Takes @interval_sub out of its mm and hands it back through @release,
 * exactly once, when no callback runs on it and none can start: at once,
 * from this call, when no invalidation holds it; otherwise from the
 * invalidation that lets go of it last, as soon as its walk has passed
 * it (after the current round of at most 16 callbacks, or after the
 * second passes of two-pass ops). From this call until @release, the
 * subscription belongs to the engine: its owner must not free, reinsert
 * or otherwise touch it, and callbacks already collected for it may still
 * run. This never waits, so it may be called from the subscription's own
 * callback (to destroy a range on munmap, say), from another
 * subscription's callback, in atomic context (under a spinlock, with
 * interrupts off), and from a hardirq or softirq handler (a dma_fence
 * callback, a timer); not from an NMI handler, where it is refused.
 *
 * Why this is safe where a non-blocking remove is not: the memory is
 * freed by @release, which the engine calls only after every callback
 * that could touch it has returned, so no caller can free too early;
 * there is no lookup that hands out pointers to subscriptions, so no
 * reference outlives it unnoticed; and a second put or a remove of a
 * put subscription is refused, not raced.
 *
 * @release runs in the context of this call or of the invalidation that
 * held @interval_sub last (which may be non-blockable: the OOM reaper's):
 * it must not sleep, nor take a lock that the subscription's own callbacks
 * take around this call. It may free the subscription: no callback and no
 * second pass runs on it once @release is called, and a read_begin()
 * asleep on it returns a collision without reading it again. Every call
 * the driver itself makes with @interval_sub needs its memory, though,
 * read_begin() and read_retry() included: a fault path that may run while
 * it is put (its own callback may put it on munmap) must hold a reference
 * from before its read_begin() to after its last read_retry(), which
 * @release drops, rather than @release freeing outright. When the
 * subscription was the mm's last user (no other subscription and no
 * mni_mm_get() left), the mm's registration ends too: in this call, or,
 * from an invalidation, from interrupt context or with interrupts off, in
 * a work item of this module, since it takes spinlock_t locks.
 *
 * @release is the caller's code, called later: a consumer module calls
 * mni_interval_notifier_put_barrier() after its last put, before it
 * unloads.
 *
 * Context: any but NMI; does not sleep.
 * Return: 0; -EINVAL for a NULL subscription or @release, or a call from
 * NMI context; -ENOENT for a subscription this module did not insert, or
 * one already removed or put.
 */
int mni_interval_notifier_put(struct mmu_interval_notifier *interval_sub,
			      void (*release)(struct mmu_interval_notifier *sub))
{
	struct mni_mm *mmm;
	int ret = -ENOENT;
	bool last = false;

	if (!interval_sub || !release) {
		mni_caller_err(interval_sub ? interval_sub->ops : NULL,
			       _RET_IP_, "put with NULL %s",
			       release ? "subscription" : "release");
		return -EINVAL;
	}
	if (mni_in_nmi(interval_sub->ops, "put", _RET_IP_))
		return -EINVAL;

	/* Until @release has returned (mni_mm_put_done()). */
	mni_put_pending_inc();
	/* RCU, as in mni_interval_notifier_remove(). */
	rcu_read_lock();
	mmm = mni_mm_lookup_rcu(interval_sub->mm);
	if (mmm)
		ret = mni_itree_put(&mmm->itree, interval_sub, release, &last);
	rcu_read_unlock();
	if (ret < 0) {
		mni_put_pending_dec();
		mni_caller_err(interval_sub->ops, _RET_IP_,
			       "put of a subscription not inserted here, or removed or put already");
		return -ENOENT;
	}
	/* Unlinked: with @last, the shared user reference keeps @mmm. */
	if (!ret)
		mni_mm_put_done(&mmm->itree, interval_sub, release, last);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(mni_interval_notifier_put, MNI_NS);

/**
 * mni_interval_notifier_put_barrier - wait for the releases of puts
 *
 * Returns once every @release handed to mni_interval_notifier_put() before
 * this call has returned (puts of every consumer, and those made meanwhile
 * too: the wait ends when none is left). An invalidation calls @release
 * later, from the consumer's own code, so a consumer module calls this
 * after its last put and before it unloads.
 *
 * Context: process context, may sleep; not from a callback (a release
 * the caller's own invalidation holds would never come).
 */
void mni_interval_notifier_put_barrier(void)
{
	might_sleep();
	while (mni_put_pending())
		usleep_range(1000, 2000);
}
EXPORT_SYMBOL_NS_GPL(mni_interval_notifier_put_barrier, MNI_NS);

/**
 * mni_interval_notifier_update - Move an interval notifier to another range
 * @interval_sub: an inserted interval subscription
 * @start: Starting virtual address of the new range
 * @length: Length of the new range
 *
 * Changes the range @interval_sub monitors to [@start, @start + @length)
 * atomically, in place of a remove and an insert, which leave a window
 * where an invalidation calls neither subscription. Every invalidation
 * whose pass is calling subscriptions when this runs and that overlaps the
 * old or the new range calls @interval_sub exactly once; each one that
 * starts after this returns calls it as the new range says. The next
 * read_begin() waits for the invalidations in flight over the new range,
 * and the new range's part that the old one did not cover holds no device
 * mapping the subscription made.
 *
 * What the driver must do, for the reads and mappings of the old range:
 *
 * - Call this under the lock its invalidate callback and its
 *   mmu_interval_read_retry() take (the driver lock). Only then does a
 *   read begun before the update see a collision: read_retry() is a plain
 *   read, ordered against this update's new sequence by that lock alone;
 *   without it a fault can pass read_retry() just before the update and
 *   map into the part being left after it.
 * - In that same critical section, unmap the device mappings in the part
 *   of the old range the new one leaves, unless another subscription,
 *   inserted over that part before this call, takes them over.
 * - Such a hand-over is safe only if the callback tears down what was
 *   mapped over the whole range it is given: an invalidation already
 *   running when this is called may call @interval_sub after it returns,
 *   with a range->start..range->end in the part it no longer covers, and
 *   does not call the subscription inserted over that part (it began
 *   before that insert). A callback that clips to its subscription's
 *   current range, or keeps its mappings per subscription, would leave
 *   the handed-over mappings in place: such a driver unmaps the part here
 *   instead and lets the new subscription fault it back in.
 *
 * Updates of one subscription (or an update racing with its remove or put)
 * are serialised by the engine: each is whole, the last one wins, and a
 * walk never sees half of one. It never waits, so it may be called
 * wherever insert may, from a callback (its own subscription's too), and
 * under locks the callbacks take. It allocates (without reclaim) only
 * when an invalidation whose pass is running still owes @interval_sub a
 * callback and the engine's spare entries for those are used up. On
 * PREEMPT_RT that allocation takes sleeping locks: there, do not call it
 * under a raw spinlock or from a non-blockable callback. A read_begin()
 * asleep for an invalidation the move takes the subscription out of is
 * woken (with interrupts off, only at that invalidation's end).
 *
 * Context: task context, atomic or not, not from a hardirq, softirq or
 * NMI handler (on PREEMPT_RT, see above); does not sleep.
 * Return: 0; -EINVAL for a NULL subscription or a call from interrupt
 * context; -EOVERFLOW for an empty or
 * wrapping range; -ENOENT for a subscription this module did not insert,
 * or one removed or put; -ENOMEM (the subscription keeps its old range).
 */
int mni_interval_notifier_update(struct mmu_interval_notifier *interval_sub,
				 unsigned long start, unsigned long length)
{
	unsigned long caller = _RET_IP_;
	struct mni_mm *mmm;
	unsigned long last;
	int ret = -ENOENT;

	if (!interval_sub) {
		mni_caller_err(NULL, caller, "update of a NULL subscription");
		return -EINVAL;
	}
	if (mni_in_interrupt(interval_sub->ops, "update", caller))
		return -EINVAL;
	if (!length || check_add_overflow(start, length - 1, &last)) {
		mni_caller_err(interval_sub->ops, caller,
			       "update to %s range [%#lx, +%#lx)",
			       length ? "wrapping" : "empty", start, length);
		return -EOVERFLOW;
	}
	/* RCU: a stranger's entry may be freed under us otherwise. */
	rcu_read_lock();
	mmm = mni_mm_lookup_rcu(interval_sub->mm);
	if (mmm)
		ret = mni_itree_update(&mmm->itree, interval_sub, start, last);
	rcu_read_unlock();
	if (ret == -ENOENT)
		mni_caller_err(interval_sub->ops, caller,
			       "update of a subscription not inserted here, or removed or put");
	return ret;
}
EXPORT_SYMBOL_NS_GPL(mni_interval_notifier_update, MNI_NS);

/**
 * mni_interval_notifier_set_owner - let a device's own migrations skip a
 *				     subscription
 * @interval_sub: an inserted interval subscription
 * @owner: the device's owner pointer (what it passes as pgmap_owner to
 *	migrate_vma_setup(), or as owner to make_device_exclusive()); NULL
 *	for none, the default
 *
 * From the next invalidation on, an MMU_NOTIFY_MIGRATE or
 * MMU_NOTIFY_EXCLUSIVE invalidation whose range->owner is @owner does not
 * call @interval_sub, and mni_interval_read_begin() on it neither waits
 * for it nor reports a collision for it: the device moved or locked the
 * pages itself and keeps its mapping. Every other invalidation calls it
 * as before. Drivers test this by hand in their callbacks today.
 *
 * Such an invalidation of @owner already in flight skips @interval_sub
 * too if it has not reached it yet, and then a read_begin() asleep for it
 * is woken (with interrupts off, only at its end); one that has reached it
 * calls it, and read_begin() keeps waiting for its end.
 *
 * Context: any but NMI (hardirq and softirq handlers included); does not
 * sleep.
 * Return: 0; -EINVAL for a NULL subscription or a call from NMI context;
 * -ENOENT for a subscription this module did not insert, or one being
 * removed or put.
 */
int mni_interval_notifier_set_owner(struct mmu_interval_notifier *interval_sub,
				    void *owner)
{
	struct mni_mm *mmm;
	int ret = -ENOENT;

	if (!interval_sub) {
		mni_caller_err(NULL, _RET_IP_,
			       "set_owner of a NULL subscription");
		return -EINVAL;
	}
	if (mni_in_nmi(interval_sub->ops, "set_owner", _RET_IP_))
		return -EINVAL;
	/* RCU: a stranger's entry may be freed under us otherwise. */
	rcu_read_lock();
	mmm = mni_mm_lookup_rcu(interval_sub->mm);
	if (mmm)
		ret = mni_itree_set_owner(&mmm->itree, interval_sub, owner);
	rcu_read_unlock();
	if (ret)
		mni_caller_err(interval_sub->ops, _RET_IP_,
			       "set_owner of a subscription not inserted here, or going");
	return ret;
}
EXPORT_SYMBOL_NS_GPL(mni_interval_notifier_set_owner, MNI_NS);

/*
 * The read side of all three read_begin()s. -ENOENT: @sub is not in this
 * module's tree; -ESTALE: a remove or put of it has begun, or did while we
 * slept; @seq is then a collision, and @sub must not be read any more.
 *
 * Once the sample says to wait, @sub may leave the tree and be freed by a
 * put's release while this sleeps (its own callback may put it), and its
 * mm's entry with it when it was the last user: the reader registered with
 * the sample learns of the unlink and never reads @sub again, and a
 * reference on the entry, taken in the same RCU section as the lookup,
 * keeps the engine until the wait is over.
 */
static int mni_read_begin(struct mmu_interval_notifier *sub, long timeout,
			  bool killable, unsigned long *seq)
{
	struct mni_reader reader;
	struct mni_mm *mmm;
	int ret = -ENOENT;

	/* Before any sleep, as the core does: see mni_invalidate_map. */
	lock_map_acquire(&mni_invalidate_map);
	lock_map_release(&mni_invalidate_map);

	/* RCU, as in mni_interval_notifier_remove(). */
	rcu_read_lock();
	mmm = mni_mm_lookup_rcu(sub->mm);
	if (mmm && mni_itree_read_unlocked(&mmm->itree, sub, seq))
		ret = 0;
	else if (mmm)
		ret = mni_itree_read_prepare(&mmm->itree, sub, seq, &reader);
	if (ret == -EAGAIN && !mni_mm_tryget_ref(mmm)) {
		/* Its last reference is gone: so is @sub from its tree. */
		mni_itree_read_cancel(&mmm->itree, &reader);
		*seq = MNI_SEQ_GONE;
		ret = -ESTALE;
	}
	rcu_read_unlock();
	if (ret == -ENOENT && !mmm)
		*seq = mni_itree_collision_seq(sub);
	if (ret != -EAGAIN)
		return ret;
	ret = mni_itree_read_wait(&mmm->itree, &reader, timeout, killable, seq);
	mni_mm_put_ref(mmm);
	return ret;
}

/**
 * mni_interval_read_begin - Begin a read side critical section against a VA
 *			     range
 * @interval_sub: The interval subscription
 *
 * Starts a collision-retry read section, like a seqcount read side but
 * one that may sleep: while an invalidation that overlaps @interval_sub is
 * between its start and its end, it waits, and it returns when the last of
 * those ends, whatever other invalidations of the mm are in flight. The
 * caller then reads the CPU page tables (for example with
 * hmm_range_fault()), takes the lock its invalidate callback takes, and
 * checks mmu_interval_read_retry() before exposing the result.
 *
 * Once the mm's release has begun it returns at once, with a sequence
 * that mmu_interval_read_retry() and mmu_interval_check_retry() always
 * report as a collision: no device mapping can be made after release.
 *
 * A remove or put of @interval_sub may begin meanwhile, from its own
 * callback too: this then returns at once with a sequence that always
 * collides (after a put made with interrupts off, from a hardirq handler
 * say, at the end of the invalidation it waits for), and once the engine
 * has unlinked @interval_sub it never reads it again, even while it
 * sleeps. The caller must still keep its memory
 * valid from this call until its last mmu_interval_read_retry() or
 * mmu_interval_check_retry() on it (a reference the fault path holds and
 * a put's release drops, say): both read it.
 *
 * Context: process context, may sleep; must not hold a lock that the
 * invalidate callback takes.
 * Return: the sequence to pass to mmu_interval_read_retry() and
 * mmu_interval_check_retry(). For a subscription this module did not
 * insert, or one being removed or put, a sequence that they always report
 * as a collision.
 */
unsigned long mni_interval_read_begin(struct mmu_interval_notifier *interval_sub)
{
	unsigned long seq;

	if (!interval_sub) {
		mni_caller_err(NULL, _RET_IP_,
			       "read_begin of a NULL subscription");
		return 0;
	}
	if (mni_read_begin(interval_sub, MAX_SCHEDULE_TIMEOUT, false,
			   &seq) == -ENOENT)
		mni_caller_err(interval_sub->ops, _RET_IP_,
			       "read_begin on a subscription not inserted here");
	return seq;
}
EXPORT_SYMBOL_NS_GPL(mni_interval_read_begin, MNI_NS);

/* The checks of the killable and timed read_begin()s. */
static int mni_read_begin_checked(struct mmu_interval_notifier *sub,
				  long timeout, unsigned long *seq,
				  unsigned long caller)
{
	int ret;

	if (!sub || !seq) {
		mni_caller_err(NULL, caller, "read_begin with NULL %s",
			       seq ? "subscription" : "seq");
		return -EINVAL;
	}
	if (timeout < 0) {
		mni_caller_err(sub->ops, caller,
			       "read_begin with negative timeout %ld", timeout);
		*seq = mni_itree_collision_seq(sub);
		return -EINVAL;
	}
	ret = mni_read_begin(sub, timeout, true, seq);
	if (ret == -ENOENT) {
		mni_caller_err(sub->ops, caller,
			       "read_begin on a subscription not inserted here");
		ret = -EINVAL;
	}
	/* Going (removed or put): a collision, and @sub is not read again. */
	if (ret == -ESTALE)
		ret = -EINVAL;
	return ret;
}

/**
 * mni_interval_read_begin_killable - mni_interval_read_begin() that a fatal
 *				      signal interrupts
 * @interval_sub: The interval subscription
 * @seq: where the sequence goes, for mmu_interval_read_retry()
 *
 * As mni_interval_read_begin(), but the wait for overlapping invalidations
 * ends early when the task gets a fatal signal, so a fault path of a
 * process being killed does not sit out a slow invalidation.
 *
 * Context: process context, may sleep; must not hold a lock that the
 * invalidate callback takes.
 * Return: 0 with @seq set; -EINTR on a fatal signal (@seq is not set);
 * -EINVAL for NULL arguments, a subscription this module did not insert,
 * or one being removed or put, also while this waited (then @seq, if
 * given, is set to a collision).
 */
int mni_interval_read_begin_killable(struct mmu_interval_notifier *interval_sub,
				     unsigned long *seq)
{
	return mni_read_begin_checked(interval_sub, MAX_SCHEDULE_TIMEOUT, seq,
				      _RET_IP_);
}
EXPORT_SYMBOL_NS_GPL(mni_interval_read_begin_killable, MNI_NS);

/**
 * mni_interval_read_begin_timeout - mni_interval_read_begin() with a bound
 * @interval_sub: The interval subscription
 * @timeout: the longest wait, in jiffies: 0 never sleeps,
 *	MAX_SCHEDULE_TIMEOUT waits as long as it takes
 * @seq: where the sequence goes, for mmu_interval_read_retry()
 *
 * As mni_interval_read_begin_killable(), and gives up once @timeout
 * jiffies have passed with an overlapping invalidation still in flight, so
 * a fault path can bound its own time.
 *
 * Context: process context, may sleep; must not hold a lock that the
 * invalidate callback takes.
 * Return: 0 with @seq set; -ETIMEDOUT or -EINTR (@seq is not set);
 * -EINVAL for a negative @timeout, NULL arguments, a subscription this
 * module did not insert, or one being removed or put, also while this
 * waited (then @seq, if given, is set to a collision).
 */
int mni_interval_read_begin_timeout(struct mmu_interval_notifier *interval_sub,
				    long timeout, unsigned long *seq)
{
	return mni_read_begin_checked(interval_sub, timeout, seq,
				      _RET_IP_);
}
EXPORT_SYMBOL_NS_GPL(mni_interval_read_begin_timeout, MNI_NS);
