// SPDX-License-Identifier: GPL-2.0
/*
 * mni_test_callback.c - the mirror's one-pass invalidate callback
 *
 * Owns the callback log (mirror_log()), the clearing of the mirrored pages
 * (mirror_clear()), the delays a test sets (SLOW: a blockable callback
 * sleeps with the mirror lock held; SPIN: a non-blockable one busy-waits
 * after dropping it) and mirror_invalidate() with its ops. Included by
 * mni_test.c.
 */

/* Orders log entries across mirrors (mni_test_log_entry.order). */
static atomic64_t mni_test_log_order = ATOMIC64_INIT(0);

/* Append @entry, stamped with the time and the order, to the log. */
static void mirror_log_entry(struct mni_test_mirror *m,
			     const struct mni_test_log_entry *entry)
{
	u64 now = ktime_get_ns();
	struct mni_test_log_entry *e;

	raw_spin_lock(&m->log_lock);
	m->calls++;
	if (m->log_count == MNI_TEST_LOG_MAX) {
		/* Full: the oldest entry makes room. */
		e = &m->log[m->log_head];
		m->log_head = (m->log_head + 1) % MNI_TEST_LOG_MAX;
		m->log_overflow++;
	} else {
		e = &m->log[(m->log_head + m->log_count) % MNI_TEST_LOG_MAX];
		m->log_count++;
	}
	*e = *entry;
	e->time_ns = now;
	e->order = atomic64_inc_return(&mni_test_log_order);
	raw_spin_unlock(&m->log_lock);
}

static void mirror_log(struct mni_test_mirror *m,
		       const struct mmu_notifier_range *range,
		       unsigned long cur_seq, u64 flags, u64 kind)
{
	struct mni_test_log_entry e = {
		.event = range->event,
		.start = range->start,
		.end = range->end,
		.flags = flags,
		.seq = cur_seq,
		.kind = kind,
	};

	mirror_log_entry(m, &e);
}

/* Forget the mirrored pages of [start, end) clipped to the mirror. */
static void mirror_clear(struct mni_test_mirror *m, unsigned long start,
			 unsigned long end)
{
	unsigned long first, last;

	lockdep_assert_held(&m->lock);
	if (!m->npages)
		return;
	start = max(start, m->start);
	end = min(end, m->end);
	if (start >= end)
		return;
	first = (start - m->start) >> PAGE_SHIFT;
	last = (end - 1 - m->start) >> PAGE_SHIFT;
	memset(&m->pfns[first], 0, (last - first + 1) * sizeof(*m->pfns));
}

/* SLOW: blockable callbacks sleep with the mirror lock held. */
static void mirror_slow_down(struct mni_test_mirror *m, bool blockable)
{
	unsigned int slow_ms = READ_ONCE(m->slow_ms);	/* pairs with SLOW */

	lockdep_assert_held(&m->lock);
	if (blockable && slow_ms)
		msleep(slow_ms);
}

/*
 * SPIN: non-blockable callbacks busy-wait, with the mirror lock dropped, as
 * a device whose teardown is slow and cannot sleep would; the reaper's
 * invalidation then stays in flight that long.
 */
static void mirror_spin(struct mni_test_mirror *m, bool blockable)
{
	unsigned int spin_ms = READ_ONCE(m->spin_ms);	/* pairs with SPIN */

	if (!blockable && spin_ms)
		mdelay(spin_ms);
}

static void mirror_put_if_armed(struct mni_test_mirror *m);

static bool mirror_invalidate(struct mmu_interval_notifier *sub,
			      const struct mmu_notifier_range *range,
			      unsigned long cur_seq)
{
	struct mni_test_mirror *m = container_of(sub, struct mni_test_mirror,
						 notifier);
	bool blockable = mmu_notifier_range_blockable(range);

	/*
	 * The upstream way to skip a device's own migration: by hand. Ours
	 * never calls us then (mni_interval_notifier_set_owner()).
	 */
	if (READ_ONCE(m->owner) && mni_range_owner_of(range) == READ_ONCE(m->owner))
		return true;

	if (blockable) {
		mutex_lock(&m->lock);
	} else if (!mutex_trylock(&m->lock)) {
		mirror_log(m, range, cur_seq, MNI_TEST_LOG_BUSY,
			   MNI_TEST_LOG_INVALIDATE);
		return false;
	}

	/* Logged first, so a test polling the log sees us in flight. */
	mirror_log(m, range, cur_seq, blockable ? MNI_TEST_LOG_BLOCKABLE : 0,
		   MNI_TEST_LOG_INVALIDATE);
	mmu_interval_set_seq(sub, cur_seq);
	mirror_clear(m, range->start, range->end);
	mirror_slow_down(m, blockable);
	mutex_unlock(&m->lock);
	mirror_spin(m, blockable);
	mirror_put_if_armed(m);
	return true;
}

static const struct mmu_interval_notifier_ops mirror_ops = {
	.invalidate = mirror_invalidate,
};
