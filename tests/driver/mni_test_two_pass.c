// SPDX-License-Identifier: GPL-2.0
/*
 * mni_test_two_pass.c - the mirror's two-pass ops and its insert
 *
 * Owns the start and finish of a two-pass mirror (mni's ops on every
 * kernel, the kernel's from 7.1), the preallocated spare finish, the
 * two_pass_kern_ops parameter, and mirror_insert(), which picks the ops
 * and the insert call for ADD. Included by mni_test.c after
 * mni_test_callback.c.
 */

#if defined(MNI_TEST_FLAVOUR_MNI) || defined(MNI_HAVE_TWO_PASS_OPS)
/*
 * Two-pass ops, used as a device whose teardown is slow would: the start,
 * under the mirror lock, makes faults collide (the new sequence) and hands
 * the engine a finish; the engine calls every finish once the whole pass
 * has been started, before the invalidation goes on, and the finish tears
 * the mirror down. Blockable, each takes the lock itself. Not blockable,
 * the finish must not sleep either: the start keeps the lock it trylocked
 * and the finish drops it. The engine runs every finish it was handed,
 * also after a later subscription refused.
 *
 * The mni flavour uses mni's own two-pass ops, on every kernel, and from
 * 7.1 the kernel's when two_pass_kern_ops is set (a 7.1 driver built
 * against mni_compat.h hands those to this engine); the kernel flavour the
 * kernel's, from 7.1. One code, a thin entry point per finish type.
 *
 * The finish is the mirror's preallocated spare (MNI_TEST_LOG_PREALLOC),
 * so a non-blockable pass allocates nothing. Another invalidation's finish
 * may still hold it: then a blockable start allocates one (GFP_NOWAIT: the
 * callback runs as in reclaim), a non-blockable one does the whole job at
 * once and hands back none.
 */
struct mirror_finish {
	/* What the engine is handed: one of them, by the ops type. */
	union {
#ifdef MNI_TEST_FLAVOUR_MNI
		struct mni_interval_notifier_finish mni;
#endif
#ifdef MNI_HAVE_TWO_PASS_OPS
		struct mmu_interval_notifier_finish kern;
#endif
	} base;
	struct mni_test_log_entry entry;	/* the finish's log entry */
	unsigned long seq_before;	/* sub's sequence before the start */
};

/* The spare, if no finish in flight holds it, or a new one if blockable. */
static struct mirror_finish *mirror_finish_get(struct mni_test_mirror *m,
					       bool blockable, u64 *flags)
{
	/* Pairs with smp_store_release() in mirror_finish_put(). */
	struct mirror_finish *f = xchg(&m->spare, NULL);

	if (f) {
		*flags |= MNI_TEST_LOG_PREALLOC;
		return f;
	}
	if (!blockable)
		return NULL;
	return kmalloc(sizeof(*f), GFP_NOWAIT | __GFP_NOWARN);
}

/* After the last use of @f: the spare goes back to the mirror. */
static void mirror_finish_put(struct mni_test_mirror *m, struct mirror_finish *f,
			      bool prealloc)
{
	if (prealloc)
		/* Pairs with xchg() in mirror_finish_get(): @f is done with. */
		smp_store_release(&m->spare, f);
	else
		kfree(f);
}

/* The first pass; *@finish is left alone when there is no second. */
static bool mirror_invalidate_start(struct mmu_interval_notifier *sub,
				    const struct mmu_notifier_range *range,
				    unsigned long cur_seq,
				    struct mirror_finish **finish)
{
	struct mni_test_mirror *m = container_of(sub, struct mni_test_mirror,
						 notifier);
	bool blockable = mmu_notifier_range_blockable(range);
	u64 flags = blockable ? MNI_TEST_LOG_BLOCKABLE : 0;
	struct mirror_finish *f = NULL;
	unsigned long seq_before;

	if (blockable) {
		mutex_lock(&m->lock);
	} else if (!mutex_trylock(&m->lock)) {
		mirror_log(m, range, cur_seq, MNI_TEST_LOG_BUSY,
			   MNI_TEST_LOG_START);
		return false;
	}

	/* Pairs with WRITE_ONCE() in mmu_interval_set_seq() and insert. */
	seq_before = READ_ONCE(sub->invalidate_seq);
	mmu_interval_set_seq(sub, cur_seq);
	if (!m->no_finish)
		f = mirror_finish_get(m, blockable, &flags);
	/* Logged after set_seq(): a test that sees it sees read_begin() wait. */
	mirror_log(m, range, cur_seq, flags, MNI_TEST_LOG_START);
	if (!f) {
		/* No second pass: the whole job now, as ->invalidate() does. */
		mirror_clear(m, range->start, range->end);
		mirror_slow_down(m, blockable);
		mutex_unlock(&m->lock);
		return true;
	}

	f->entry = (struct mni_test_log_entry){
		.event = range->event,
		.start = range->start,
		.end = range->end,
		.flags = flags,
		.seq = cur_seq,
		.kind = MNI_TEST_LOG_FINISH,
	};
	f->seq_before = seq_before;
	*finish = f;
	/* Not blockable: mirror_invalidate_finish() unlocks. */
	if (blockable)
		mutex_unlock(&m->lock);
	return true;
}

/* @notifier: the engine's pointer, as a driver would use it. */
static void mirror_invalidate_finish(struct mirror_finish *f,
				     struct mmu_interval_notifier *notifier)
{
	struct mni_test_mirror *m = container_of(notifier,
						 struct mni_test_mirror,
						 notifier);
	bool blockable = f->entry.flags & MNI_TEST_LOG_BLOCKABLE;

	/* Not blockable: held since mirror_invalidate_start(). */
	if (blockable)
		mutex_lock(&m->lock);
	if (mmu_interval_read_retry(&m->notifier, f->seq_before))
		f->entry.flags |= MNI_TEST_LOG_COLLIDED;
	mirror_log_entry(m, &f->entry);
	mirror_clear(m, f->entry.start, f->entry.end);
	mirror_slow_down(m, blockable);
	mutex_unlock(&m->lock);
	mirror_finish_put(m, f, f->entry.flags & MNI_TEST_LOG_PREALLOC);
}

/* ADD of a two-pass mirror: its spare finish. */
static int mirror_finish_prealloc(struct mni_test_mirror *m, u64 add_flags)
{
	if (!(add_flags & MNI_TEST_ADD_TWO_PASS) ||
	    add_flags & MNI_TEST_ADD_NO_FINISH)
		return 0;
	m->spare = kzalloc(sizeof(*m->spare), GFP_KERNEL);
	return m->spare ? 0 : -ENOMEM;
}
#else
/* Before 7.1 the kernel flavour has no two-pass ops. */
static int mirror_finish_prealloc(struct mni_test_mirror *m, u64 add_flags)
{
	return 0;
}
#endif

#ifdef MNI_HAVE_TWO_PASS_OPS
/* The kernel's two-pass ops (7.1+): its finish type. */
static bool mirror_kern_start(struct mmu_interval_notifier *sub,
			      const struct mmu_notifier_range *range,
			      unsigned long cur_seq,
			      struct mmu_interval_notifier_finish **finish)
{
	struct mirror_finish *f = NULL;
	bool done = mirror_invalidate_start(sub, range, cur_seq, &f);

	if (f)
		*finish = &f->base.kern;
	return done;
}

static void mirror_kern_finish(struct mmu_interval_notifier_finish *finish)
{
	mirror_invalidate_finish(container_of(finish, struct mirror_finish,
					      base.kern),
				 finish->notifier);
}

static const struct mmu_interval_notifier_ops mirror_kern_two_pass_ops = {
	.invalidate_start = mirror_kern_start,
	.invalidate_finish = mirror_kern_finish,
};
#endif /* MNI_HAVE_TWO_PASS_OPS */

#ifdef MNI_TEST_FLAVOUR_MNI
/* mni's two-pass ops, on every kernel: its finish type. */
static bool mirror_mni_start(struct mmu_interval_notifier *sub,
			     const struct mmu_notifier_range *range,
			     unsigned long cur_seq,
			     struct mni_interval_notifier_finish **finish)
{
	struct mirror_finish *f = NULL;
	bool done = mirror_invalidate_start(sub, range, cur_seq, &f);

	if (f)
		*finish = &f->base.mni;
	return done;
}

static void mirror_mni_finish(struct mni_interval_notifier_finish *finish)
{
	mirror_invalidate_finish(container_of(finish, struct mirror_finish,
					      base.mni),
				 finish->notifier);
}

static const struct mni_interval_notifier_ops mirror_two_pass_ops = {
	.invalidate_start = mirror_mni_start,
	.invalidate_finish = mirror_mni_finish,
};

#ifdef MNI_HAVE_TWO_PASS_OPS
/*
 * Set: TWO_PASS inserts the kernel's two-pass ops through the plain insert
 * (mni_compat.h's mmu_interval_notifier_insert()), as a 7.1 driver does.
 */
static bool two_pass_kern_ops;
module_param(two_pass_kern_ops, bool, 0644);
MODULE_PARM_DESC(two_pass_kern_ops,
		 "TWO_PASS mirrors use the kernel's 7.1 two-pass ops, not mni's");

static const struct mmu_interval_notifier_ops *mirror_kern_ops_wanted(void)
{
	/* A plain flag: the tests set it between runs, never during one. */
	return READ_ONCE(two_pass_kern_ops) ? &mirror_kern_two_pass_ops : NULL;
}
#else
static const struct mmu_interval_notifier_ops *mirror_kern_ops_wanted(void)
{
	return NULL;
}
#endif

/* mni's two-pass ops have an insert of their own. */
static int mirror_insert(struct mni_test_mirror *m, struct mm_struct *mm,
			 u64 add_flags, bool locked)
{
	const struct mmu_interval_notifier_ops *ops = &mirror_ops;
	unsigned long len = m->end - m->start;

	if (add_flags & MNI_TEST_ADD_TWO_PASS) {
		ops = mirror_kern_ops_wanted();
		if (!ops)
			return locked ?
				mni_interval_notifier_insert_two_pass_locked(&m->notifier,
									     mm, m->start, len,
									     &mirror_two_pass_ops) :
				mni_interval_notifier_insert_two_pass(&m->notifier, mm,
								      m->start, len,
								      &mirror_two_pass_ops);
	}
	return locked ?
		mmu_interval_notifier_insert_locked(&m->notifier, mm, m->start,
						    len, ops) :
		mmu_interval_notifier_insert(&m->notifier, mm, m->start, len,
					     ops);
}
#else
#ifdef MNI_HAVE_TWO_PASS_OPS
static const struct mmu_interval_notifier_ops *mirror_ops_of(u64 add_flags)
{
	return add_flags & MNI_TEST_ADD_TWO_PASS ? &mirror_kern_two_pass_ops :
						   &mirror_ops;
}
#else
/* Before 7.1 the kernel has no two-pass ops: NULL for TWO_PASS. */
static const struct mmu_interval_notifier_ops *mirror_ops_of(u64 add_flags)
{
	return add_flags & MNI_TEST_ADD_TWO_PASS ? NULL : &mirror_ops;
}
#endif /* MNI_HAVE_TWO_PASS_OPS */

static int mirror_insert(struct mni_test_mirror *m, struct mm_struct *mm,
			 u64 add_flags, bool locked)
{
	const struct mmu_interval_notifier_ops *ops = mirror_ops_of(add_flags);
	unsigned long len = m->end - m->start;

	if (!ops)
		return -EOPNOTSUPP;
	return locked ?
		mmu_interval_notifier_insert_locked(&m->notifier, mm, m->start,
						    len, ops) :
		mmu_interval_notifier_insert(&m->notifier, mm, m->start, len,
					     ops);
}
#endif /* MNI_TEST_FLAVOUR_MNI */
