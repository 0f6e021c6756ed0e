// SPDX-License-Identifier: GPL-2.0
/*
 * mni_test_bench.c - the benchmark ioctls
 *
 * Owns BENCH_ADD and BENCH_DEL (a set of bare subscriptions, or of
 * "devices" whose teardown takes device_ns), BENCH_READ (read_begin, lock,
 * read_retry in a loop) and BENCH_INSERT (insert and remove, or update, in
 * a loop), each with a floor that leaves the engine out. Included by
 * mni_test.c.
 */

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
