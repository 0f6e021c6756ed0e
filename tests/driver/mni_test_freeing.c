// SPDX-License-Identifier: GPL-2.0
/*
 * mni_test_freeing.c - FREEING (mni flavour): the README's put-from-callback
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
#include "mni_test_freeing.h"

struct freeing_sub {
	struct mmu_interval_notifier notifier;
	bool reader_victim;		/* M: put from its UNMAP callback */
};

static struct {
	struct mutex lock;		/* guards ARM and DONE */
	struct freeing_sub *m, *other;
	struct completion entered;	/* READ is in the kernel */
	struct completion in_cb;	/* M's UNMAP callback runs */
	struct completion reader;	/* READ is about to read_begin(M) */
	atomic_t released;
	bool put;			/* M was put (by its callback) */
} freeing = {
	.lock = __MUTEX_INITIALIZER(freeing.lock),
};

/* Frees at once, as README's first mirror_release() did. */
static void freeing_release(struct mmu_interval_notifier *sub)
{
	struct freeing_sub *s = container_of(sub, struct freeing_sub, notifier);

	memset(s, 0x6b, sizeof(*s));
	kfree(s);
	atomic_inc(&freeing.released);
}

static bool freeing_invalidate(struct mmu_interval_notifier *sub,
			       const struct mmu_notifier_range *range,
			       unsigned long cur_seq)
{
	struct freeing_sub *s = container_of(sub, struct freeing_sub, notifier);

	/* No device and no fault path that maps: no driver lock needed. */
	mmu_interval_set_seq(sub, cur_seq);
	if (!s->reader_victim || range->event != MMU_NOTIFY_UNMAP ||
	    !mmu_notifier_range_blockable(range) || READ_ONCE(freeing.put))
		return true;
	complete(&freeing.in_cb);
	/* The reader is in read_begin(M) after this, asleep after the sleep. */
	wait_for_completion_timeout(&freeing.reader, 10 * HZ);
	msleep(200);
	WRITE_ONCE(freeing.put, true);
	WARN_ON_ONCE(mni_interval_notifier_put(sub, freeing_release));
	return true;
}

static const struct mmu_interval_notifier_ops freeing_ops = {
	.invalidate = freeing_invalidate,
};

static struct freeing_sub *freeing_insert(unsigned long start, unsigned long len)
{
	struct freeing_sub *s = kzalloc(sizeof(*s), GFP_KERNEL);
	int ret;

	if (!s)
		return ERR_PTR(-ENOMEM);
	ret = mmu_interval_notifier_insert(&s->notifier, current->mm, start,
					   len, &freeing_ops);
	if (ret) {
		kfree(s);
		return ERR_PTR(ret);
	}
	return s;
}

static long freeing_arm(struct mni_test_freeing *arg)
{
	unsigned long half = arg->len / 2;
	struct freeing_sub *s;

	if (freeing.m || freeing.other)
		return -EBUSY;
	init_completion(&freeing.entered);
	init_completion(&freeing.in_cb);
	init_completion(&freeing.reader);
	freeing.put = false;
	if (arg->flags & MNI_TEST_FREEING_OTHER) {
		s = freeing_insert(arg->addr + half, arg->len - half);
		if (IS_ERR(s))
			return PTR_ERR(s);
		freeing.other = s;
	}
	s = freeing_insert(arg->addr, half);
	if (IS_ERR(s)) {
		if (freeing.other)
			mmu_interval_notifier_remove(&freeing.other->notifier);
		kfree(freeing.other);
		freeing.other = NULL;
		return PTR_ERR(s);
	}
	s->reader_victim = true;
	freeing.m = s;
	return 0;
}

static long freeing_read(struct mni_test_freeing *arg)
{
	struct freeing_sub *m = freeing.m;

	if (!m)
		return -ENOENT;
	complete(&freeing.entered);
	if (!wait_for_completion_timeout(&freeing.in_cb, 10 * HZ))
		return -ETIMEDOUT;
	complete(&freeing.reader);
	/* M is freed while this sleeps: nothing here reads it again. */
	arg->seq = mmu_interval_read_begin(&m->notifier);
	return 0;
}

static long freeing_done(struct mni_test_freeing *arg)
{
	if (freeing.other) {
		mmu_interval_notifier_remove(&freeing.other->notifier);
		kfree(freeing.other);
		freeing.other = NULL;
	}
	/* An unmap that never came leaves M ours to remove. */
	if (freeing.m && !READ_ONCE(freeing.put)) {
		mmu_interval_notifier_remove(&freeing.m->notifier);
		kfree(freeing.m);
	}
	freeing.m = NULL;
	arg->released = atomic_read(&freeing.released);
	return 0;
}

long mni_test_ioc_freeing(struct mni_test_freeing __user *uarg)
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
		mutex_lock(&freeing.lock);
		ret = freeing_arm(&arg);
		mutex_unlock(&freeing.lock);
		break;
	case MNI_TEST_FREEING_READ:
		/* Not under the mutex: DONE must not come before READ returns. */
		ret = freeing_read(&arg);
		break;
	case MNI_TEST_FREEING_READY:
		ret = wait_for_completion_timeout(&freeing.entered, 10 * HZ) ?
		      0 : -ETIMEDOUT;
		break;
	case MNI_TEST_FREEING_DONE:
		mutex_lock(&freeing.lock);
		ret = freeing_done(&arg);
		mutex_unlock(&freeing.lock);
		break;
	default:
		return -EINVAL;
	}
	if (!ret && copy_to_user(uarg, &arg, sizeof(arg)))
		ret = -EFAULT;
	return ret;
}
