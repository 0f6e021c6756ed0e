// SPDX-License-Identifier: GPL-2.0
/*
 * mni_test_put.c - the engine's calls on a live mirror beyond insert and remove
 *
 * Owns PUT (the mirror handed to the engine, at once or from its next
 * callback), SET_OWNER, UPDATE (a mirror moved in place, or removed and
 * re-inserted in the kernel flavour) and MIGRATE (a migrate_vma
 * invalidation carrying an owner). Included by mni_test.c.
 */

/* Mirrors the engine released after a PUT, all files together. */
static atomic_long_t mni_test_released;

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

/* PUT_IRQS_OFF: as a hardirq handler would. */
static void mirror_hand_over_irqs_off(struct mni_test_mirror *m)
{
	unsigned long flags;

	local_irq_save(flags);
	mirror_hand_over(m);
	local_irq_restore(flags);
}

static int mni_test_put_flags_check(u64 flags)
{
	if (flags & ~(MNI_TEST_PUT_IN_CALLBACK | MNI_TEST_PUT_IRQS_OFF) ||
	    ((flags & MNI_TEST_PUT_IN_CALLBACK) &&
	     (flags & MNI_TEST_PUT_IRQS_OFF)))
		return -EINVAL;
	return 0;
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

/* Not reached: the kernel's engine has no put to make with IRQs off. */
static void mirror_hand_over_irqs_off(struct mni_test_mirror *m)
{
	mirror_hand_over(m);
}

static int mni_test_put_flags_check(u64 flags)
{
	if (flags & MNI_TEST_PUT_IRQS_OFF)
		return -EOPNOTSUPP;
	return flags & ~MNI_TEST_PUT_IN_CALLBACK ? -EINVAL : 0;
}
#endif

/* In a callback: a PUT_IN_CALLBACK put of this mirror happens here. */
static void mirror_put_if_armed(struct mni_test_mirror *m)
{
	if (atomic_xchg(&m->put_armed, 0))
		mirror_hand_over(m);
}

static int mni_test_ioc_put(struct mni_test_file *f,
			    struct mni_test_put __user *uarg)
{
	struct mni_test_mirror *m = NULL;
	struct mni_test_put arg;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	ret = mni_test_put_flags_check(arg.flags);
	if (ret)
		return ret;
	if (arg.id > INT_MAX)
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
		else if (arg.flags & MNI_TEST_PUT_IRQS_OFF)
			mirror_hand_over_irqs_off(m);
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
