// SPDX-License-Identifier: GPL-2.0
/*
 * mni_test.c - a software "device" that mirrors pages of a process
 *
 * The device keeps, per mirror, a page table of the pfns hmm_range_fault()
 * returned for a range of a process's address space. It holds no page
 * references: the interval notifier callback is all that keeps the table
 * from pointing at freed pages, which is what the tests check (READ copies
 * page contents through the table; a stale entry shows old data, or a
 * KASAN report on a debug kernel).
 *
 * This file is built twice (see Kbuild):
 *  - mni_test_mni.ko with MNI_TEST_FLAVOUR_MNI: mni_compat.h maps the
 *    upstream names onto mmu_interval_notifier.ko;
 *  - mni_test_kern.ko without it: the kernel's own mm/mmu_notifier.c.
 * The userspace suite runs against both and compares.
 *
 * Locks, outermost first:
 *   mni_test_grab_lock   - the GRAB_MM slot; held across insert and remove
 *                          on that mm, never taken by callbacks
 *   mni_test_file.lock   - the file's mirror table; never taken by callbacks
 *   mni_test_mirror.lock - the page table, the "device lock"; taken by the
 *                          callback (trylock when not blockable), so never
 *                          held across anything that allocates, faults or
 *                          waits for an invalidation (insert, remove,
 *                          read_begin, copy_to_user). It may be held while
 *                          sleeping: HOLD and the SLOW callback do, to make
 *                          a test's race window. A non-blockable two-pass
 *                          start keeps it for its finish.
 *   mni_test_mirror.log_lock - the log; a raw spinlock, so that a callback
 *                          that failed its trylock can still record that:
 *                          under mni, non-blockable callbacks run inside
 *                          the core's non_block_start(), where a
 *                          PREEMPT_RT spinlock_t is a sleeping lock
 *   mni_test_file.bench_lock - the "device lock" of the bench subscriptions
 *                          (BENCH_*); like mni_test_mirror.lock, taken by
 *                          their callback and never held across an engine
 *                          call
 */
#include <linux/delay.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/hmm.h>
#include <linux/idr.h>
#include <linux/kref.h>
#include <linux/migrate.h>
#include <linux/ktime.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "mni_kcompat.h"	/* kmap_local_page() before 5.11 */

#ifdef MNI_TEST_FLAVOUR_MNI
#include "mni_compat.h"
#include "mni_test_foreign.h"
#include "mni_test_boundary.h"
#include "mni_test_freeing.h"
#define MNI_TEST_ENGINE		MNI_TEST_ENGINE_MNI
#else
#define MNI_TEST_ENGINE		MNI_TEST_ENGINE_KERN
#endif

#include "mni_test_uapi.h"

#define MNI_TEST_MAX_PAGES	16384UL	/* 64 MiB of 4 KiB pages */
#define MNI_TEST_CHUNK		16UL	/* pages per fault / copy step */
#define MNI_TEST_MAX_MSECS	10000ULL
/* A busy-wait in non-blockable context: short. */
#define MNI_TEST_MAX_SPIN_MSECS	1000ULL
/* BENCH_ADD with device_ns: subscriptions at most. */
#define MNI_TEST_BENCH_MAX_DEVS	4096UL

struct mirror_finish;

struct mni_test_mirror {
	struct mmu_interval_notifier notifier;
	struct kref ref;		/* idr slot + each ioctl in flight */
	unsigned long start;		/* == notifier's range, [start, end) */
	unsigned long end;
	unsigned long npages;		/* entries in pfns, 0: NOMIRROR */

	struct mutex lock;		/* guards pfns; the "device lock" */
	unsigned long *pfns;		/* hmm pfns, 0 when not mirrored */
	unsigned int slow_ms;		/* READ_ONCE: callback sleep */
	unsigned int spin_ms;		/* READ_ONCE: non-blockable spin */
	bool no_finish;			/* two-pass start hands back none */
	struct mirror_finish *spare;	/* two-pass: the preallocated finish,
					 * NULL while a finish holds it
					 * (xchg(), smp_store_release())
					 */
	bool put;			/* PUT: the engine owns it now */
	void *owner;			/* SET_OWNER (kernel flavour's check) */
	atomic_t put_armed;		/* PUT_IN_CALLBACK: put on next call */
	struct work_struct put_work;	/* the kernel flavour's deferred put */

	raw_spinlock_t log_lock;	/* guards the fields below */
	unsigned int log_head;		/* oldest entry */
	unsigned int log_count;
	u64 log_overflow;
	u64 calls;
	struct mni_test_log_entry log[MNI_TEST_LOG_MAX];
};

/*
 * A subscription of BENCH_ADD with device_ns: a device whose teardown
 * completes @device_ns after the callback started it (@done_at).
 */
struct mni_test_bench_dev {
	struct mmu_interval_notifier notifier;
	struct mutex *lock;		/* the file's bench_lock */
	u64 device_ns;
	u64 done_at;			/* WRITE_ONCE under *lock */
#ifdef MNI_TEST_FLAVOUR_MNI
	atomic_t finish_busy;		/* finish handed to a pass */
	struct mni_interval_notifier_finish finish;	/* preallocated */
#endif
};

/* A bare subscription of BENCH_ADD and BENCH_INSERT: no table, no log. */
struct mni_test_bench_sub {
	struct mmu_interval_notifier notifier;
	struct mutex *lock;		/* the file's bench_lock */
};

struct mni_test_file {
	/* guards mirrors, bench, nbench, pins, pinned_mm */
	struct mutex lock;
	struct mm_struct *pinned_mm;	/* MM_GET's mm, put at close */
	unsigned int pins;		/* MM_GETs not yet put */
	struct idr mirrors;		/* id -> mirror, holding one ref */
	struct mni_test_bench_sub *bench;	/* BENCH_ADD's set */
	struct mni_test_bench_dev *bench_dev;	/* or, with device_ns */
	unsigned long nbench;		/* entries in bench */
	struct mutex update_lock;	/* one UPDATE at a time: the
					 * kernel flavour's remove + insert
					 */
	struct mutex bench_lock;	/* the bench subscriptions' "device
					 * lock"; taken by their callback
					 */
};

/* GRAB_MM's reference, for MNI_TEST_CHECK_DEAD_MM. */
static DEFINE_MUTEX(mni_test_grab_lock);
static struct mm_struct *mni_test_grabbed_mm;	/* mmgrab()ed */

/* Orders log entries across mirrors (mni_test_log_entry.order). */
static atomic64_t mni_test_log_order = ATOMIC64_INIT(0);

/* Append @entry, stamped with the time and the order, to the log. */
static void mirror_log_entry(struct mni_test_mirror *m,
			     const struct mni_test_log_entry *entry)
{
	u64 now = ktime_get_ns();
	struct mni_test_log_entry *e;

	raw_spin_lock(&m->log_lock);
	m->calls++;
	if (m->log_count == MNI_TEST_LOG_MAX) {
		/* Full: the oldest entry makes room. */
		e = &m->log[m->log_head];
		m->log_head = (m->log_head + 1) % MNI_TEST_LOG_MAX;
		m->log_overflow++;
	} else {
		e = &m->log[(m->log_head + m->log_count) % MNI_TEST_LOG_MAX];
		m->log_count++;
	}
	*e = *entry;
	e->time_ns = now;
	e->order = atomic64_inc_return(&mni_test_log_order);
	raw_spin_unlock(&m->log_lock);
}

static void mirror_log(struct mni_test_mirror *m,
		       const struct mmu_notifier_range *range,
		       unsigned long cur_seq, u64 flags, u64 kind)
{
	struct mni_test_log_entry e = {
		.event = range->event,
		.start = range->start,
		.end = range->end,
		.flags = flags,
		.seq = cur_seq,
		.kind = kind,
	};

	mirror_log_entry(m, &e);
}

/* Forget the mirrored pages of [start, end) clipped to the mirror. */
static void mirror_clear(struct mni_test_mirror *m, unsigned long start,
			 unsigned long end)
{
	unsigned long first, last;

	lockdep_assert_held(&m->lock);
	if (!m->npages)
		return;
	start = max(start, m->start);
	end = min(end, m->end);
	if (start >= end)
		return;
	first = (start - m->start) >> PAGE_SHIFT;
	last = (end - 1 - m->start) >> PAGE_SHIFT;
	memset(&m->pfns[first], 0, (last - first + 1) * sizeof(*m->pfns));
}

/* SLOW: blockable callbacks sleep with the mirror lock held. */
static void mirror_slow_down(struct mni_test_mirror *m, bool blockable)
{
	unsigned int slow_ms = READ_ONCE(m->slow_ms);	/* pairs with SLOW */

	lockdep_assert_held(&m->lock);
	if (blockable && slow_ms)
		msleep(slow_ms);
}

/*
 * SPIN: non-blockable callbacks busy-wait, with the mirror lock dropped, as
 * a device whose teardown is slow and cannot sleep would; the reaper's
 * invalidation then stays in flight that long.
 */
static void mirror_spin(struct mni_test_mirror *m, bool blockable)
{
	unsigned int spin_ms = READ_ONCE(m->spin_ms);	/* pairs with SPIN */

	if (!blockable && spin_ms)
		mdelay(spin_ms);
}

static void mirror_put_if_armed(struct mni_test_mirror *m);

static bool mirror_invalidate(struct mmu_interval_notifier *sub,
			      const struct mmu_notifier_range *range,
			      unsigned long cur_seq)
{
	struct mni_test_mirror *m = container_of(sub, struct mni_test_mirror,
						 notifier);
	bool blockable = mmu_notifier_range_blockable(range);

	/*
	 * The upstream way to skip a device's own migration: by hand. Ours
	 * never calls us then (mni_interval_notifier_set_owner()).
	 */
	if (READ_ONCE(m->owner) && mni_range_owner_of(range) == READ_ONCE(m->owner))
		return true;

	if (blockable) {
		mutex_lock(&m->lock);
	} else if (!mutex_trylock(&m->lock)) {
		mirror_log(m, range, cur_seq, MNI_TEST_LOG_BUSY,
			   MNI_TEST_LOG_INVALIDATE);
		return false;
	}

	/* Logged first, so a test polling the log sees us in flight. */
	mirror_log(m, range, cur_seq, blockable ? MNI_TEST_LOG_BLOCKABLE : 0,
		   MNI_TEST_LOG_INVALIDATE);
	mmu_interval_set_seq(sub, cur_seq);
	mirror_clear(m, range->start, range->end);
	mirror_slow_down(m, blockable);
	mutex_unlock(&m->lock);
	mirror_spin(m, blockable);
	mirror_put_if_armed(m);
	return true;
}

static const struct mmu_interval_notifier_ops mirror_ops = {
	.invalidate = mirror_invalidate,
};

#if defined(MNI_TEST_FLAVOUR_MNI) || defined(MNI_HAVE_TWO_PASS_OPS)
/*
 * Two-pass ops, used as a device whose teardown is slow would: the start,
 * under the mirror lock, makes faults collide (the new sequence) and hands
 * the engine a finish; the engine calls every finish once the whole pass
 * has been started, before the invalidation goes on, and the finish tears
 * the mirror down. Blockable, each takes the lock itself. Not blockable,
 * the finish must not sleep either: the start keeps the lock it trylocked
 * and the finish drops it. The engine runs every finish it was handed,
 * also after a later subscription refused.
 *
 * The mni flavour uses mni's own two-pass ops, on every kernel, and from
 * 7.1 the kernel's when two_pass_kern_ops is set (a 7.1 driver built
 * against mni_compat.h hands those to this engine); the kernel flavour the
 * kernel's, from 7.1. One code, a thin entry point per finish type.
 *
 * The finish is the mirror's preallocated spare (MNI_TEST_LOG_PREALLOC),
 * so a non-blockable pass allocates nothing. Another invalidation's finish
 * may still hold it: then a blockable start allocates one (GFP_NOWAIT: the
 * callback runs as in reclaim), a non-blockable one does the whole job at
 * once and hands back none.
 */
struct mirror_finish {
	/* What the engine is handed: one of them, by the ops type. */
	union {
#ifdef MNI_TEST_FLAVOUR_MNI
		struct mni_interval_notifier_finish mni;
#endif
#ifdef MNI_HAVE_TWO_PASS_OPS
		struct mmu_interval_notifier_finish kern;
#endif
	} base;
	struct mni_test_log_entry entry;	/* the finish's log entry */
	unsigned long seq_before;	/* sub's sequence before the start */
};

/* The spare, if no finish in flight holds it, or a new one if blockable. */
static struct mirror_finish *mirror_finish_get(struct mni_test_mirror *m,
					       bool blockable, u64 *flags)
{
	/* Pairs with smp_store_release() in mirror_finish_put(). */
	struct mirror_finish *f = xchg(&m->spare, NULL);

	if (f) {
		*flags |= MNI_TEST_LOG_PREALLOC;
		return f;
	}
	if (!blockable)
		return NULL;
	return kmalloc(sizeof(*f), GFP_NOWAIT | __GFP_NOWARN);
}

/* After the last use of @f: the spare goes back to the mirror. */
static void mirror_finish_put(struct mni_test_mirror *m, struct mirror_finish *f,
			      bool prealloc)
{
	if (prealloc)
		/* Pairs with xchg() in mirror_finish_get(): @f is done with. */
		smp_store_release(&m->spare, f);
	else
		kfree(f);
}

/* The first pass; *@finish is left alone when there is no second. */
static bool mirror_invalidate_start(struct mmu_interval_notifier *sub,
				    const struct mmu_notifier_range *range,
				    unsigned long cur_seq,
				    struct mirror_finish **finish)
{
	struct mni_test_mirror *m = container_of(sub, struct mni_test_mirror,
						 notifier);
	bool blockable = mmu_notifier_range_blockable(range);
	u64 flags = blockable ? MNI_TEST_LOG_BLOCKABLE : 0;
	struct mirror_finish *f = NULL;
	unsigned long seq_before;

	if (blockable) {
		mutex_lock(&m->lock);
	} else if (!mutex_trylock(&m->lock)) {
		mirror_log(m, range, cur_seq, MNI_TEST_LOG_BUSY,
			   MNI_TEST_LOG_START);
		return false;
	}

	/* Pairs with WRITE_ONCE() in mmu_interval_set_seq() and insert. */
	seq_before = READ_ONCE(sub->invalidate_seq);
	mmu_interval_set_seq(sub, cur_seq);
	if (!m->no_finish)
		f = mirror_finish_get(m, blockable, &flags);
	/* Logged after set_seq(): a test that sees it sees read_begin() wait. */
	mirror_log(m, range, cur_seq, flags, MNI_TEST_LOG_START);
	if (!f) {
		/* No second pass: the whole job now, as ->invalidate() does. */
		mirror_clear(m, range->start, range->end);
		mirror_slow_down(m, blockable);
		mutex_unlock(&m->lock);
		return true;
	}

	f->entry = (struct mni_test_log_entry){
		.event = range->event,
		.start = range->start,
		.end = range->end,
		.flags = flags,
		.seq = cur_seq,
		.kind = MNI_TEST_LOG_FINISH,
	};
	f->seq_before = seq_before;
	*finish = f;
	/* Not blockable: mirror_invalidate_finish() unlocks. */
	if (blockable)
		mutex_unlock(&m->lock);
	return true;
}

/* @notifier: the engine's pointer, as a driver would use it. */
static void mirror_invalidate_finish(struct mirror_finish *f,
				     struct mmu_interval_notifier *notifier)
{
	struct mni_test_mirror *m = container_of(notifier,
						 struct mni_test_mirror,
						 notifier);
	bool blockable = f->entry.flags & MNI_TEST_LOG_BLOCKABLE;

	/* Not blockable: held since mirror_invalidate_start(). */
	if (blockable)
		mutex_lock(&m->lock);
	if (mmu_interval_read_retry(&m->notifier, f->seq_before))
		f->entry.flags |= MNI_TEST_LOG_COLLIDED;
	mirror_log_entry(m, &f->entry);
	mirror_clear(m, f->entry.start, f->entry.end);
	mirror_slow_down(m, blockable);
	mutex_unlock(&m->lock);
	mirror_finish_put(m, f, f->entry.flags & MNI_TEST_LOG_PREALLOC);
}

/* ADD of a two-pass mirror: its spare finish. */
static int mirror_finish_prealloc(struct mni_test_mirror *m, u64 add_flags)
{
	if (!(add_flags & MNI_TEST_ADD_TWO_PASS) ||
	    add_flags & MNI_TEST_ADD_NO_FINISH)
		return 0;
	m->spare = kzalloc(sizeof(*m->spare), GFP_KERNEL);
	return m->spare ? 0 : -ENOMEM;
}
#else
/* Before 7.1 the kernel flavour has no two-pass ops. */
static int mirror_finish_prealloc(struct mni_test_mirror *m, u64 add_flags)
{
	return 0;
}
#endif

#ifdef MNI_HAVE_TWO_PASS_OPS
/* The kernel's two-pass ops (7.1+): its finish type. */
static bool mirror_kern_start(struct mmu_interval_notifier *sub,
			      const struct mmu_notifier_range *range,
			      unsigned long cur_seq,
			      struct mmu_interval_notifier_finish **finish)
{
	struct mirror_finish *f = NULL;
	bool done = mirror_invalidate_start(sub, range, cur_seq, &f);

	if (f)
		*finish = &f->base.kern;
	return done;
}

static void mirror_kern_finish(struct mmu_interval_notifier_finish *finish)
{
	mirror_invalidate_finish(container_of(finish, struct mirror_finish,
					      base.kern),
				 finish->notifier);
}

static const struct mmu_interval_notifier_ops mirror_kern_two_pass_ops = {
	.invalidate_start = mirror_kern_start,
	.invalidate_finish = mirror_kern_finish,
};
#endif /* MNI_HAVE_TWO_PASS_OPS */

#ifdef MNI_TEST_FLAVOUR_MNI
/* mni's two-pass ops, on every kernel: its finish type. */
static bool mirror_mni_start(struct mmu_interval_notifier *sub,
			     const struct mmu_notifier_range *range,
			     unsigned long cur_seq,
			     struct mni_interval_notifier_finish **finish)
{
	struct mirror_finish *f = NULL;
	bool done = mirror_invalidate_start(sub, range, cur_seq, &f);

	if (f)
		*finish = &f->base.mni;
	return done;
}

static void mirror_mni_finish(struct mni_interval_notifier_finish *finish)
{
	mirror_invalidate_finish(container_of(finish, struct mirror_finish,
					      base.mni),
				 finish->notifier);
}

static const struct mni_interval_notifier_ops mirror_two_pass_ops = {
	.invalidate_start = mirror_mni_start,
	.invalidate_finish = mirror_mni_finish,
};

#ifdef MNI_HAVE_TWO_PASS_OPS
/*
 * Set: TWO_PASS inserts the kernel's two-pass ops through the plain insert
 * (mni_compat.h's mmu_interval_notifier_insert()), as a 7.1 driver does.
 */
static bool two_pass_kern_ops;
module_param(two_pass_kern_ops, bool, 0644);
MODULE_PARM_DESC(two_pass_kern_ops,
		 "TWO_PASS mirrors use the kernel's 7.1 two-pass ops, not mni's");

static const struct mmu_interval_notifier_ops *mirror_kern_ops_wanted(void)
{
	/* A plain flag: the tests set it between runs, never during one. */
	return READ_ONCE(two_pass_kern_ops) ? &mirror_kern_two_pass_ops : NULL;
}
#else
static const struct mmu_interval_notifier_ops *mirror_kern_ops_wanted(void)
{
	return NULL;
}
#endif

/* mni's two-pass ops have an insert of their own. */
static int mirror_insert(struct mni_test_mirror *m, struct mm_struct *mm,
			 u64 add_flags, bool locked)
{
	const struct mmu_interval_notifier_ops *ops = &mirror_ops;
	unsigned long len = m->end - m->start;

	if (add_flags & MNI_TEST_ADD_TWO_PASS) {
		ops = mirror_kern_ops_wanted();
		if (!ops)
			return locked ?
				mni_interval_notifier_insert_two_pass_locked(&m->notifier,
									     mm, m->start, len,
									     &mirror_two_pass_ops) :
				mni_interval_notifier_insert_two_pass(&m->notifier, mm,
								      m->start, len,
								      &mirror_two_pass_ops);
	}
	return locked ?
		mmu_interval_notifier_insert_locked(&m->notifier, mm, m->start,
						    len, ops) :
		mmu_interval_notifier_insert(&m->notifier, mm, m->start, len,
					     ops);
}
#else
#ifdef MNI_HAVE_TWO_PASS_OPS
static const struct mmu_interval_notifier_ops *mirror_ops_of(u64 add_flags)
{
	return add_flags & MNI_TEST_ADD_TWO_PASS ? &mirror_kern_two_pass_ops :
						   &mirror_ops;
}
#else
/* Before 7.1 the kernel has no two-pass ops: NULL for TWO_PASS. */
static const struct mmu_interval_notifier_ops *mirror_ops_of(u64 add_flags)
{
	return add_flags & MNI_TEST_ADD_TWO_PASS ? NULL : &mirror_ops;
}
#endif /* MNI_HAVE_TWO_PASS_OPS */

static int mirror_insert(struct mni_test_mirror *m, struct mm_struct *mm,
			 u64 add_flags, bool locked)
{
	const struct mmu_interval_notifier_ops *ops = mirror_ops_of(add_flags);
	unsigned long len = m->end - m->start;

	if (!ops)
		return -EOPNOTSUPP;
	return locked ?
		mmu_interval_notifier_insert_locked(&m->notifier, mm, m->start,
						    len, ops) :
		mmu_interval_notifier_insert(&m->notifier, mm, m->start, len,
					     ops);
}
#endif /* MNI_TEST_FLAVOUR_MNI */

/* Mirrors the engine released after a PUT, all files together. */
static atomic_long_t mni_test_released;

static void mirror_release(struct kref *ref)
{
	struct mni_test_mirror *m = container_of(ref, struct mni_test_mirror,
						 ref);

	/* May wait for an invalidation in flight, which may call us. */
	if (!m->put)
		mmu_interval_notifier_remove(&m->notifier);
	/* No finish runs any more: the spare is back. */
	kfree(m->spare);
	kvfree(m->pfns);
	kfree(m);
}

/* Drop a reference; the last one removes the subscription. No locks held. */
static void mirror_put(struct mni_test_mirror *m)
{
	might_sleep();
	kref_put(&m->ref, mirror_release);
}

#ifdef MNI_TEST_FLAVOUR_MNI
/* The engine is done with a put mirror: drop the reference PUT handed it. */
static void mirror_put_release(struct mmu_interval_notifier *sub)
{
	struct mni_test_mirror *m = container_of(sub, struct mni_test_mirror,
						 notifier);

	atomic_long_inc(&mni_test_released);
	/* Not the last reference while an ioctl still holds one. */
	kref_put(&m->ref, mirror_release);
}

/* PUT: the mirror's own reference goes to the engine. Any context. */
static void mirror_hand_over(struct mni_test_mirror *m)
{
	int ret;

	m->put = true;
	ret = mni_interval_notifier_put(&m->notifier, mirror_put_release);
	WARN_ON_ONCE(ret);
}
#else
/* The upstream workaround: a plain remove, in process context. */
static void mirror_put_work(struct work_struct *work)
{
	struct mni_test_mirror *m = container_of(work, struct mni_test_mirror,
						 put_work);

	mmu_interval_notifier_remove(&m->notifier);
	m->put = true;
	atomic_long_inc(&mni_test_released);
	mirror_put(m);
}

static void mirror_hand_over(struct mni_test_mirror *m)
{
	INIT_WORK(&m->put_work, mirror_put_work);
	/* Deferred even at once: a callback may not remove. */
	schedule_work(&m->put_work);
}
#endif

/* In a callback: a PUT_IN_CALLBACK put of this mirror happens here. */
static void mirror_put_if_armed(struct mni_test_mirror *m)
{
	if (atomic_xchg(&m->put_armed, 0))
		mirror_hand_over(m);
}

static struct mni_test_mirror *mirror_get(struct mni_test_file *f, u64 id)
{
	struct mni_test_mirror *m = NULL;

	if (id > INT_MAX)
		return ERR_PTR(-ENOENT);
	mutex_lock(&f->lock);
	m = idr_find(&f->mirrors, id);
	if (m)
		kref_get(&m->ref);
	mutex_unlock(&f->lock);
	return m ? m : ERR_PTR(-ENOENT);
}

/*
 * Check that [addr, addr + npages pages) lies in the mirror's page table
 * and return the index of addr in it.
 */
static long mirror_index(struct mni_test_mirror *m, u64 addr, u64 npages)
{
	unsigned long idx;

	if (!m->npages || !npages || addr & ~PAGE_MASK ||
	    addr < m->start || addr >= m->end)
		return -EINVAL;
	idx = (addr - m->start) >> PAGE_SHIFT;
	if (npages > m->npages - idx)
		return -EINVAL;
	return idx;
}

static int mni_test_ioc_add(struct mni_test_file *f,
			    struct mni_test_add __user *uarg)
{
	struct mm_struct *mm = current->mm;
	struct mni_test_add arg;
	struct mni_test_mirror *m;
	int ret, id;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (!arg.len || (arg.addr | arg.len) & ~PAGE_MASK ||
	    arg.addr + arg.len <= arg.addr ||
	    arg.flags & ~(MNI_TEST_ADD_LOCKED | MNI_TEST_ADD_NOMIRROR |
			  MNI_TEST_ADD_TWO_PASS | MNI_TEST_ADD_NO_FINISH |
			  MNI_TEST_ADD_READ_LOCKED) ||
	    (arg.flags & MNI_TEST_ADD_LOCKED &&
	     arg.flags & MNI_TEST_ADD_READ_LOCKED) ||
	    (arg.flags & MNI_TEST_ADD_NO_FINISH &&
	     !(arg.flags & MNI_TEST_ADD_TWO_PASS)))
		return -EINVAL;
	if (!(arg.flags & MNI_TEST_ADD_NOMIRROR) &&
	    arg.len >> PAGE_SHIFT > MNI_TEST_MAX_PAGES)
		return -E2BIG;
#ifndef MNI_TEST_FLAVOUR_MNI
	if (!mirror_ops_of(arg.flags))
		return -EOPNOTSUPP;
	if (arg.flags & MNI_TEST_ADD_READ_LOCKED &&
	    IS_ENABLED(CONFIG_PROVE_LOCKING))
		return -EOPNOTSUPP;
#endif

	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	kref_init(&m->ref);
	mutex_init(&m->lock);
	raw_spin_lock_init(&m->log_lock);
	m->start = arg.addr;
	m->end = arg.addr + arg.len;
	m->no_finish = arg.flags & MNI_TEST_ADD_NO_FINISH;
	if (!(arg.flags & MNI_TEST_ADD_NOMIRROR)) {
		m->npages = arg.len >> PAGE_SHIFT;
		m->pfns = kvcalloc(m->npages, sizeof(*m->pfns), GFP_KERNEL);
		if (!m->pfns) {
			ret = -ENOMEM;
			goto err_free;
		}
	}
	ret = mirror_finish_prealloc(m, arg.flags);
	if (ret)
		goto err_free;

	if (arg.flags & MNI_TEST_ADD_LOCKED) {
		mmap_write_lock(mm);
		ret = mirror_insert(m, mm, arg.flags, true);
		mmap_write_unlock(mm);
	} else if (arg.flags & MNI_TEST_ADD_READ_LOCKED) {
		/* A fault handler's insert: only on a pre-registered mm. */
		mmap_read_lock(mm);
		ret = mirror_insert(m, mm, arg.flags, false);
		mmap_read_unlock(mm);
	} else {
		ret = mirror_insert(m, mm, arg.flags, false);
	}
	if (ret)
		goto err_free;

	mutex_lock(&f->lock);
	id = idr_alloc(&f->mirrors, m, 1, 0, GFP_KERNEL);
	mutex_unlock(&f->lock);
	if (id < 0) {
		mirror_put(m);
		return id;
	}

	/* On a failed copy the mirror stays until close, unnamed. */
	arg.id = id;
	return copy_to_user(uarg, &arg, sizeof(arg)) ? -EFAULT : 0;

err_free:
	kfree(m->spare);
	kvfree(m->pfns);
	kfree(m);
	return ret;
}

static int mni_test_ioc_del(struct mni_test_file *f,
			    struct mni_test_del __user *uarg)
{
	struct mni_test_mirror *m = NULL;
	struct mni_test_del arg;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.id > INT_MAX)
		return -ENOENT;
	mutex_lock(&f->lock);
	m = idr_remove(&f->mirrors, arg.id);
	mutex_unlock(&f->lock);
	if (!m)
		return -ENOENT;
	mirror_put(m);
	return 0;
}

/*
 * The standard driver loop for one chunk: sample the sequence, fault
 * without the device lock, then take it and start over if an invalidation
 * ran meanwhile.
 */
static int mirror_fault_chunk(struct mni_test_mirror *m,
			      struct hmm_range *range, struct mni_test_fault *arg)
{
	struct mm_struct *mm = m->notifier.mm;
	unsigned long timeout =
		jiffies + msecs_to_jiffies(HMM_RANGE_DEFAULT_TIMEOUT);
	unsigned long i, n, idx;
	int ret;

	for (;;) {
		if (time_after(jiffies, timeout))
			return -EBUSY;

		range->notifier_seq = mmu_interval_read_begin(range->notifier);
		mmap_read_lock(mm);
		ret = hmm_range_fault(range);
		mmap_read_unlock(mm);
		if (ret == -EBUSY) {
			arg->retries++;
			continue;
		}
		if (ret)
			return ret;

		if (arg->delay_ms) {
			/* The test's window; it does not count as busy. */
			msleep(arg->delay_ms);
			arg->delay_ms = 0;
			timeout = jiffies +
				  msecs_to_jiffies(HMM_RANGE_DEFAULT_TIMEOUT);
		}

		mutex_lock(&m->lock);
		if (!mmu_interval_read_retry(range->notifier,
					     range->notifier_seq))
			break;
		mutex_unlock(&m->lock);
		arg->retries++;
	}

	/* An UPDATE moved the mirror away from the range meanwhile. */
	if (range->start < m->start || range->end > m->end) {
		mutex_unlock(&m->lock);
		return -ESTALE;
	}
	/* Under m->lock with a current sequence: the pfns are valid. */
	idx = (range->start - m->start) >> PAGE_SHIFT;
	n = (range->end - range->start) >> PAGE_SHIFT;
	for (i = 0; i < n; i++) {
		unsigned long hpfn = range->hmm_pfns[i];

		if (!(hpfn & HMM_PFN_VALID) || hpfn & HMM_PFN_ERROR) {
			m->pfns[idx + i] = 0;
			continue;
		}
		m->pfns[idx + i] = hpfn;
		arg->pages++;
		if (hpfn & HMM_PFN_WRITE)
			arg->writable++;
	}
	mutex_unlock(&m->lock);
	return 0;
}

static int mirror_fault(struct mni_test_mirror *m, struct mni_test_fault *arg)
{
	struct mm_struct *mm = m->notifier.mm;
	unsigned long pfns[MNI_TEST_CHUNK];
	struct hmm_range range = {
		.notifier = &m->notifier,
		.hmm_pfns = pfns,
		.default_flags = HMM_PFN_REQ_FAULT,
	};
	unsigned long addr, end;
	long idx;
	int ret = 0;

	idx = mirror_index(m, arg->addr, arg->npages);
	if (idx < 0)
		return idx;
	if (arg->flags & ~MNI_TEST_FAULT_WRITE ||
	    arg->delay_ms > MNI_TEST_MAX_MSECS)
		return -EINVAL;
	if (arg->flags & MNI_TEST_FAULT_WRITE)
		range.default_flags |= HMM_PFN_REQ_WRITE;

	/* The mm may belong to another process: pin its address space. */
	if (!mmget_not_zero(mm))
		return -ESRCH;

	end = arg->addr + (arg->npages << PAGE_SHIFT);
	for (addr = arg->addr; addr < end; addr = range.end) {
		range.start = addr;
		range.end = min(addr + (MNI_TEST_CHUNK << PAGE_SHIFT), end);
		ret = mirror_fault_chunk(m, &range, arg);
		if (ret)
			break;
	}

	mmput(mm);
	return ret;
}

static int mni_test_ioc_fault(struct mni_test_file *f,
			      struct mni_test_fault __user *uarg)
{
	struct mni_test_fault arg;
	struct mni_test_mirror *m;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	m = mirror_get(f, arg.id);
	if (IS_ERR(m))
		return PTR_ERR(m);
	arg.retries = 0;
	arg.pages = 0;
	arg.writable = 0;
	ret = mirror_fault(m, &arg);
	mirror_put(m);
	/* The counters are reported on failure too. */
	if (copy_to_user(uarg, &arg, sizeof(arg)))
		return -EFAULT;
	return ret;
}

/* Copy one chunk of mirrored pages into bounce, under the device lock. */
static unsigned long mirror_copy_chunk(struct mni_test_mirror *m,
				       unsigned long idx, unsigned long n,
				       char *bounce, u8 *state)
{
	unsigned long i, mirrored = 0;

	mutex_lock(&m->lock);
	for (i = 0; i < n; i++) {
		unsigned long hpfn = m->pfns[idx + i];
		char *dst = bounce + i * PAGE_SIZE;
		void *src;

		if (!hpfn) {
			memset(dst, 0, PAGE_SIZE);
			state[i] = MNI_TEST_PAGE_ABSENT;
			continue;
		}
		src = kmap_local_page(hmm_pfn_to_page(hpfn));
		memcpy(dst, src, PAGE_SIZE);
		kunmap_local(src);
		state[i] = hpfn & HMM_PFN_WRITE ? MNI_TEST_PAGE_WRITE :
						  MNI_TEST_PAGE_READ;
		mirrored++;
	}
	mutex_unlock(&m->lock);
	return mirrored;
}

static int mirror_read(struct mni_test_mirror *m, struct mni_test_read *arg)
{
	char __user *ubuf = u64_to_user_ptr(arg->buf);
	u8 __user *ustate = u64_to_user_ptr(arg->state);
	u8 state[MNI_TEST_CHUNK];
	unsigned long done, n;
	char *bounce;
	long idx;
	int ret = 0;

	idx = mirror_index(m, arg->addr, arg->npages);
	if (idx < 0)
		return idx;
	bounce = kvmalloc(MNI_TEST_CHUNK * PAGE_SIZE, GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;

	/* copy_to_user() may fault and invalidate: never under m->lock. */
	for (done = 0; done < arg->npages; done += n) {
		n = min(MNI_TEST_CHUNK, (unsigned long)arg->npages - done);
		arg->mirrored += mirror_copy_chunk(m, idx + done, n, bounce,
						   state);
		if (copy_to_user(ubuf + done * PAGE_SIZE, bounce,
				 n * PAGE_SIZE) ||
		    copy_to_user(ustate + done, state, n)) {
			ret = -EFAULT;
			break;
		}
	}

	kvfree(bounce);
	return ret;
}

static int mni_test_ioc_read(struct mni_test_file *f,
			     struct mni_test_read __user *uarg)
{
	struct mni_test_read arg;
	struct mni_test_mirror *m;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	m = mirror_get(f, arg.id);
	if (IS_ERR(m))
		return PTR_ERR(m);
	arg.mirrored = 0;
	ret = mirror_read(m, &arg);
	mirror_put(m);
	if (ret)
		return ret;
	return copy_to_user(uarg, &arg, sizeof(arg)) ? -EFAULT : 0;
}

static int mni_test_ioc_log(struct mni_test_file *f,
			    struct mni_test_log __user *uarg)
{
	struct mni_test_mirror *m;
	struct mni_test_log *arg;
	unsigned int i;
	int ret = 0;

	arg = kzalloc(sizeof(*arg), GFP_KERNEL);
	if (!arg)
		return -ENOMEM;
	if (copy_from_user(arg, uarg, offsetof(struct mni_test_log, count))) {
		ret = -EFAULT;
		goto out_free;
	}
	if (arg->flags & ~MNI_TEST_LOG_CLEAR) {
		ret = -EINVAL;
		goto out_free;
	}
	m = mirror_get(f, arg->id);
	if (IS_ERR(m)) {
		ret = PTR_ERR(m);
		goto out_free;
	}

	raw_spin_lock(&m->log_lock);
	for (i = 0; i < m->log_count; i++)
		arg->entry[i] = m->log[(m->log_head + i) % MNI_TEST_LOG_MAX];
	arg->count = m->log_count;
	arg->overflow = m->log_overflow;
	arg->calls = m->calls;
	if (arg->flags & MNI_TEST_LOG_CLEAR) {
		m->log_head = 0;
		m->log_count = 0;
		m->log_overflow = 0;
	}
	raw_spin_unlock(&m->log_lock);
	mirror_put(m);

	if (copy_to_user(uarg, arg, sizeof(*arg)))
		ret = -EFAULT;
out_free:
	kfree(arg);
	return ret;
}

static int mni_test_ioc_seq(struct mni_test_file *f,
			    struct mni_test_seq __user *uarg, bool begin)
{
	struct mni_test_seq arg;
	struct mni_test_mirror *m;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	m = mirror_get(f, arg.id);
	if (IS_ERR(m))
		return PTR_ERR(m);
	if (begin) {
		/* May wait for invalidations in flight: no lock held. */
		arg.seq = mmu_interval_read_begin(&m->notifier);
		arg.retry = 0;
	} else {
		mutex_lock(&m->lock);
		arg.retry = mmu_interval_read_retry(&m->notifier, arg.seq);
		mutex_unlock(&m->lock);
	}
	mirror_put(m);
	return copy_to_user(uarg, &arg, sizeof(arg)) ? -EFAULT : 0;
}

#ifdef MNI_TEST_FLAVOUR_MNI
static int mirror_seq_wait(struct mni_test_mirror *m,
			   struct mni_test_seq_wait *arg)
{
	unsigned long seq = 0;
	long timeout;

	if (arg->timeout_ms == -1) {
		arg->ret = mni_interval_read_begin_killable(&m->notifier, &seq);
	} else {
		timeout = arg->timeout_ms < 0 ? arg->timeout_ms :
			  (long)msecs_to_jiffies(arg->timeout_ms);
		arg->ret = mni_interval_read_begin_timeout(&m->notifier,
							   timeout, &seq);
	}
	arg->seq = seq;
	return 0;
}
#else
static int mirror_seq_wait(struct mni_test_mirror *m,
			   struct mni_test_seq_wait *arg)
{
	return -EOPNOTSUPP;
}
#endif

static int mni_test_ioc_seq_wait(struct mni_test_file *f,
				 struct mni_test_seq_wait __user *uarg)
{
	struct mni_test_seq_wait arg;
	struct mni_test_mirror *m;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.timeout_ms > 60000)
		return -EINVAL;
	m = mirror_get(f, arg.id);
	if (IS_ERR(m))
		return PTR_ERR(m);
	/* May wait for invalidations in flight: no lock held. */
	ret = mirror_seq_wait(m, &arg);
	mirror_put(m);
	if (ret)
		return ret;
	return copy_to_user(uarg, &arg, sizeof(arg)) ? -EFAULT : 0;
}

static int mni_test_ioc_hold(struct mni_test_file *f,
			     struct mni_test_hold __user *uarg)
{
	struct mni_test_hold arg;
	struct mni_test_mirror *m;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.msecs > MNI_TEST_MAX_MSECS)
		return -EINVAL;
	m = mirror_get(f, arg.id);
	if (IS_ERR(m))
		return PTR_ERR(m);
	mutex_lock(&m->lock);
	msleep(arg.msecs);
	mutex_unlock(&m->lock);
	mirror_put(m);
	return 0;
}

/* SLOW and SPIN: set one of a mirror's delays. */
static int mni_test_ioc_delay(struct mni_test_file *f,
			      struct mni_test_slow __user *uarg, bool spin)
{
	struct mni_test_slow arg;
	struct mni_test_mirror *m;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.msecs > (spin ? MNI_TEST_MAX_SPIN_MSECS : MNI_TEST_MAX_MSECS))
		return -EINVAL;
	m = mirror_get(f, arg.id);
	if (IS_ERR(m))
		return PTR_ERR(m);
	if (spin)
		WRITE_ONCE(m->spin_ms, arg.msecs);	/* pairs with mirror_spin() */
	else
		WRITE_ONCE(m->slow_ms, arg.msecs);	/* pairs with mirror_slow_down() */
	mirror_put(m);
	return 0;
}

/*
 * RELEASE_REMOVE: a classic notifier whose ->release removes every mirror
 * of the file on the exiting mm, as a driver tearing its device state down
 * at exit does. It runs inside the core's release walk (an SRCU read side),
 * where a remove() that waited for a grace period would wait for itself.
 * It pins the file from the ioctl until its free_notifier.
 */
struct mni_test_release_remove {
	struct mmu_notifier mn;
	struct file *file;
};

/* Take one mirror of @f on @mm out of the file, or return NULL. */
static struct mni_test_mirror *mirror_take_of_mm(struct mni_test_file *f,
						 struct mm_struct *mm)
{
	struct mni_test_mirror *m;
	int id;

	mutex_lock(&f->lock);
	idr_for_each_entry(&f->mirrors, m, id)
		if (m->notifier.mm == mm)
			break;
	if (m)
		idr_remove(&f->mirrors, id);
	mutex_unlock(&f->lock);
	return m;
}

static void release_remove_release(struct mmu_notifier *mn,
				   struct mm_struct *mm)
{
	struct mni_test_release_remove *rr =
		container_of(mn, struct mni_test_release_remove, mn);
	struct mni_test_file *f = rr->file->private_data;
	struct mni_test_mirror *m;

	while ((m = mirror_take_of_mm(f, mm)))
		mirror_put(m);
	mmu_notifier_put(&rr->mn);
}

/* SRCU callback: fput() defers the final release itself. */
static void release_remove_free(struct mmu_notifier *mn)
{
	struct mni_test_release_remove *rr =
		container_of(mn, struct mni_test_release_remove, mn);

	fput(rr->file);
	kfree(rr);
}

static const struct mmu_notifier_ops release_remove_ops = {
	.release = release_remove_release,
	.free_notifier = release_remove_free,
};

static int mni_test_ioc_release_remove(struct file *filp)
{
	struct mni_test_release_remove *rr;
	int ret;

	rr = kzalloc(sizeof(*rr), GFP_KERNEL);
	if (!rr)
		return -ENOMEM;
	rr->mn.ops = &release_remove_ops;
	rr->file = get_file(filp);	/* pairs with fput() in ..._free() */
	ret = mmu_notifier_register(&rr->mn, current->mm);
	if (ret) {
		fput(rr->file);
		kfree(rr);
	}
	return ret;
}

#ifdef MNI_TEST_FLAVOUR_MNI
static int mni_test_mm_get(struct mm_struct *mm)
{
	return mni_mm_get(mm);
}

static int mni_test_mm_put(struct mm_struct *mm)
{
	return mni_mm_put(mm);
}
#else
/*
 * The upstream workaround (NVIDIA UVM): register the core's per-mm state
 * with no notifier, which also marks the mm as having interval notifiers,
 * so later inserts take no lock. It lasts until the mm is gone.
 */
static int mni_test_mm_get(struct mm_struct *mm)
{
	int ret;

	mmap_write_lock(mm);
	ret = __mmu_notifier_register(NULL, mm);
	mmap_write_unlock(mm);
	return ret;
}

static int mni_test_mm_put(struct mm_struct *mm)
{
	return 0;
}
#endif

/* MM_GET: one pre-registration of the caller's mm, for this file. */
static int mni_test_ioc_mm_get(struct mni_test_file *f)
{
	struct mm_struct *mm = current->mm;
	int ret = -EBUSY;

	mutex_lock(&f->lock);
	if (f->pinned_mm && f->pinned_mm != mm)
		goto out_unlock;
	ret = mni_test_mm_get(mm);
	if (!ret) {
		if (!f->pinned_mm) {
			/* Pairs with mmdrop() in mni_test_release(). */
			mmgrab(mm);
			f->pinned_mm = mm;
		}
		f->pins++;
	}
out_unlock:
	mutex_unlock(&f->lock);
	return ret;
}

/* MM_PUT: the engine's answer, also for a put without a get. */
static int mni_test_ioc_mm_put(struct mni_test_file *f)
{
	int ret;

	mutex_lock(&f->lock);
	ret = mni_test_mm_put(current->mm);
	if (!ret && f->pins && f->pinned_mm == current->mm)
		f->pins--;
	mutex_unlock(&f->lock);
	return ret;
}

/* MM_LEAK: this file's pre-registrations are never put. */
#ifdef MNI_TEST_FLAVOUR_MNI
static int mni_test_ioc_mm_leak(struct mni_test_file *f)
{
	mutex_lock(&f->lock);
	f->pins = 0;
	mutex_unlock(&f->lock);
	return 0;
}
#else
/* The kernel's pre-registration lasts as long as the mm: nothing to leak. */
static int mni_test_ioc_mm_leak(struct mni_test_file *f)
{
	return -EOPNOTSUPP;
}
#endif

static int mni_test_ioc_put(struct mni_test_file *f,
			    struct mni_test_put __user *uarg)
{
	struct mni_test_mirror *m = NULL;
	struct mni_test_put arg;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags & ~MNI_TEST_PUT_IN_CALLBACK || arg.id > INT_MAX)
		return -EINVAL;
	if (arg.id) {
		mutex_lock(&f->lock);
		m = idr_remove(&f->mirrors, arg.id);
		mutex_unlock(&f->lock);
		if (!m)
			return -ENOENT;
		/* The idr's reference goes with it. */
		if (arg.flags & MNI_TEST_PUT_IN_CALLBACK)
			atomic_set(&m->put_armed, 1);
		else
			mirror_hand_over(m);
	}
	arg.released = atomic_long_read(&mni_test_released);
	return copy_to_user(uarg, &arg, sizeof(arg)) ? -EFAULT : 0;
}

static int mni_test_ioc_set_owner(struct mni_test_file *f,
				  struct mni_test_owner __user *uarg)
{
	struct mni_test_owner arg;
	struct mni_test_mirror *m;
	int ret = 0;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	m = mirror_get(f, arg.id);
	if (IS_ERR(m))
		return PTR_ERR(m);
#ifdef MNI_TEST_FLAVOUR_MNI
	ret = mni_interval_notifier_set_owner(&m->notifier,
					      (void *)(uintptr_t)arg.owner);
#else
	/* Pairs with READ_ONCE() in mirror_invalidate(). */
	WRITE_ONCE(m->owner, (void *)(uintptr_t)arg.owner);
#endif
	mirror_put(m);
	return ret;
}

/* The mirror moved to [start, end): it forgets every page. */
static void mirror_move_locked(struct mni_test_mirror *m, unsigned long start,
			       unsigned long end)
{
	lockdep_assert_held(&m->lock);
	if (m->npages)
		memset(m->pfns, 0, m->npages * sizeof(*m->pfns));
	m->start = start;
	m->end = end;
}

static int mni_test_ioc_update(struct mni_test_file *f,
			       struct mni_test_update __user *uarg)
{
	struct mni_test_update arg;
	struct mni_test_mirror *m;
	int ret = 0;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags & ~MNI_TEST_UPDATE_RAW)
		return -EINVAL;
	if (!(arg.flags & MNI_TEST_UPDATE_RAW) &&
	    (!arg.len || (arg.addr | arg.len) & ~PAGE_MASK ||
	     arg.addr + arg.len <= arg.addr))
		return -EINVAL;
	m = mirror_get(f, arg.id);
	if (IS_ERR(m))
		return PTR_ERR(m);
	mutex_lock(&f->update_lock);
	if (m->put) {
		ret = -ENOENT;
		goto out;
	}
#ifdef MNI_TEST_FLAVOUR_MNI
	if (arg.flags & MNI_TEST_UPDATE_RAW) {
		ret = mni_interval_notifier_update(&m->notifier, arg.addr,
						   arg.len);
		if (!ret)
			ret = -EPROTO;	/* a bad range was taken */
		goto out;
	}
	if (m->npages && arg.len >> PAGE_SHIFT != m->npages) {
		ret = -EINVAL;
		goto out;
	}
	/* Under the lock the callbacks take: the update never waits. */
	mutex_lock(&m->lock);
	ret = mni_interval_notifier_update(&m->notifier, arg.addr, arg.len);
	if (!ret)
		mirror_move_locked(m, arg.addr, arg.addr + arg.len);
	mutex_unlock(&m->lock);
#else
	if (arg.flags & MNI_TEST_UPDATE_RAW) {
		ret = -EOPNOTSUPP;
		goto out;
	}
	if ((m->npages && arg.len >> PAGE_SHIFT != m->npages) ||
	    current->mm != m->notifier.mm) {
		ret = -EINVAL;
		goto out;
	}
	/*
	 * The upstream way: remove (which waits for the callbacks, so not
	 * under the lock they take), then insert. Between the two, and for
	 * every invalidation already in flight at the insert, no callback
	 * reaches the mirror over either range.
	 */
	mmu_interval_notifier_remove(&m->notifier);
	mutex_lock(&m->lock);
	mirror_move_locked(m, arg.addr, arg.addr + arg.len);
	mutex_unlock(&m->lock);
	ret = mmu_interval_notifier_insert(&m->notifier, current->mm, arg.addr,
					   arg.len, m->notifier.ops);
	/* Out of the tree for good: its release must not remove it. */
	if (ret)
		m->put = true;
#endif
out:
	mutex_unlock(&f->update_lock);
	mirror_put(m);
	return ret;
}

/* migrate_vma_*(): DEVICE_MIGRATION from 6.1, DEVICE_PRIVATE before. */
#if IS_ENABLED(CONFIG_DEVICE_MIGRATION) || \
	(IS_ENABLED(CONFIG_DEVICE_PRIVATE) && IS_ENABLED(CONFIG_MIGRATION))
#define MNI_TEST_MIGRATE_MAX	32UL
static int mni_test_ioc_migrate(struct mni_test_owner __user *uarg)
{
	unsigned long src[MNI_TEST_MIGRATE_MAX] = {};
	unsigned long dst[MNI_TEST_MIGRATE_MAX] = {};
	struct mm_struct *mm = current->mm;
	struct mni_test_owner arg;
	struct migrate_vma args = {};
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (!arg.len || (arg.addr | arg.len) & ~PAGE_MASK ||
	    arg.len >> PAGE_SHIFT > MNI_TEST_MIGRATE_MAX ||
	    arg.addr + arg.len <= arg.addr)
		return -EINVAL;
	args.start = arg.addr;
	args.end = arg.addr + arg.len;
	args.src = src;
	args.dst = dst;
	args.pgmap_owner = (void *)(uintptr_t)arg.owner;
	args.flags = MIGRATE_VMA_SELECT_SYSTEM;
	mmap_read_lock(mm);
	args.vma = find_vma(mm, arg.addr);
	if (!args.vma || args.vma->vm_start > arg.addr ||
	    args.vma->vm_end < args.end) {
		ret = -EINVAL;
		goto out_unlock;
	}
	/* The MIGRATE invalidation; no destination, so nothing moves. */
	ret = migrate_vma_setup(&args);
	if (!ret) {
		migrate_vma_pages(&args);
		migrate_vma_finalize(&args);
	}
out_unlock:
	mmap_read_unlock(mm);
	return ret;
}
#else
static int mni_test_ioc_migrate(struct mni_test_owner __user *uarg)
{
	return -EOPNOTSUPP;
}
#endif

static int mni_test_ioc_grab_mm(void)
{
	mutex_lock(&mni_test_grab_lock);
	if (mni_test_grabbed_mm)
		mmdrop(mni_test_grabbed_mm);	/* pairs with mmgrab() below */
	mmgrab(current->mm);
	mni_test_grabbed_mm = current->mm;
	mutex_unlock(&mni_test_grab_lock);
	return 0;
}

/* Callback of the CHECK subscriptions, which nothing ever reads. */
static bool check_invalidate(struct mmu_interval_notifier *sub,
			     const struct mmu_notifier_range *range,
			     unsigned long cur_seq)
{
	mmu_interval_set_seq(sub, cur_seq);
	return true;
}

static const struct mmu_interval_notifier_ops check_ops = {
	.invalidate = check_invalidate,
};

#ifdef MNI_TEST_FLAVOUR_MNI

static const struct mmu_interval_notifier_ops check_null_invalidate_ops;

#ifdef MNI_HAVE_TWO_PASS_OPS
/* Never called: the engine must refuse ops with a start but no finish. */
static bool check_invalidate_start(struct mmu_interval_notifier *sub,
				   const struct mmu_notifier_range *range,
				   unsigned long cur_seq,
				   struct mmu_interval_notifier_finish **finish)
{
	mmu_interval_set_seq(sub, cur_seq);
	return true;
}

static const struct mmu_interval_notifier_ops check_start_only_ops = {
	.invalidate_start = check_invalidate_start,
};
#endif

/* Never called: the engine must refuse each of these two-pass ops. */
static bool check_two_pass_start(struct mmu_interval_notifier *sub,
				 const struct mmu_notifier_range *range,
				 unsigned long cur_seq,
				 struct mni_interval_notifier_finish **finish)
{
	mmu_interval_set_seq(sub, cur_seq);
	return true;
}

static void check_two_pass_finish(struct mni_interval_notifier_finish *finish)
{
}

static const struct mni_interval_notifier_ops check_two_pass_bad_ops[] = {
	[MNI_TEST_CHECK_TWO_PASS_NO_START - MNI_TEST_CHECK_TWO_PASS_NO_START] = {
		.invalidate_finish = check_two_pass_finish,
	},
	[MNI_TEST_CHECK_TWO_PASS_NO_FINISH - MNI_TEST_CHECK_TWO_PASS_NO_START] = {
		.invalidate_start = check_two_pass_start,
	},
	[MNI_TEST_CHECK_TWO_PASS_BASE_CALLBACK - MNI_TEST_CHECK_TWO_PASS_NO_START] = {
		.base.invalidate = check_invalidate,
		.invalidate_start = check_two_pass_start,
		.invalidate_finish = check_two_pass_finish,
	},
};

/* mni's two-pass insert with the bad ops of CHECK kind @kind. */
static int check_two_pass_insert(struct mmu_interval_notifier *sub,
				 struct mni_test_check *arg)
{
	const struct mni_interval_notifier_ops *ops = NULL;

	if (arg->kind != MNI_TEST_CHECK_TWO_PASS_NULL_OPS)
		ops = &check_two_pass_bad_ops[arg->kind -
					      MNI_TEST_CHECK_TWO_PASS_NO_START];
	arg->ret = mni_interval_notifier_insert_two_pass(sub, current->mm,
							 arg->addr, arg->len,
							 ops);
	if (!arg->ret)
		mmu_interval_notifier_remove(sub);
	return 0;
}

/* Insert on the mm GRAB_MM kept, once no task uses it any more. */
static int check_dead_mm(struct mmu_interval_notifier *sub,
			 struct mni_test_check *arg)
{
	struct mm_struct *mm;
	int ret = 0;

	mutex_lock(&mni_test_grab_lock);
	mm = mni_test_grabbed_mm;
	if (!mm) {
		ret = -ENOENT;
		goto out_unlock;
	}
	if (atomic_read(&mm->mm_users)) {
		ret = -EBUSY;
		goto out_unlock;
	}
	arg->ret = mmu_interval_notifier_insert(sub, mm, arg->addr, arg->len,
						&check_ops);
	if (!arg->ret)
		mmu_interval_notifier_remove(sub);
	mni_test_grabbed_mm = NULL;
	mmdrop(mm);		/* pairs with mmgrab() in GRAB_MM */
out_unlock:
	mutex_unlock(&mni_test_grab_lock);
	return ret;
}

/* CHECK_BAD_PUT's release: the subscription is the ioctl's, nothing to do. */
static void check_released(struct mmu_interval_notifier *sub)
{
}

static int check_engine(struct mmu_interval_notifier *sub,
			struct mni_test_check *arg)
{
	struct mm_struct *mm = current->mm;

	switch (arg->kind) {
	case MNI_TEST_CHECK_NULL_OPS:
		arg->ret = mmu_interval_notifier_insert(sub, mm, arg->addr,
							arg->len, NULL);
		break;
	case MNI_TEST_CHECK_NULL_INVALIDATE:
		arg->ret = mmu_interval_notifier_insert(sub, mm, arg->addr,
							arg->len,
							&check_null_invalidate_ops);
		break;
	case MNI_TEST_CHECK_START_NO_FINISH:
#ifdef MNI_HAVE_TWO_PASS_OPS
		arg->ret = mmu_interval_notifier_insert(sub, mm, arg->addr,
							arg->len,
							&check_start_only_ops);
		break;
#else
		return -EOPNOTSUPP;	/* no two-pass ops before 7.1 */
#endif
	case MNI_TEST_CHECK_DEAD_MM:
		return check_dead_mm(sub, arg);
	case MNI_TEST_CHECK_TWO_PASS_NULL_OPS:
	case MNI_TEST_CHECK_TWO_PASS_NO_START:
	case MNI_TEST_CHECK_TWO_PASS_NO_FINISH:
	case MNI_TEST_CHECK_TWO_PASS_BASE_CALLBACK:
		return check_two_pass_insert(sub, arg);
	case MNI_TEST_CHECK_FOREIGN_REMOVE:
		/*
		 * Not ours: the engine must refuse it and leave it intact.
		 * The kernel's engine leaves deferred_item unset when it
		 * inserts into its tree directly: make it garbage with bit 0
		 * set, as a slab poison would, which an engine trusting it
		 * would follow. read_begin() must report a collision.
		 */
		memset(sub, 0x6b, sizeof(*sub));
		arg->ret = mni_test_foreign_insert(sub, mm, arg->addr,
						   arg->len);
		if (!arg->ret) {
			unsigned long seq = mmu_interval_read_begin(sub);

			if (!mmu_interval_read_retry(sub, seq))
				arg->ret = -EPROTO;
			mmu_interval_notifier_remove(sub);
			mni_test_foreign_remove(sub);
		}
		return 0;
	case MNI_TEST_CHECK_DOUBLE_REMOVE:
		arg->ret = mmu_interval_notifier_insert(sub, mm, arg->addr,
							arg->len, &check_ops);
		if (!arg->ret) {
			mmu_interval_notifier_remove(sub);
			mmu_interval_notifier_remove(sub);
		}
		return 0;
	case MNI_TEST_CHECK_BAD_PUT:
		arg->ret = mmu_interval_notifier_insert(sub, mm, arg->addr,
							arg->len, &check_ops);
		if (arg->ret)
			return 0;
		arg->ret = mni_interval_notifier_put(sub, NULL);
		/* Released at once (nothing holds it): sub is ours again. */
		if (mni_interval_notifier_put(sub, check_released) ||
		    mni_interval_notifier_put(sub, check_released) != -ENOENT)
			arg->ret = -EPROTO;
		return 0;
	case MNI_TEST_CHECK_BAD_UPDATE:
		arg->ret = mmu_interval_notifier_insert(sub, mm, arg->addr,
							arg->len, &check_ops);
		if (arg->ret)
			return 0;
		arg->ret = mni_interval_notifier_update(sub, arg->addr, 0);
		if (mni_interval_notifier_update(sub, -PAGE_SIZE,
						 2 * PAGE_SIZE) != -EOVERFLOW ||
		    mni_interval_notifier_update(NULL, arg->addr,
						 arg->len) != -EINVAL)
			arg->ret = -EPROTO;
		mmu_interval_notifier_remove(sub);
		if (mni_interval_notifier_update(sub, arg->addr,
						 arg->len) != -ENOENT)
			arg->ret = -EPROTO;
		return 0;
	default:
		return -EINVAL;
	}
	if (!arg->ret)
		mmu_interval_notifier_remove(sub);
	return 0;
}

#else /* !MNI_TEST_FLAVOUR_MNI */

/*
 * The kernel's engine crashes or WARNs on these (NULL ops are called,
 * mm_users == 0 is a WARN or BUG, a double remove underflows mm_count, a
 * start without a finish is a WARN), and it has no foreign subscriptions:
 * refuse them.
 */
static int check_engine(struct mmu_interval_notifier *sub,
			struct mni_test_check *arg)
{
	switch (arg->kind) {
	case MNI_TEST_CHECK_NULL_OPS:
	case MNI_TEST_CHECK_NULL_INVALIDATE:
	case MNI_TEST_CHECK_DEAD_MM:
	case MNI_TEST_CHECK_FOREIGN_REMOVE:
	case MNI_TEST_CHECK_DOUBLE_REMOVE:
	case MNI_TEST_CHECK_START_NO_FINISH:
	case MNI_TEST_CHECK_BAD_PUT:
	case MNI_TEST_CHECK_BAD_UPDATE:
	case MNI_TEST_CHECK_TWO_PASS_NULL_OPS:
	case MNI_TEST_CHECK_TWO_PASS_NO_START:
	case MNI_TEST_CHECK_TWO_PASS_NO_FINISH:
	case MNI_TEST_CHECK_TWO_PASS_BASE_CALLBACK:
		return -EOPNOTSUPP;
	default:
		return -EINVAL;
	}
}

#endif /* MNI_TEST_FLAVOUR_MNI */

static int mni_test_ioc_check(struct mni_test_check __user *uarg)
{
	struct mmu_interval_notifier *sub;
	struct mni_test_check arg;
	int ret = 0;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	sub = kzalloc(sizeof(*sub), GFP_KERNEL);
	if (!sub)
		return -ENOMEM;

	arg.ret = 0;
	if (arg.kind == MNI_TEST_CHECK_PLAIN) {
		arg.ret = mmu_interval_notifier_insert(sub, current->mm,
						       arg.addr, arg.len,
						       &check_ops);
		if (!arg.ret)
			mmu_interval_notifier_remove(sub);
	} else {
		ret = check_engine(sub, &arg);
	}
	kfree(sub);

	if (ret)
		return ret;
	return copy_to_user(uarg, &arg, sizeof(arg)) ? -EFAULT : 0;
}

static bool bench_invalidate(struct mmu_interval_notifier *sub,
			     const struct mmu_notifier_range *range,
			     unsigned long cur_seq)
{
	struct mni_test_bench_sub *b = container_of(sub,
						    struct mni_test_bench_sub,
						    notifier);

	if (mmu_notifier_range_blockable(range))
		mutex_lock(b->lock);
	else if (!mutex_trylock(b->lock))
		return false;
	mmu_interval_set_seq(sub, cur_seq);
	mutex_unlock(b->lock);
	return true;
}

static const struct mmu_interval_notifier_ops bench_ops = {
	.invalidate = bench_invalidate,
};

/* Start the device's teardown; false when busy in non-blockable context. */
static bool bench_dev_kick(struct mni_test_bench_dev *d,
			   const struct mmu_notifier_range *range,
			   unsigned long cur_seq)
{
	if (mmu_notifier_range_blockable(range))
		mutex_lock(d->lock);
	else if (!mutex_trylock(d->lock))
		return false;
	mmu_interval_set_seq(&d->notifier, cur_seq);
	/* Pairs with READ_ONCE() in bench_dev_wait(). */
	WRITE_ONCE(d->done_at, ktime_get_ns() + d->device_ns);
	mutex_unlock(d->lock);
	return true;
}

/* Poll the device until its teardown completed, as a driver polls a fence. */
static void bench_dev_wait(struct mni_test_bench_dev *d)
{
	/* Pairs with WRITE_ONCE() in bench_dev_kick(). */
	u64 done_at = READ_ONCE(d->done_at);

	while (ktime_get_ns() < done_at)
		cpu_relax();
}

#ifdef MNI_TEST_FLAVOUR_MNI
static bool bench_dev_start(struct mmu_interval_notifier *sub,
			    const struct mmu_notifier_range *range,
			    unsigned long cur_seq,
			    struct mni_interval_notifier_finish **finish)
{
	struct mni_test_bench_dev *d = container_of(sub,
						    struct mni_test_bench_dev,
						    notifier);

	if (!bench_dev_kick(d, range, cur_seq))
		return false;
	/* Another pass holds the finish: wait here instead. */
	if (atomic_cmpxchg(&d->finish_busy, 0, 1)) {
		bench_dev_wait(d);
		return true;
	}
	*finish = &d->finish;
	return true;
}

static void bench_dev_finish(struct mni_interval_notifier_finish *finish)
{
	struct mni_test_bench_dev *d = container_of(finish,
						    struct mni_test_bench_dev,
						    finish);

	bench_dev_wait(d);
	/* Pairs with atomic_cmpxchg() in bench_dev_start(). */
	atomic_set_release(&d->finish_busy, 0);
}

static const struct mni_interval_notifier_ops bench_dev_ops = {
	.invalidate_start = bench_dev_start,
	.invalidate_finish = bench_dev_finish,
};

static int bench_dev_insert(struct mni_test_bench_dev *d, unsigned long addr,
			    unsigned long len)
{
	return mni_interval_notifier_insert_two_pass(&d->notifier, current->mm,
						     addr, len, &bench_dev_ops);
}
#else
static bool bench_dev_invalidate(struct mmu_interval_notifier *sub,
				 const struct mmu_notifier_range *range,
				 unsigned long cur_seq)
{
	struct mni_test_bench_dev *d = container_of(sub,
						    struct mni_test_bench_dev,
						    notifier);

	if (!bench_dev_kick(d, range, cur_seq))
		return false;
	bench_dev_wait(d);
	return true;
}

static const struct mmu_interval_notifier_ops bench_dev_ops = {
	.invalidate = bench_dev_invalidate,
};

static int bench_dev_insert(struct mni_test_bench_dev *d, unsigned long addr,
			    unsigned long len)
{
	return mmu_interval_notifier_insert(&d->notifier, current->mm, addr,
					    len, &bench_dev_ops);
}
#endif

/* Remove the first @n device subscriptions of @dev, then free it. */
static void bench_dev_remove(struct mni_test_bench_dev *dev, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		mmu_interval_notifier_remove(&dev[i].notifier);
	kvfree(dev);
}

static int bench_dev_insert_set(struct mni_test_file *f,
				struct mni_test_bench_set *arg)
{
	struct mni_test_bench_dev *dev;
	unsigned long i;
	int ret = 0;

	if (arg->count > MNI_TEST_BENCH_MAX_DEVS ||
	    arg->device_ns > MNI_TEST_MAX_SPIN_MSECS * NSEC_PER_MSEC)
		return -EINVAL;
	dev = kvcalloc(arg->count, sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	for (i = 0; i < arg->count && !ret; i++) {
		dev[i].lock = &f->bench_lock;
		dev[i].device_ns = arg->device_ns;
		ret = bench_dev_insert(&dev[i], arg->addr + i * arg->stride,
				       arg->len);
	}
	if (ret) {
		bench_dev_remove(dev, i - 1);
		return ret;
	}
	f->bench_dev = dev;
	f->nbench = arg->count;
	return 0;
}

/*
 * Called every MNI_TEST_BENCH_BATCH iterations of a timed loop: long loops
 * stay preemptible and killable.
 */
#define MNI_TEST_BENCH_BATCH	1024

static int bench_pause(void)
{
	if (fatal_signal_pending(current))
		return -EINTR;
	cond_resched();
	return 0;
}

/* Remove the first @n subscriptions of @bench, then free it. */
static void bench_remove(struct mni_test_bench_sub *bench, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		mmu_interval_notifier_remove(&bench[i].notifier);
		if (!(i % MNI_TEST_BENCH_BATCH))
			cond_resched();
	}
	kvfree(bench);
}

static int bench_insert_set(struct mni_test_file *f,
			    struct mni_test_bench_set *arg)
{
	struct mni_test_bench_sub *bench;
	unsigned long i;
	u64 t0;
	int ret = 0;

	bench = kvcalloc(arg->count, sizeof(*bench), GFP_KERNEL);
	if (!bench)
		return -ENOMEM;
	t0 = ktime_get_ns();
	for (i = 0; i < arg->count; i++) {
		bench[i].lock = &f->bench_lock;
		ret = mmu_interval_notifier_insert(&bench[i].notifier,
						   current->mm,
						   arg->addr + i * arg->stride,
						   arg->len, &bench_ops);
		if (!ret && !(i % MNI_TEST_BENCH_BATCH))
			ret = bench_pause();
		if (ret)
			break;
	}
	arg->ns = ktime_get_ns() - t0;
	if (ret) {
		/* The i-th insert failed or was the last one before a kill. */
		bench_remove(bench, i + (ret == -EINTR));
		return ret;
	}
	f->bench = bench;
	f->nbench = arg->count;
	return 0;
}

static int mni_test_ioc_bench_add(struct mni_test_file *f,
				  struct mni_test_bench_set __user *uarg)
{
	struct mni_test_bench_set arg;
	u64 span;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (!arg.len || (arg.addr | arg.len | arg.stride) & ~PAGE_MASK ||
	    arg.stride < arg.len || !arg.count ||
	    arg.count > MNI_TEST_BENCH_MAX_SUBS ||
	    check_mul_overflow(arg.count - 1, arg.stride, &span) ||
	    check_add_overflow(span, arg.len, &span) ||
	    arg.addr + span <= arg.addr)
		return -EINVAL;

	/* f->lock is never taken by a callback: it may be held over inserts. */
	mutex_lock(&f->lock);
	if (f->bench || f->bench_dev)
		ret = -EBUSY;
	else if (arg.device_ns)
		ret = bench_dev_insert_set(f, &arg);
	else
		ret = bench_insert_set(f, &arg);
	mutex_unlock(&f->lock);
	if (ret)
		return ret;
	return copy_to_user(uarg, &arg, sizeof(arg)) ? -EFAULT : 0;
}

static int mni_test_ioc_bench_del(struct mni_test_file *f,
				  struct mni_test_bench_set __user *uarg)
{
	struct mni_test_bench_set arg = {};
	struct mni_test_bench_sub *bench;
	struct mni_test_bench_dev *dev;
	u64 t0;

	mutex_lock(&f->lock);
	bench = f->bench;
	dev = f->bench_dev;
	arg.count = f->nbench;
	f->bench = NULL;
	f->bench_dev = NULL;
	f->nbench = 0;
	mutex_unlock(&f->lock);
	if (!bench && !dev)
		return -ENOENT;

	t0 = ktime_get_ns();
	if (dev)
		bench_dev_remove(dev, arg.count);
	else
		bench_remove(bench, arg.count);
	arg.ns = ktime_get_ns() - t0;
	return copy_to_user(uarg, &arg, sizeof(arg)) ? -EFAULT : 0;
}

/* The engine's share of an uncontended fault: read_begin, lock, retry. */
static int bench_read_loop(struct mni_test_mirror *m,
			   struct mni_test_bench_loop *arg)
{
	unsigned long seq;
	u64 i;
	int ret;

	for (i = 1; i <= arg->iters; i++) {
		seq = mmu_interval_read_begin(&m->notifier);
		mutex_lock(&m->lock);
		if (mmu_interval_read_retry(&m->notifier, seq))
			arg->retries++;
		mutex_unlock(&m->lock);
		if (!(i % MNI_TEST_BENCH_BATCH)) {
			ret = bench_pause();
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* bench_read_loop() without the engine. */
static int bench_lock_loop(struct mutex *lock, struct mni_test_bench_loop *arg)
{
	u64 i;
	int ret;

	for (i = 1; i <= arg->iters; i++) {
		mutex_lock(lock);
		mutex_unlock(lock);
		if (!(i % MNI_TEST_BENCH_BATCH)) {
			ret = bench_pause();
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int mni_test_ioc_bench_read(struct mni_test_file *f,
				   struct mni_test_bench_loop __user *uarg)
{
	struct mni_test_bench_loop arg;
	struct mni_test_mirror *m = NULL;
	u64 t0;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (!arg.iters || arg.flags & ~MNI_TEST_BENCH_FLOOR)
		return -EINVAL;
	if (!(arg.flags & MNI_TEST_BENCH_FLOOR)) {
		m = mirror_get(f, arg.id);
		if (IS_ERR(m))
			return PTR_ERR(m);
	}

	arg.retries = 0;
	arg.ns2 = 0;
	t0 = ktime_get_ns();
	if (m)
		ret = bench_read_loop(m, &arg);
	else
		ret = bench_lock_loop(&f->bench_lock, &arg);
	arg.ns = ktime_get_ns() - t0;

	if (m)
		mirror_put(m);
	if (ret)
		return ret;
	return copy_to_user(uarg, &arg, sizeof(arg)) ? -EFAULT : 0;
}

/* Insert and remove one subscription, @arg->iters times. */
static int bench_insert_loop(struct mni_test_bench_sub *b,
			     struct mni_test_bench_loop *arg)
{
	bool split = arg->flags & MNI_TEST_BENCH_SPLIT;
	u64 i, t0, t1 = 0, t2;
	int ret;

	t0 = ktime_get_ns();
	for (i = 1; i <= arg->iters; i++) {
		ret = mmu_interval_notifier_insert(&b->notifier, current->mm,
						   arg->addr, arg->len,
						   &bench_ops);
		if (ret)
			return ret;
		if (split)
			t1 = ktime_get_ns();
		mmu_interval_notifier_remove(&b->notifier);
		if (split) {
			t2 = ktime_get_ns();
			arg->ns += t1 - t0;
			arg->ns2 += t2 - t1;
			t0 = t2;
		}
		if (!(i % MNI_TEST_BENCH_BATCH)) {
			ret = bench_pause();
			if (ret)
				return ret;
			if (split)
				t0 = ktime_get_ns();
		}
	}
	if (!split)
		arg->ns = ktime_get_ns() - t0;
	return 0;
}

/* BENCH_INSERT with UPDATE: time @iters moves of one subscription. */
static int bench_update_loop(struct mni_test_bench_sub *b,
			     struct mni_test_bench_loop *arg)
{
	u64 i, t0;
	int ret;

	ret = mmu_interval_notifier_insert(&b->notifier, current->mm,
					   arg->addr, arg->len, &bench_ops);
	if (ret)
		return ret;
	t0 = ktime_get_ns();
	for (i = 1; i <= arg->iters; i++) {
#ifdef MNI_TEST_FLAVOUR_MNI
		ret = mni_interval_notifier_update(&b->notifier, arg->addr,
						   arg->len);
#else
		mmu_interval_notifier_remove(&b->notifier);
		ret = mmu_interval_notifier_insert(&b->notifier, current->mm,
						   arg->addr, arg->len,
						   &bench_ops);
		/* Out of the tree: nothing to remove. */
		if (ret)
			return ret;
#endif
		if (!ret && !(i % MNI_TEST_BENCH_BATCH))
			ret = bench_pause();
		if (ret)
			break;
	}
	arg->ns = ktime_get_ns() - t0;
	mmu_interval_notifier_remove(&b->notifier);
	return ret;
}

/* bench_insert_loop() without the engine. */
static int bench_empty_loop(struct mni_test_bench_loop *arg)
{
	u64 i, t0 = ktime_get_ns();
	int ret;

	for (i = 1; i <= arg->iters; i++) {
		if (!(i % MNI_TEST_BENCH_BATCH)) {
			ret = bench_pause();
			if (ret)
				return ret;
		}
	}
	arg->ns = ktime_get_ns() - t0;
	return 0;
}

static int mni_test_ioc_bench_insert(struct mni_test_file *f,
				     struct mni_test_bench_loop __user *uarg)
{
	struct mni_test_bench_loop arg;
	struct mni_test_bench_sub *b;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (!arg.iters || !arg.len || (arg.addr | arg.len) & ~PAGE_MASK ||
	    arg.addr + arg.len <= arg.addr ||
	    arg.flags & ~(MNI_TEST_BENCH_FLOOR | MNI_TEST_BENCH_SPLIT |
			  MNI_TEST_BENCH_UPDATE))
		return -EINVAL;

	arg.ns = 0;
	arg.ns2 = 0;
	arg.retries = 0;
	if (arg.flags & MNI_TEST_BENCH_FLOOR) {
		ret = bench_empty_loop(&arg);
	} else {
		b = kzalloc(sizeof(*b), GFP_KERNEL);
		if (!b)
			return -ENOMEM;
		b->lock = &f->bench_lock;
		if (arg.flags & MNI_TEST_BENCH_UPDATE)
			ret = bench_update_loop(b, &arg);
		else
			ret = bench_insert_loop(b, &arg);
		kfree(b);
	}
	if (ret)
		return ret;
	return copy_to_user(uarg, &arg, sizeof(arg)) ? -EFAULT : 0;
}

static int mni_test_ioc_info(struct mni_test_info __user *uarg)
{
	struct mni_test_info arg = {
		.engine = MNI_TEST_ENGINE,
		.log_max = MNI_TEST_LOG_MAX,
		.max_pages = MNI_TEST_MAX_PAGES,
		.page_size = PAGE_SIZE,
	};

	return copy_to_user(uarg, &arg, sizeof(arg)) ? -EFAULT : 0;
}

/*
 * Waits for the frees that earlier teardowns left queued: a classic notifier
 * an engine put is freed after an SRCU grace period and drops its mm then
 * (mmu_notifier_put()), and what that frees by RCU after it.
 */
static int mni_test_ioc_settle(void)
{
	mmu_notifier_synchronize();
	rcu_barrier();
	return 0;
}

#include "mni_test_hmm.c"

static long mni_test_ioctl(struct file *filp, unsigned int cmd,
			   unsigned long uarg)
{
	struct mni_test_file *f = filp->private_data;
	void __user *p = (void __user *)uarg;

	switch (cmd) {
	case MNI_TEST_IOC_INFO:
		return mni_test_ioc_info(p);
	case MNI_TEST_IOC_ADD:
		return mni_test_ioc_add(f, p);
	case MNI_TEST_IOC_DEL:
		return mni_test_ioc_del(f, p);
	case MNI_TEST_IOC_FAULT:
		return mni_test_ioc_fault(f, p);
	case MNI_TEST_IOC_READ:
		return mni_test_ioc_read(f, p);
	case MNI_TEST_IOC_LOG:
		return mni_test_ioc_log(f, p);
	case MNI_TEST_IOC_SEQ_BEGIN:
		return mni_test_ioc_seq(f, p, true);
	case MNI_TEST_IOC_SEQ_RETRY:
		return mni_test_ioc_seq(f, p, false);
	case MNI_TEST_IOC_SEQ_WAIT:
		return mni_test_ioc_seq_wait(f, p);
	case MNI_TEST_IOC_HOLD:
		return mni_test_ioc_hold(f, p);
	case MNI_TEST_IOC_SPIN:
		return mni_test_ioc_delay(f, p, true);
	case MNI_TEST_IOC_RELEASE_REMOVE:
		return mni_test_ioc_release_remove(filp);
	case MNI_TEST_IOC_SLOW:
		return mni_test_ioc_delay(f, p, false);
	case MNI_TEST_IOC_GRAB_MM:
		return mni_test_ioc_grab_mm();
	case MNI_TEST_IOC_MM_GET:
		return mni_test_ioc_mm_get(f);
	case MNI_TEST_IOC_MM_PUT:
		return mni_test_ioc_mm_put(f);
	case MNI_TEST_IOC_MM_LEAK:
		return mni_test_ioc_mm_leak(f);
	case MNI_TEST_IOC_PUT:
		return mni_test_ioc_put(f, p);
	case MNI_TEST_IOC_SET_OWNER:
		return mni_test_ioc_set_owner(f, p);
	case MNI_TEST_IOC_UPDATE:
		return mni_test_ioc_update(f, p);
	case MNI_TEST_IOC_MIGRATE:
		return mni_test_ioc_migrate(p);
	case MNI_TEST_IOC_CHECK:
		return mni_test_ioc_check(p);
	case MNI_TEST_IOC_BENCH_ADD:
		return mni_test_ioc_bench_add(f, p);
	case MNI_TEST_IOC_BENCH_DEL:
		return mni_test_ioc_bench_del(f, p);
	case MNI_TEST_IOC_BENCH_READ:
		return mni_test_ioc_bench_read(f, p);
	case MNI_TEST_IOC_BENCH_INSERT:
		return mni_test_ioc_bench_insert(f, p);
	case MNI_TEST_IOC_HMM_FAULT:
		return mni_test_ioc_hmm_fault(f, p);
	case MNI_TEST_IOC_SETTLE:
		return mni_test_ioc_settle();
#ifdef MNI_TEST_FLAVOUR_MNI
	case MNI_TEST_IOC_BOUNDARY:
		return mni_test_ioc_boundary(p);
	case MNI_TEST_IOC_FREEING:
		return mni_test_ioc_freeing(p);
#endif
	default:
		return -ENOTTY;
	}
}

static int mni_test_open(struct inode *inode, struct file *filp)
{
	struct mni_test_file *f;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	mutex_init(&f->lock);
	mutex_init(&f->bench_lock);
	mutex_init(&f->update_lock);
	idr_init(&f->mirrors);
	filp->private_data = f;
	return 0;
}

/*
 * The last reference to the file is gone, so no ioctl is in flight and
 * each idr slot holds the last reference to its mirror: the put removes
 * the subscription, whether or not its mm has exited.
 */
static int mni_test_release(struct inode *inode, struct file *filp)
{
	struct mni_test_file *f = filp->private_data;
	struct mni_test_mirror *m;
	int id;

	idr_for_each_entry(&f->mirrors, m, id)
		mirror_put(m);
	idr_destroy(&f->mirrors);
	/* A driver's release ends its pre-registrations, as here. */
	for (; f->pins; f->pins--)
		mni_test_mm_put(f->pinned_mm);
	if (f->pinned_mm)
		mmdrop(f->pinned_mm);	/* pairs with mmgrab() in MM_GET */
	if (f->bench)
		bench_remove(f->bench, f->nbench);
	if (f->bench_dev)
		bench_dev_remove(f->bench_dev, f->nbench);
	mutex_destroy(&f->bench_lock);
	mutex_destroy(&f->lock);
	kfree(f);
	return 0;
}

static const struct file_operations mni_test_fops = {
	.owner = THIS_MODULE,
	.open = mni_test_open,
	.release = mni_test_release,
	.unlocked_ioctl = mni_test_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice mni_test_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = KBUILD_MODNAME,
	.fops = &mni_test_fops,
	.mode = 0600,
};

static int __init mni_test_init(void)
{
	return misc_register(&mni_test_misc);
}

static void __exit mni_test_exit(void)
{
	misc_deregister(&mni_test_misc);
	/* Runs the free_notifier of every RELEASE_REMOVE notifier put. */
	mmu_notifier_synchronize();
	if (mni_test_grabbed_mm)
		mmdrop(mni_test_grabbed_mm);	/* pairs with GRAB_MM */
}

module_init(mni_test_init);
module_exit(mni_test_exit);

#ifdef MNI_TEST_FLAVOUR_MNI
MNI_IMPORT_NS();
MODULE_DESCRIPTION("Page mirroring test device for mmu_interval_notifier.ko");
#else
MODULE_DESCRIPTION("Page mirroring test device for the kernel's interval notifiers");
#endif
MODULE_LICENSE("GPL");
