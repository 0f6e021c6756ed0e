// SPDX-License-Identifier: GPL-2.0
/*
 * mni_test_mm.c - pre-registration of an mm and the GRAB_MM reference
 *
 * Owns MM_GET, MM_PUT and MM_LEAK (mni_mm_get()/mni_mm_put(), or the
 * upstream workaround in the kernel flavour), and GRAB_MM, the mm
 * reference MNI_TEST_CHECK_DEAD_MM inserts on and module exit drops.
 * Included by mni_test.c.
 */

/* GRAB_MM's reference, for MNI_TEST_CHECK_DEAD_MM. */
static DEFINE_MUTEX(mni_test_grab_lock);
static struct mm_struct *mni_test_grabbed_mm;	/* mmgrab()ed */

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
