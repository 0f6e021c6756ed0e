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
 * One topic a file, each #included below, so that a flavour stays one
 * translation unit of static functions: mni_test_callback.c and
 * mni_test_two_pass.c (the mirror's callbacks), mni_test_mirror.c (its
 * lifetime), mni_test_fault.c, mni_test_control.c, mni_test_mm.c,
 * mni_test_put.c, mni_test_check.c, mni_test_bench.c and mni_test_hmm.c
 * (the ioctls); this file keeps the types, the ioctl dispatch and the
 * device.
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

#include "mni_test_callback.c"
#include "mni_test_two_pass.c"
#include "mni_test_mirror.c"
#include "mni_test_fault.c"
#include "mni_test_control.c"
#include "mni_test_mm.c"
#include "mni_test_put.c"
#include "mni_test_check.c"
#include "mni_test_bench.c"
#include "mni_test_hmm.c"

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
