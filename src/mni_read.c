// SPDX-License-Identifier: GPL-2.0
/*
 * mni_read.c - read_begin(): sampling a subscription's sequence,
 * and the sleeps of read_begin() and remove()
 */
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>

#include "mni_internal.h"

/*
 * Sleep until @done(it, arg), tested under the lock, is true. Queued on
 * @wq before each test, so a wake-up after the test is not lost (see
 * mni_itree_wake()).
 * Return: 0, -EINTR on a fatal signal (@killable), or -ETIMEDOUT once
 * @timeout jiffies have passed (MAX_SCHEDULE_TIMEOUT: never).
 */
int mni_itree_wait(struct mni_itree *it,
		   bool (*done)(struct mni_itree *it, void *arg), void *arg,
		   bool killable, long timeout)
{
	DECLARE_SWAITQUEUE(wait);
	bool ok;
	int ret;

	for (;;) {
		ret = prepare_to_swait_event(&it->wq, &wait,
					     killable ? TASK_KILLABLE :
							TASK_UNINTERRUPTIBLE);
		raw_spin_lock_irq(&it->lock);
		ok = done(it, arg);
		raw_spin_unlock_irq(&it->lock);
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
 * returns, no callback runs on @sub and none will. Called from inside an
 * invalidation pass, it first runs the second pass that pass owes @sub:
 * the pass would run it only after the caller returns.
 * Context: process context, may sleep.
 * Return: true if @sub was the engine's last user (see mni_itree_unlink()).
 */
bool mni_itree_remove_wait(struct mni_itree *it,
			   struct mmu_interval_notifier *sub)
{
	struct mni_unlink_wait w = { .sub = sub };
	struct mni_finishes own = {};

	raw_spin_lock_irq(&it->lock);
	mni_itree_own_finish_take(it, sub, &own);
	raw_spin_unlock_irq(&it->lock);
	/* @sub is dying: its pass calls it no more, and collects no finish. */
	if (mni_finishes_pending(&own))
		mni_sub_finish_pass(&own);

	mni_itree_wait(it, mni_itree_try_unlink, &w, false,
		       MAX_SCHEDULE_TIMEOUT);
	/* A read_begin() asleep on @sub returns now (the unlink told it). */
	mni_itree_wake(it);
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

/*
 * One step of read_begin(), under the lock: -EAGAIN while it must wait.
 * -ENOENT (not ours) and -ESTALE (a remove or put of it has begun) come
 * with a collision in @seq, read here while @sub is alive for sure: ours
 * and still linked, or a stranger its caller keeps. Inlined: it is the
 * whole of read_begin()'s fast path.
 */
static __always_inline int
mni_itree_sample_locked(struct mni_itree *it,
			struct mmu_interval_notifier *sub,
			unsigned long *seq)
{
	lockdep_assert_held(&it->lock);
	if (!mni_itree_contains(it, sub)) {
		*seq = mni_itree_collision_seq(sub);
		return -ENOENT;
	}
	if (mni_sub_is_dying(sub)) {
		*seq = mni_itree_collision_seq(sub);
		return -ESTALE;
	}
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
 * mni_itree_read_unlocked - read_begin()'s sample without the lock, while
 *			     nothing is in flight
 * @it: the engine of @sub's mm, found by @sub->mm: a subscription linked in
 *	any engine of this module is then linked in @it
 * @sub: the subscription, whose memory the caller keeps
 * @seq: set when this returns true
 *
 * Succeeds when no invalidation is in flight in the whole mm, the release
 * has not begun, and @sub's stamp says it is linked and not dying: then
 * mni_itree_read_prepare() would return 0 with the same @seq, had it run
 * at the moment of the load of it->busy. Anything else, strangers
 * included (mni_stamp_is_linked()), is left to the locked sample. A
 * remove or put that begins meanwhile is one that began after this
 * read_begin(), as with the lock.
 *
 * Context: any; does not sleep.
 * Return: true with @seq set; false if the caller must take the lock.
 */
bool mni_itree_read_unlocked(struct mni_itree *it,
			     struct mmu_interval_notifier *sub,
			     unsigned long *seq)
{
	unsigned long s, stamp;

	stamp = mni_sub_stamp(sub);
	/*
	 * Pairs with WRITE_ONCE() in mni_itree_walk_first() and
	 * mni_itree_update().
	 */
	if (!mni_stamp_is_linked(stamp, READ_ONCE(it->seq)))
		return false;
	/* Pairs with WRITE_ONCE() in mmu_interval_set_seq(). */
	s = READ_ONCE(sub->invalidate_seq);
	/*
	 * Pairs with smp_wmb() in mni_itree_walk(): if @s is a sequence a
	 * walk's callback set, the load of it->busy below sees that walk in
	 * flight, or its end. Either way @s is not returned while an
	 * invalidation that has called @sub is in flight.
	 */
	smp_rmb();
	/* Pairs with smp_store_release() in mni_itree_publish_busy_locked(). */
	if (smp_load_acquire(&it->busy))
		return false;
	*seq = s;
	return true;
}

/**
 * mni_itree_read_sample - read_begin() without sleeping
 * @it: the engine of @sub's mm
 * @sub: the subscription
 * @seq: set unless this returns -EAGAIN
 *
 * Context: any; does not sleep.
 * Return: 0 with @seq set; -EAGAIN if an invalidation that overlaps @sub
 * is in flight; -ENOENT if @sub is not in this engine, -ESTALE if a remove
 * or put of it has begun, both with a collision in @seq.
 */
int mni_itree_read_sample(struct mni_itree *it,
			  struct mmu_interval_notifier *sub, unsigned long *seq)
{
	unsigned long flags;
	int ret;

	raw_spin_lock_irqsave(&it->lock, flags);
	ret = mni_itree_sample_locked(it, sub, seq);
	raw_spin_unlock_irqrestore(&it->lock, flags);
	return ret;
}

/**
 * mni_itree_read_prepare - mni_itree_read_sample(), ready to sleep
 * @it: the engine of @sub's mm
 * @sub: the subscription
 * @seq: set unless this returns -EAGAIN
 * @reader: registered on @it when this returns -EAGAIN, in the same
 *	critical section as the sample, so it learns of @sub's unlink from
 *	then on; the caller must then pass it to mni_itree_read_wait() or
 *	mni_itree_read_cancel()
 *
 * Context: any; does not sleep.
 * Return: as mni_itree_read_sample().
 */
int mni_itree_read_prepare(struct mni_itree *it,
			   struct mmu_interval_notifier *sub,
			   unsigned long *seq, struct mni_reader *reader)
{
	unsigned long flags;
	int ret;

	raw_spin_lock_irqsave(&it->lock, flags);
	ret = mni_itree_sample_locked(it, sub, seq);
	if (ret == -EAGAIN) {
		reader->sub = sub;
		hlist_add_head(&reader->link, &it->readers);
	}
	raw_spin_unlock_irqrestore(&it->lock, flags);
	return ret;
}

struct mni_read_wait {
	struct mni_reader *reader;
	unsigned long *seq;
	int ret;
};

static bool mni_itree_try_sample(struct mni_itree *it, void *arg)
{
	struct mni_read_wait *rw = arg;

	/* Unlinked while we slept, maybe freed: never read again. */
	if (!rw->reader->sub) {
		*rw->seq = MNI_SEQ_GONE;
		rw->ret = -ESTALE;
		return true;
	}
	rw->ret = mni_itree_sample_locked(it, rw->reader->sub, rw->seq);
	return rw->ret != -EAGAIN;
}

/**
 * mni_itree_read_cancel - drop a reader mni_itree_read_prepare() registered
 * @it: the engine
 * @reader: the reader, which will not wait
 *
 * Context: any; does not sleep.
 */
void mni_itree_read_cancel(struct mni_itree *it, struct mni_reader *reader)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&it->lock, flags);
	hlist_del(&reader->link);
	raw_spin_unlock_irqrestore(&it->lock, flags);
}

/**
 * mni_itree_read_wait - read_begin()'s sleep
 * @it: the engine of the subscription's mm
 * @reader: what mni_itree_read_prepare() registered; dropped here
 * @timeout: jiffies to wait at most, or MAX_SCHEDULE_TIMEOUT
 * @killable: give up on a fatal signal
 * @seq: set on success, and with -ESTALE
 *
 * Sleeps while an invalidation that overlaps the subscription is in
 * flight, and no longer: other invalidations of the mm do not hold it up.
 * If the subscription leaves the tree meanwhile (removed, or put and
 * maybe freed by its release), returns at once with a collision and
 * never reads it again.
 * Context: process context, may sleep.
 * Return: 0, -EINTR, -ETIMEDOUT, or -ESTALE if a remove or put of the
 * subscription began meanwhile (@seq is a collision).
 */
int mni_itree_read_wait(struct mni_itree *it, struct mni_reader *reader,
			long timeout, bool killable, unsigned long *seq)
{
	struct mni_read_wait rw = { .reader = reader, .seq = seq };
	u64 start = ktime_get_ns();
	u64 slept;
	int ret;

	ret = mni_itree_wait(it, mni_itree_try_sample, &rw, killable, timeout);
	if (!ret)
		ret = rw.ret;
	slept = ktime_get_ns() - start;

	/* The slow path: one more round of the lock, to leave and count. */
	raw_spin_lock_irq(&it->lock);
	hlist_del(&reader->link);
	it->stats.waits++;
	it->stats.wait_ns += slept;
	it->stats.wait_max_ns = max(it->stats.wait_max_ns, slept);
	/* Under the lock, and only while the subscription is in the tree. */
	if (reader->sub)
		trace_mni_read_begin_wait(it->id, reader->sub, slept);
	raw_spin_unlock_irq(&it->lock);
	return ret;
}

/**
 * mni_itree_wake_readers - have every sleeper of the engine look again
 * @it: the engine
 *
 * For the mm layer, before it hands back the notifiers of an engine whose
 * last user is gone: a read_begin() that sleeps for an invalidation whose
 * end will then never come, on a subscription unlinked without a wake,
 * finds it gone and returns.
 * Context: process context; interrupts on.
 */
void mni_itree_wake_readers(struct mni_itree *it)
{
	mni_itree_wake(it);
}
