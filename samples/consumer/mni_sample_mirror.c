// SPDX-License-Identifier: GPL-2.0
/*
 * mni_sample_mirror.c - a minimal mirroring driver on mmu_interval_notifier.ko
 *
 * The "device" is a small page table (mirror->pfns) filled from a range of
 * a process's address space with hmm_range_fault(). It holds no page
 * references: the interval notifier callback clears the entries the CPU
 * unmaps, under the same lock the fault path takes to publish them.
 *
 * The code is written against the upstream API names; <mni_compat.h> maps
 * the four engine functions to mmu_interval_notifier.ko and
 * MNI_IMPORT_NS() imports its symbol namespace. Two extensions of ours
 * show too: the mm is pre-registered first (mni_mm_get(), as a driver's
 * open() would), so the insert can run under mmap_lock held for read, as a
 * fault handler's; and the mirror goes with mni_interval_notifier_put(),
 * which never waits: the engine frees it through sample_release() once no
 * callback can run on it.
 *
 * To show that it works, the module mirrors a few pages of the process
 * that loads it (modprobe) and checks that unmapping them reaches the
 * mirror: on load (selftest=1, the default), and again in the writer's
 * process on every `echo 1 > /sys/module/mni_sample_mirror/parameters/run`.
 * A failed check makes the load, or the write, fail with -EIO; `passes`
 * counts the runs that passed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hmm.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#include <mni_compat.h>

MNI_IMPORT_NS();

#define SAMPLE_PAGES	4

struct sample_mirror {
	struct mmu_interval_notifier notifier;
	unsigned long start;		/* the mirrored range [start, end) */
	unsigned long end;
	struct mutex lock;		/* the "device lock": guards the rest */
	unsigned long pfns[SAMPLE_PAGES]; /* hmm pfns; 0: not mirrored */
	unsigned int invalidations;
};

static bool sample_invalidate(struct mmu_interval_notifier *sub,
			      const struct mmu_notifier_range *range,
			      unsigned long cur_seq)
{
	struct sample_mirror *m = container_of(sub, struct sample_mirror, notifier);
	unsigned long start = max(range->start, m->start);
	unsigned long end = min(range->end, m->end);
	unsigned long addr;

	/* No sleeping when the core cannot block (OOM reaper). */
	if (mmu_notifier_range_blockable(range))
		mutex_lock(&m->lock);
	else if (!mutex_trylock(&m->lock))
		return false;

	mmu_interval_set_seq(sub, cur_seq);
	for (addr = start; addr < end; addr += PAGE_SIZE)
		m->pfns[(addr - m->start) >> PAGE_SHIFT] = 0;
	m->invalidations++;
	mutex_unlock(&m->lock);
	return true;
}

static const struct mmu_interval_notifier_ops sample_ops = {
	.invalidate = sample_invalidate,
};

/* Mirror the whole range: the read_begin / fault / read_retry loop. */
static int sample_fault(struct sample_mirror *m)
{
	struct mm_struct *mm = m->notifier.mm;
	unsigned long hmm_pfns[SAMPLE_PAGES];
	struct hmm_range range = {
		.notifier = &m->notifier,
		.start = m->start,
		.end = m->end,
		.hmm_pfns = hmm_pfns,
		.default_flags = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE,
	};
	unsigned long timeout = jiffies + msecs_to_jiffies(HMM_RANGE_DEFAULT_TIMEOUT);
	int ret;

	for (;;) {
		if (time_after(jiffies, timeout))
			return -EBUSY;
		range.notifier_seq = mmu_interval_read_begin(&m->notifier);
		mmap_read_lock(mm);
		ret = hmm_range_fault(&range);
		mmap_read_unlock(mm);
		if (ret == -EBUSY)
			continue;
		if (ret)
			return ret;

		mutex_lock(&m->lock);
		if (!mmu_interval_read_retry(&m->notifier, range.notifier_seq))
			break;
		mutex_unlock(&m->lock);	/* invalidated meanwhile: again */
	}
	memcpy(m->pfns, hmm_pfns, sizeof(m->pfns));	/* "program the device" */
	mutex_unlock(&m->lock);
	return 0;
}

static unsigned int sample_mirrored(struct sample_mirror *m, unsigned long *mask)
{
	unsigned int i, n = 0;

	*mask = 0;
	mutex_lock(&m->lock);
	for (i = 0; i < SAMPLE_PAGES; i++) {
		if (m->pfns[i] & HMM_PFN_VALID) {
			*mask |= 1UL << i;
			n++;
		}
	}
	mutex_unlock(&m->lock);
	return n;
}

/* The engine is done with a put mirror: no callback runs on it, none will. */
static void sample_release(struct mmu_interval_notifier *sub)
{
	kfree(container_of(sub, struct sample_mirror, notifier));
}

/* Mirror SAMPLE_PAGES fresh pages of current's mm, then unmap them. */
static int sample_selftest(void)
{
	const unsigned long len = SAMPLE_PAGES * PAGE_SIZE;
	struct mm_struct *mm = current->mm;
	struct sample_mirror *m;
	unsigned long addr, mask;
	bool mapped = true;
	unsigned int n;
	int ret;

	if (!mm)
		return -EINVAL;
	/* A driver's open(): from here inserts on mm never register. */
	ret = mni_mm_get(mm);
	if (ret)
		return ret;
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m) {
		ret = -ENOMEM;
		goto err_put_mm;
	}
	mutex_init(&m->lock);

	addr = vm_mmap(NULL, 0, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, 0);
	if (IS_ERR_VALUE(addr)) {
		ret = (int)addr;
		goto err_free;
	}
	m->start = addr;
	m->end = addr + len;

	/* As a fault handler would: under mmap_lock, which insert never takes. */
	mmap_read_lock(mm);
	ret = mmu_interval_notifier_insert(&m->notifier, mm, addr, len, &sample_ops);
	mmap_read_unlock(mm);
	if (ret) {
		pr_err("self-test: mmu_interval_notifier_insert: %d\n", ret);
		vm_munmap(addr, len);
		goto err_free;
	}

	ret = sample_fault(m);
	if (ret) {
		pr_err("self-test failed: fault: %d\n", ret);
		goto out;
	}
	ret = -EIO;
	n = sample_mirrored(m, &mask);
	if (n != SAMPLE_PAGES) {
		pr_err("self-test failed: %u of %u pages mirrored (mask %#lx)\n",
		       n, SAMPLE_PAGES, mask);
		goto out;
	}

	/* The CPU unmaps page 1: the device must lose exactly that page. */
	vm_munmap(addr + PAGE_SIZE, PAGE_SIZE);
	sample_mirrored(m, &mask);
	if (mask != 0xd) {
		pr_err("self-test failed: after unmapping page 1 the mirror holds %#lx, not 0xd\n",
		       mask);
		goto out;
	}

	/* And then all of it. */
	vm_munmap(addr, len);
	mapped = false;
	n = sample_mirrored(m, &mask);
	if (n || m->invalidations < 2) {
		pr_err("self-test failed: after unmapping everything the mirror holds %#lx, %u invalidations\n",
		       mask, m->invalidations);
		goto out;
	}
	ret = 0;
	pr_info("self-test passed in %s[%d]: %d pages mirrored, %u invalidations\n",
		current->comm, task_pid_nr(current), SAMPLE_PAGES, m->invalidations);
out:
	if (mapped)
		vm_munmap(addr, len);
	/* Never waits; sample_release() frees m, now or once no walk holds it. */
	mni_interval_notifier_put(&m->notifier, sample_release);
	mni_mm_put(mm);
	return ret;

err_free:
	kfree(m);
err_put_mm:
	mni_mm_put(mm);
	return ret;
}

static unsigned int passes;
module_param(passes, uint, 0444);
MODULE_PARM_DESC(passes, "self-test runs that passed");

static bool selftest = true;
module_param(selftest, bool, 0444);
MODULE_PARM_DESC(selftest, "run the self-test on load (default: yes)");

static bool sample_live;

static int sample_run_set(const char *val, const struct kernel_param *kp)
{
	bool run;
	int ret = kstrtobool(val, &run);

	if (ret)
		return ret;
	if (!run)
		return 0;
	if (!READ_ONCE(sample_live))
		return -EBUSY;
	ret = sample_selftest();
	if (!ret)
		passes++;
	return ret;
}

static const struct kernel_param_ops sample_run_ops = {
	.set = sample_run_set,
};
module_param_cb(run, &sample_run_ops, NULL, 0200);
MODULE_PARM_DESC(run, "write 1: run the self-test in the writer's process");

static int __init sample_init(void)
{
	int ret;

	if (selftest) {
		ret = sample_selftest();
		if (ret)
			return ret;
		passes++;
	}
	WRITE_ONCE(sample_live, true);
	return 0;
}

static void __exit sample_exit(void)
{
}

module_init(sample_init);
module_exit(sample_exit);

MODULE_DESCRIPTION("sample mirroring driver using mmu_interval_notifier.ko");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.1.0");
