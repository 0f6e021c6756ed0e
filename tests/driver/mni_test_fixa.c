// SPDX-License-Identifier: GPL-2.0
/*
 * mni_test_fixa.c - FREEING (mni flavour): the README's put-from-callback
 * pattern with a release that frees the subscription at once, and the
 * subscription's own reader asleep in read_begin() meanwhile.
 *
 *   ARM:  insert M over the first half of [addr, addr + len) (a whole
 *	   number of page pairs), and with
 *	   MNI_TEST_FREEING_OTHER a second subscription over the other half,
 *	   which keeps the tree non-empty and M from being the last user.
 *   READY: wait until READ has entered the kernel (it faults no more).
 *   READ: wait until M's UNMAP callback runs, then read_begin(M); the
 *	   callback puts M once this sleeps, and the walk frees it. The
 *	   sequence goes back to user space; M is never read here again.
 *   DONE: remove the second subscription; report the releases.
 * One FREEING test at a time (a module-wide mutex guards the state).
 */
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "mni_compat.h"
#include "mni_test_uapi.h"
#include "mni_test_fixa.h"

struct fixa_sub {
	struct mmu_interval_notifier notifier;
	bool reader_victim;		/* M: put from its UNMAP callback */
};

static struct {
	struct mutex lock;		/* guards ARM and DONE */
	struct fixa_sub *m, *other;
	struct completion entered;	/* READ is in the kernel */
	struct completion in_cb;	/* M's UNMAP callback runs */
	struct completion reader;	/* READ is about to read_begin(M) */
	atomic_t released;
	bool put;			/* M was put (by its callback) */
} fixa = {
	.lock = __MUTEX_INITIALIZER(fixa.lock),
};

/* Frees at once, as README's first mirror_release() did. */
static void fixa_release(struct mmu_interval_notifier *sub)
{
	struct fixa_sub *s = container_of(sub, struct fixa_sub, notifier);

	memset(s, 0x6b, sizeof(*s));
	kfree(s);
	atomic_inc(&fixa.released);
}

static bool fixa_invalidate(struct mmu_interval_notifier *sub,
			    const struct mmu_notifier_range *range,
			    unsigned long cur_seq)
{
	struct fixa_sub *s = container_of(sub, struct fixa_sub, notifier);

	/* No device and no fault path that maps: no driver lock needed. */
	mmu_interval_set_seq(sub, cur_seq);
	if (!s->reader_victim || range->event != MMU_NOTIFY_UNMAP ||
	    !mmu_notifier_range_blockable(range) || READ_ONCE(fixa.put))
		return true;
	complete(&fixa.in_cb);
	/* The reader is in read_begin(M) after this, asleep after the sleep. */
	wait_for_completion_timeout(&fixa.reader, 10 * HZ);
	msleep(200);
	WRITE_ONCE(fixa.put, true);
	WARN_ON_ONCE(mni_interval_notifier_put(sub, fixa_release));
	return true;
}

static const struct mmu_interval_notifier_ops fixa_ops = {
	.invalidate = fixa_invalidate,
};

static struct fixa_sub *fixa_insert(unsigned long start, unsigned long len)
{
	struct fixa_sub *s = kzalloc(sizeof(*s), GFP_KERNEL);
	int ret;

	if (!s)
		return ERR_PTR(-ENOMEM);
	ret = mmu_interval_notifier_insert(&s->notifier, current->mm, start,
					   len, &fixa_ops);
	if (ret) {
		kfree(s);
		return ERR_PTR(ret);
	}
	return s;
}

static long fixa_arm(struct mni_test_freeing *arg)
{
	unsigned long half = arg->len / 2;
	struct fixa_sub *s;

	if (fixa.m || fixa.other)
		return -EBUSY;
	init_completion(&fixa.entered);
	init_completion(&fixa.in_cb);
	init_completion(&fixa.reader);
	fixa.put = false;
	if (arg->flags & MNI_TEST_FREEING_OTHER) {
		s = fixa_insert(arg->addr + half, arg->len - half);
		if (IS_ERR(s))
			return PTR_ERR(s);
		fixa.other = s;
	}
	s = fixa_insert(arg->addr, half);
	if (IS_ERR(s)) {
		if (fixa.other)
			mmu_interval_notifier_remove(&fixa.other->notifier);
		kfree(fixa.other);
		fixa.other = NULL;
		return PTR_ERR(s);
	}
	s->reader_victim = true;
	fixa.m = s;
	return 0;
}

static long fixa_read(struct mni_test_freeing *arg)
{
	struct fixa_sub *m = fixa.m;

	if (!m)
		return -ENOENT;
	complete(&fixa.entered);
	if (!wait_for_completion_timeout(&fixa.in_cb, 10 * HZ))
		return -ETIMEDOUT;
	complete(&fixa.reader);
	/* M is freed while this sleeps: nothing here reads it again. */
	arg->seq = mmu_interval_read_begin(&m->notifier);
	return 0;
}

static long fixa_done(struct mni_test_freeing *arg)
{
	if (fixa.other) {
		mmu_interval_notifier_remove(&fixa.other->notifier);
		kfree(fixa.other);
		fixa.other = NULL;
	}
	/* An unmap that never came leaves M ours to remove. */
	if (fixa.m && !READ_ONCE(fixa.put)) {
		mmu_interval_notifier_remove(&fixa.m->notifier);
		kfree(fixa.m);
	}
	fixa.m = NULL;
	arg->released = atomic_read(&fixa.released);
	return 0;
}

long mni_test_fixa_freeing(struct mni_test_freeing __user *uarg)
{
	struct mni_test_freeing arg;
	long ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags & ~MNI_TEST_FREEING_OTHER ||
	    (arg.phase == MNI_TEST_FREEING_ARM &&
	     (!arg.len || (arg.addr | arg.len) & ~PAGE_MASK ||
	      arg.addr + arg.len <= arg.addr || (arg.len / 2) & ~PAGE_MASK)))
		return -EINVAL;
	switch (arg.phase) {
	case MNI_TEST_FREEING_ARM:
		mutex_lock(&fixa.lock);
		ret = fixa_arm(&arg);
		mutex_unlock(&fixa.lock);
		break;
	case MNI_TEST_FREEING_READ:
		/* Not under the mutex: DONE must not come before READ returns. */
		ret = fixa_read(&arg);
		break;
	case MNI_TEST_FREEING_READY:
		ret = wait_for_completion_timeout(&fixa.entered, 10 * HZ) ?
		      0 : -ETIMEDOUT;
		break;
	case MNI_TEST_FREEING_DONE:
		mutex_lock(&fixa.lock);
		ret = fixa_done(&arg);
		mutex_unlock(&fixa.lock);
		break;
	default:
		return -EINVAL;
	}
	if (!ret && copy_to_user(uarg, &arg, sizeof(arg)))
		ret = -EFAULT;
	return ret;
}
