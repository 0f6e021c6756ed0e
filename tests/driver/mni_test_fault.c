// SPDX-License-Identifier: GPL-2.0
/*
 * mni_test_fault.c - faulting through a mirror and reading it back
 *
 * Owns FAULT (the standard driver loop: read_begin, hmm_range_fault(),
 * lock, read_retry), READ (copying the mirrored pages out under the device
 * lock) and the sequence ioctls SEQ_BEGIN, SEQ_RETRY and SEQ_WAIT.
 * Included by mni_test.c.
 */

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
