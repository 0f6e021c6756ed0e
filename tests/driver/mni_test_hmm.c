// SPDX-License-Identifier: GPL-2.0
/*
 * mni_test_hmm.c - HMM_FAULT: the hmm_range_fault_unlocked_timeout() of
 * Linux 7.3 on a mirror, as a driver built through mni_compat.h calls it.
 *
 * Included by mni_test.c (it uses the mirror and its lock). In the mni
 * flavour mni_compat.h maps the name onto mmu_interval_notifier.ko's; the
 * kernel flavour calls the kernel's where there is one.
 */

#if defined(MNI_TEST_FLAVOUR_MNI) || defined(MNI_HAVE_HMM_FAULT_UNLOCKED_TIMEOUT)
#define MNI_TEST_HAVE_HMM_HELPER	1
#else
#define MNI_TEST_HAVE_HMM_HELPER	0
#endif

static int mirror_hmm_helper(struct hmm_range *range, unsigned long timeout)
{
#if MNI_TEST_HAVE_HMM_HELPER
	return hmm_range_fault_unlocked_timeout(range, timeout);
#else
	return -EOPNOTSUPP;
#endif
}

/*
 * Under the mirror lock, as a device would: a collision since the helper
 * sampled the sequence stores nothing; otherwise the pfns go to the table.
 */
static int mirror_hmm_store(struct mni_test_mirror *m, struct hmm_range *range,
			    struct mni_test_hmm_fault *arg)
{
	unsigned long i, n = (range->end - range->start) >> PAGE_SHIFT;
	unsigned long idx;

	mutex_lock(&m->lock);
	if (mmu_interval_read_retry(range->notifier, range->notifier_seq)) {
		mutex_unlock(&m->lock);
		arg->collided = 1;
		return 0;
	}
	/* An UPDATE moved the mirror away from the range meanwhile. */
	if (range->start < m->start || range->end > m->end) {
		mutex_unlock(&m->lock);
		return -ESTALE;
	}
	idx = (range->start - m->start) >> PAGE_SHIFT;
	for (i = 0; i < n; i++) {
		unsigned long hpfn = range->hmm_pfns[i];

		if (!(hpfn & HMM_PFN_VALID) || hpfn & HMM_PFN_ERROR) {
			m->pfns[idx + i] = 0;
			continue;
		}
		m->pfns[idx + i] = hpfn;
		arg->pfn[i] = page_to_pfn(hmm_pfn_to_page(hpfn));
	}
	mutex_unlock(&m->lock);
	return 0;
}

static int mirror_hmm_fault(struct mni_test_mirror *m,
			    struct mni_test_hmm_fault *arg)
{
	unsigned long pfns[MNI_TEST_HMM_MAX_PAGES] = { 0 };
	struct hmm_range range = {
		.notifier = &m->notifier,
		.start = arg->addr,
		.end = arg->addr + (arg->npages << PAGE_SHIFT),
		.hmm_pfns = pfns,
		.default_flags = HMM_PFN_REQ_FAULT,
	};
	struct mm_struct *mm = m->notifier.mm;
	int ret = 0;

	if (arg->flags & MNI_TEST_FAULT_WRITE)
		range.default_flags |= HMM_PFN_REQ_WRITE;
	if (arg->flags & MNI_TEST_HMM_NO_MMGET) {
		arg->ret = mirror_hmm_helper(&range,
					     msecs_to_jiffies(arg->timeout_ms));
		return arg->ret ? 0 : mirror_hmm_store(m, &range, arg);
	}
	/* The mm may belong to another process: pin its address space. */
	if (!mmget_not_zero(mm))
		return -ESRCH;
	arg->ret = mirror_hmm_helper(&range, msecs_to_jiffies(arg->timeout_ms));
	if (!arg->ret)
		ret = mirror_hmm_store(m, &range, arg);
	mmput(mm);
	return ret;
}

static int mni_test_ioc_hmm_fault(struct mni_test_file *f,
				  struct mni_test_hmm_fault __user *uarg)
{
	struct mni_test_hmm_fault arg;
	struct mni_test_mirror *m;
	long idx;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (!MNI_TEST_HAVE_HMM_HELPER)
		return -EOPNOTSUPP;
	if (arg.flags & ~(MNI_TEST_FAULT_WRITE | MNI_TEST_HMM_NO_MMGET) ||
	    arg.npages > MNI_TEST_HMM_MAX_PAGES ||
	    arg.timeout_ms > MNI_TEST_MAX_MSECS)
		return -EINVAL;
	m = mirror_get(f, arg.id);
	if (IS_ERR(m))
		return PTR_ERR(m);
	idx = mirror_index(m, arg.addr, arg.npages);
	if (idx < 0) {
		ret = idx;
		goto out;
	}
	arg.ret = 0;
	arg.collided = 0;
	memset(arg.pfn, 0, sizeof(arg.pfn));
	ret = mirror_hmm_fault(m, &arg);
	if (!ret && copy_to_user(uarg, &arg, sizeof(arg)))
		ret = -EFAULT;
out:
	mirror_put(m);
	return ret;
}
