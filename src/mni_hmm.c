// SPDX-License-Identifier: GPL-2.0
/*
 * mni_hmm.c - Linux 7.3's hmm_range_fault_unlocked_timeout(), on every
 * kernel, for subscriptions of this engine
 *
 * The kernel's helper samples the sequence with the kernel's own
 * mmu_interval_read_begin(), which knows nothing of this engine's
 * invalidations and returns at once while one of them is in flight. This
 * one waits in the engine, per range, killable and bounded, and then reads
 * the page tables with the exported hmm_range_fault() under mmap_lock.
 */
#include <linux/hmm.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/oom.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>

#include "mni.h"
#include "mni_kcompat.h"

/* mni_compat.h maps the kernel's name onto ours: one type for both. */
MNI_CHECK_HMM_FAULT_UNLOCKED_TIMEOUT(mni_hmm_range_fault_unlocked_timeout);

/*
 * The engine's read_begin for @range, waiting no later than @deadline when
 * @timeout is set, and killable. -EBUSY when the deadline passed with an
 * invalidation of the range still in flight.
 */
static int mni_hmm_read_begin(struct hmm_range *range, unsigned long timeout,
			      unsigned long deadline)
{
	long left = MAX_SCHEDULE_TIMEOUT;
	int ret;

	if (timeout)
		left = time_before(jiffies, deadline) ? deadline - jiffies : 0;
	ret = mni_interval_read_begin_timeout(range->notifier, left,
					      &range->notifier_seq);
	return ret == -ETIMEDOUT ? -EBUSY : ret;
}

/*
 * One pass: the page tables read under mmap_lock held for read, which
 * hmm_range_fault() never drops.
 */
static int mni_hmm_fault_once(struct hmm_range *range, unsigned long timeout,
			      unsigned long deadline)
{
	struct mm_struct *mm = range->notifier->mm;
	int ret;

	ret = mmap_read_lock_killable(mm);
	if (ret)
		return ret;
	if (check_stable_address_space(mm)) {
		ret = -EFAULT;
		goto out;
	}
	if (timeout && time_after(jiffies, deadline)) {
		ret = -EBUSY;
		goto out;
	}
	ret = hmm_range_fault(range);
out:
	mmap_read_unlock(mm);
	return ret;
}

/**
 * mni_hmm_range_fault_unlocked_timeout - fault in a range of a subscription
 *					  of this engine, with a time budget
 * @range: as for hmm_range_fault(); @range->notifier must be a subscription
 *	inserted by this module. @range->notifier_seq is set here.
 * @timeout: the budget in jiffies for waiting out invalidations of the range
 *	and retrying, or 0 to retry until the range is stable (a fatal signal
 *	still ends it). A budget longer than MAX_JIFFY_OFFSET is cut to that.
 *
 * Linux 7.3's hmm_range_fault_unlocked_timeout(), with the same arguments
 * and results, on every kernel from 5.10; mni_compat.h maps the kernel's
 * name to it. The loop: wait in this engine, per range, killable and
 * within the budget, for the invalidations that overlap the subscription
 * (mni_interval_read_begin_timeout()), take mmap_lock for read (killable),
 * fail an mm whose address space the OOM reaper has made unstable, and
 * call hmm_range_fault(); when that returns -EBUSY because an invalidation
 * began meanwhile, start over. The caller then takes its device lock and
 * checks mmu_interval_read_retry(@range->notifier, @range->notifier_seq)
 * before it uses @range->hmm_pfns, as with the kernel's helper.
 *
 * mmap_lock is never dropped in a fault. hmm_range_fault() faults without
 * FAULT_FLAG_ALLOW_RETRY, where 7.3's static hmm_range_fault_locked() lets
 * a fault handler drop the lock and retries after it. So a handler that
 * would drop the lock to wait (for a page lock, for I/O) waits with it
 * held instead, and a fault that can only be resolved with the lock dropped
 * fails: on a range registered with userfaultfd (missing, minor or
 * write-protect mode, as 7.3's test_hmm HMM_DMIRROR_READ_UNLOCKED case
 * uses: anonymous memory in missing mode) handle_userfault() answers such
 * a fault with VM_FAULT_SIGBUS without queueing an event for the
 * userfaultfd reader (a CONFIG_DEBUG_VM kernel logs "FAULT_FLAG_ALLOW_RETRY
 * missing" and a stack dump, not a WARN), and this function returns
 * -EFAULT at once. It never waits for the userfaultfd handler and
 * never returns the page tables as they were before the fault. Pages
 * already present in such a range, or filled by the handler beforehand
 * (UFFDIO_COPY, a CPU access), are returned as usual. The budget is
 * therefore never restarted by progress made with the lock dropped, as
 * 7.3's is.
 *
 * Context: process context, may sleep. The caller must not hold @range's
 * mm's mmap_lock, nor any lock its invalidate callback takes.
 * The function holds mm_users (mmget_not_zero()) for the whole call, so
 * the mm cannot reach exit_mmap() meanwhile; an mm that already has no
 * users is -EFAULT at once. If the process exits during the call, its
 * exit_mmap(), with every invalidate callback of the mm, runs from this
 * function's final mmput().
 *
 * Return: 0 with @range->hmm_pfns filled and @range->notifier_seq set;
 * -EBUSY when the budget ran out before the range was stable (also while
 * waiting for an invalidation of the range to end); -EINTR on a fatal
 * signal: while waiting for an invalidation or for mmap_lock, or instead
 * of starting over after a collision; -EFAULT for an mm without users, an
 * mm the OOM reaper has made unstable, or a page that is required but
 * cannot be made valid (no VMA, userfaultfd as above); -EINVAL for a NULL
 * @range or subscription, or a subscription this module did not insert;
 * otherwise what hmm_range_fault() returns (-EPERM for a write request on
 * a read-only VMA, -ENOMEM, -EINVAL, -EFAULT).
 */
int mni_hmm_range_fault_unlocked_timeout(struct hmm_range *range,
					 unsigned long timeout)
{
	unsigned long deadline;
	struct mm_struct *mm;
	int ret;

	if (!range || !range->notifier) {
		pr_err_ratelimited("mni: hmm_range_fault_unlocked_timeout (from %pS) of a NULL %s\n",
				   (void *)_RET_IP_,
				   range ? "subscription" : "range");
		return -EINVAL;
	}
	might_sleep();
	mm = range->notifier->mm;
	/*
	 * mm_users held off exit_mmap(), and with it the engine's release,
	 * after which every sequence collides and no pass could succeed.
	 */
	if (!mmget_not_zero(mm))
		return -EFAULT;
	timeout = min_t(unsigned long, timeout, MAX_JIFFY_OFFSET);
	deadline = jiffies + timeout;
	do {
		ret = mni_hmm_read_begin(range, timeout, deadline);
		if (ret)
			break;
		ret = mni_hmm_fault_once(range, timeout, deadline);
		/* Collided: a dying task does not start over. */
		if (ret == -EBUSY && fatal_signal_pending(current))
			ret = -EINTR;
	} while (ret == -EBUSY);
	mmput(mm);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(mni_hmm_range_fault_unlocked_timeout, MNI_NS);
