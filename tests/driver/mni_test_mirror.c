// SPDX-License-Identifier: GPL-2.0
/*
 * mni_test_mirror.c - a mirror's lifetime: ADD, DEL and RELEASE_REMOVE
 *
 * Owns the mirror's reference count (mirror_get(), mirror_put() and the
 * release that removes the subscription), the range check of the page
 * table (mirror_index()), the ADD and DEL ioctls, and RELEASE_REMOVE, a
 * classic notifier whose ->release removes the file's mirrors of an
 * exiting mm. Included by mni_test.c.
 */

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
