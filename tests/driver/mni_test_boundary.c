// SPDX-License-Identifier: GPL-2.0
/*
 * mni_test_boundary.c - the API boundary, driven from inside the kernel
 *
 * Only in mni_test_mni.ko: the kernel's engine forbids remove() from a
 * callback, and calls from interrupt context are this module's contract.
 * One ioctl, MNI_TEST_IOC_BOUNDARY, runs a whole case on the caller's mm:
 * it maps an anonymous range (vm_mmap()), inserts subscriptions over it,
 * unmaps it (vm_munmap(): one blockable MMU_NOTIFY_UNMAP invalidation of
 * the whole range) or arms a timer, and reports what the callbacks
 * saw. Every object is freed the moment its remove() returned (or its
 * release ran), so KASAN sees a late touch.
 */
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/mmu_notifier.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/timer.h>
#include <linux/uaccess.h>

#include "mni.h"
#include "mni_kcompat.h"
#include "mni_test_boundary.h"
#include "mni_test_uapi.h"

#define BSUBS	3

struct bsub {
	struct mmu_interval_notifier sub;
	struct mni_interval_notifier_finish finish;
	struct mni_test_boundary *res;
	int idx;
	int remove_idx;			/* remove this one from the callback */
	struct bsub **slots;		/* the case's table, to free a removed one */
};

static void bsub_free(struct bsub *b)
{
	b->slots[b->idx] = NULL;
	kfree(b);
}

/* The callback's remove(): @b's own, or a sibling's. */
static void bsub_remove_in_cb(struct bsub *b)
{
	struct mni_test_boundary *res = b->res;
	int victim = b->remove_idx;
	struct bsub *v;

	if (victim < 0)
		return;
	b->remove_idx = -1;
	v = b->slots[victim];
	if (!v)
		return;
	mni_interval_notifier_remove(&v->sub);
	res->ret[b->idx] = 1;
	/* What the victim's finish had done by then. */
	res->out[victim] = res->finishes[victim];
	bsub_free(v);
}

static bool bsub_invalidate(struct mmu_interval_notifier *sub,
			    const struct mmu_notifier_range *range,
			    unsigned long cur_seq)
{
	struct bsub *b = container_of(sub, struct bsub, sub);

	mmu_interval_set_seq(sub, cur_seq);
	b->res->calls[b->idx]++;
	if (mmu_notifier_range_blockable(range))
		bsub_remove_in_cb(b);
	return true;
}

static const struct mmu_interval_notifier_ops bsub_ops = {
	.invalidate = bsub_invalidate,
};

static bool bsub_start(struct mmu_interval_notifier *sub,
		       const struct mmu_notifier_range *range,
		       unsigned long cur_seq,
		       struct mni_interval_notifier_finish **finish)
{
	struct bsub *b = container_of(sub, struct bsub, sub);
	bool own = b->remove_idx == b->idx;

	mmu_interval_set_seq(sub, cur_seq);
	b->res->calls[b->idx]++;
	if (mmu_notifier_range_blockable(range))
		bsub_remove_in_cb(b);
	/* A start that removed its own subscription asks for no finish. */
	if (!own)
		*finish = &b->finish;
	return true;
}

static void bsub_finish(struct mni_interval_notifier_finish *finish)
{
	struct bsub *b = container_of(finish, struct bsub, finish);

	b->res->finishes[b->idx]++;
}

static const struct mni_interval_notifier_ops bsub_two_pass_ops = {
	.invalidate_start = bsub_start,
	.invalidate_finish = bsub_finish,
};

static int bsub_insert(struct bsub *b, bool two_pass, unsigned long start,
		       unsigned long len)
{
	if (two_pass)
		return mni_interval_notifier_insert_two_pass(&b->sub, current->mm,
							     start, len,
							     &bsub_two_pass_ops);
	return mni_interval_notifier_insert(&b->sub, current->mm, start, len,
					    &bsub_ops);
}

/* The subscriptions of each case: two-pass or not, and whom each removes. */
struct bcase {
	bool two_pass[BSUBS];
	int remove_idx[BSUBS];
};

static const struct bcase bcases[] = {
	/* B removes C while two-pass A's finish is pending. */
	[MNI_TEST_BOUNDARY_REMOVE_SIBLING] = {
		{ true, false, false }, { -1, 2, -1 } },
	/* B removes two-pass A, whose finish this walk still owes. */
	[MNI_TEST_BOUNDARY_REMOVE_FINISHING] = {
		{ true, false, false }, { -1, 0, -1 } },
	/* Each removes its own subscription from its own callback. */
	[MNI_TEST_BOUNDARY_REMOVE_OWN] = {
		{ true, false, false }, { 0, 1, -1 } },
	/* A removes B: one-pass only. */
	[MNI_TEST_BOUNDARY_REMOVE_PLAIN] = {
		{ false, false, false }, { 1, -1, -1 } },
};

static int bcase_run(const struct bcase *c, struct mni_test_boundary *res)
{
	struct bsub *slots[BSUBS] = {};
	unsigned long addr;
	int i, ret = 0;

	addr = vm_mmap(NULL, 0, res->len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, 0);
	if (IS_ERR_VALUE(addr))
		return (int)addr;
	for (i = 0; i < BSUBS; i++) {
		slots[i] = kzalloc(sizeof(*slots[i]), GFP_KERNEL);
		if (!slots[i]) {
			ret = -ENOMEM;
			goto out;
		}
		slots[i]->res = res;
		slots[i]->idx = i;
		slots[i]->remove_idx = c->remove_idx[i];
		slots[i]->slots = slots;
		/* Tree order A, B, C: by start. */
		ret = bsub_insert(slots[i], c->two_pass[i], addr + i * PAGE_SIZE,
				  res->len - i * PAGE_SIZE);
		if (ret) {
			kfree(slots[i]);
			slots[i] = NULL;
			goto out;
		}
	}
	vm_munmap(addr, res->len);
	addr = 0;
out:
	for (i = 0; i < BSUBS; i++) {
		if (!slots[i])
			continue;
		mni_interval_notifier_remove(&slots[i]->sub);
		kfree(slots[i]);
	}
	if (addr)
		vm_munmap(addr, res->len);
	return ret;
}

/* ---- calls from hardirq and softirq context ------------------------ */

struct birq {
	struct hrtimer timer;
	struct timer_list stimer;
	struct mmu_interval_notifier x, y;
	struct mni_test_boundary *res;
	atomic_t released_x, released_y;
	int fired;			/* the handler is done */
};

static void birq_release_x(struct mmu_interval_notifier *sub)
{
	atomic_inc(&container_of(sub, struct birq, x)->released_x);
}

static void birq_release_y(struct mmu_interval_notifier *sub)
{
	atomic_inc(&container_of(sub, struct birq, y)->released_y);
}

/*
 * From interrupt context: put X, update Y (refused: it may allocate), set
 * Y's owner, put Y, which may be the mm's last user and then ends its
 * registration from a work item.
 */
static void birq_calls(struct birq *bi)
{
	bi->res->ret[0] = mni_interval_notifier_put(&bi->x, birq_release_x);
	bi->res->ret[1] = mni_interval_notifier_update(&bi->y,
						       bi->y.interval_tree.start,
						       PAGE_SIZE);
	bi->res->ret[2] = mni_interval_notifier_set_owner(&bi->y, bi);
	bi->res->ret[3] = mni_interval_notifier_put(&bi->y, birq_release_y);
	/* Pairs with smp_load_acquire() in birq_run(). */
	smp_store_release(&bi->fired, 1);
}

/* Hardirq context, even on PREEMPT_RT (HRTIMER_MODE_REL_HARD). */
static enum hrtimer_restart birq_fire(struct hrtimer *t)
{
	birq_calls(container_of(t, struct birq, timer));
	return HRTIMER_NORESTART;
}

/* Softirq context (on PREEMPT_RT, the timer softirq's thread, BH off). */
static void birq_soft_fire(struct timer_list *t)
{
	birq_calls(container_of(t, struct birq, stimer));
}

static int birq_run(struct mni_test_boundary *res, bool hard)
{
	struct birq *bi;
	int ret, i;

	bi = kzalloc(sizeof(*bi), GFP_KERNEL);
	if (!bi)
		return -ENOMEM;
	bi->res = res;
	ret = mni_interval_notifier_insert(&bi->x, current->mm, 1UL << 40,
					   res->len, &bsub_ops);
	if (ret)
		goto out_free;
	ret = mni_interval_notifier_insert(&bi->y, current->mm, 1UL << 40,
					   res->len, &bsub_ops);
	if (ret)
		goto out_x;
	if (hard) {
		hrtimer_setup(&bi->timer, birq_fire, CLOCK_MONOTONIC,
			      HRTIMER_MODE_REL_HARD);
		hrtimer_start(&bi->timer, ns_to_ktime(1000),
			      HRTIMER_MODE_REL_HARD);
	} else {
		timer_setup(&bi->stimer, birq_soft_fire, 0);
		mod_timer(&bi->stimer, jiffies + 1);
	}
	/* Pairs with smp_store_release() in birq_calls(): its results. */
	for (i = 0; i < 2000 && !smp_load_acquire(&bi->fired); i++)
		usleep_range(1000, 2000);
	if (hard)
		hrtimer_cancel(&bi->timer);
	else
		timer_delete_sync(&bi->stimer);
	/* A put the engine accepted releases before this returns. */
	mni_interval_notifier_put_barrier();
	res->out[0] = atomic_read(&bi->released_x);
	res->out[1] = atomic_read(&bi->released_y);
	if (!res->out[1])
		mni_interval_notifier_remove(&bi->y);
out_x:
	if (!res->out[0])
		mni_interval_notifier_remove(&bi->x);
out_free:
	kfree(bi);
	return ret;
}

int mni_test_ioc_boundary(struct mni_test_boundary __user *uarg)
{
	struct mni_test_boundary res;
	int ret;

	if (copy_from_user(&res, uarg, sizeof(res)))
		return -EFAULT;
	if (!res.len || res.len & ~PAGE_MASK || res.len > (64UL << 20) ||
	    res.len < BSUBS * PAGE_SIZE)
		return -EINVAL;
	memset(res.ret, 0, sizeof(res.ret));
	memset(res.calls, 0, sizeof(res.calls));
	memset(res.finishes, 0, sizeof(res.finishes));
	memset(res.out, 0, sizeof(res.out));
	if (res.mode == MNI_TEST_BOUNDARY_IRQ_CALLS ||
	    res.mode == MNI_TEST_BOUNDARY_SOFTIRQ_CALLS)
		ret = birq_run(&res, res.mode == MNI_TEST_BOUNDARY_IRQ_CALLS);
	else if (res.mode < ARRAY_SIZE(bcases) && res.mode)
		ret = bcase_run(&bcases[res.mode], &res);
	else
		return -EINVAL;
	if (ret)
		return ret;
	return copy_to_user(uarg, &res, sizeof(res)) ? -EFAULT : 0;
}
