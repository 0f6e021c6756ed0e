// SPDX-License-Identifier: GPL-2.0
/*
 * mni_test_check.c - CHECK: bad input the engine must refuse
 *
 * Owns the CHECK ioctl and its throwaway subscriptions: NULL or
 * incomplete ops, an mm no task uses any more, a foreign subscription, a
 * double remove, a bad put and a bad update. The kernel flavour refuses
 * every kind the kernel's engine would crash or warn on. Included by
 * mni_test.c.
 */

/* Callback of the CHECK subscriptions, which nothing ever reads. */
static bool check_invalidate(struct mmu_interval_notifier *sub,
			     const struct mmu_notifier_range *range,
			     unsigned long cur_seq)
{
	mmu_interval_set_seq(sub, cur_seq);
	return true;
}

static const struct mmu_interval_notifier_ops check_ops = {
	.invalidate = check_invalidate,
};

#ifdef MNI_TEST_FLAVOUR_MNI

static const struct mmu_interval_notifier_ops check_null_invalidate_ops;

#ifdef MNI_HAVE_TWO_PASS_OPS
/* Never called: the engine must refuse ops with a start but no finish. */
static bool check_invalidate_start(struct mmu_interval_notifier *sub,
				   const struct mmu_notifier_range *range,
				   unsigned long cur_seq,
				   struct mmu_interval_notifier_finish **finish)
{
	mmu_interval_set_seq(sub, cur_seq);
	return true;
}

static const struct mmu_interval_notifier_ops check_start_only_ops = {
	.invalidate_start = check_invalidate_start,
};
#endif

/* Never called: the engine must refuse each of these two-pass ops. */
static bool check_two_pass_start(struct mmu_interval_notifier *sub,
				 const struct mmu_notifier_range *range,
				 unsigned long cur_seq,
				 struct mni_interval_notifier_finish **finish)
{
	mmu_interval_set_seq(sub, cur_seq);
	return true;
}

static void check_two_pass_finish(struct mni_interval_notifier_finish *finish)
{
}

static const struct mni_interval_notifier_ops check_two_pass_bad_ops[] = {
	[MNI_TEST_CHECK_TWO_PASS_NO_START - MNI_TEST_CHECK_TWO_PASS_NO_START] = {
		.invalidate_finish = check_two_pass_finish,
	},
	[MNI_TEST_CHECK_TWO_PASS_NO_FINISH - MNI_TEST_CHECK_TWO_PASS_NO_START] = {
		.invalidate_start = check_two_pass_start,
	},
	[MNI_TEST_CHECK_TWO_PASS_BASE_CALLBACK - MNI_TEST_CHECK_TWO_PASS_NO_START] = {
		.base.invalidate = check_invalidate,
		.invalidate_start = check_two_pass_start,
		.invalidate_finish = check_two_pass_finish,
	},
};

/* mni's two-pass insert with the bad ops of CHECK kind @kind. */
static int check_two_pass_insert(struct mmu_interval_notifier *sub,
				 struct mni_test_check *arg)
{
	const struct mni_interval_notifier_ops *ops = NULL;

	if (arg->kind != MNI_TEST_CHECK_TWO_PASS_NULL_OPS)
		ops = &check_two_pass_bad_ops[arg->kind -
					      MNI_TEST_CHECK_TWO_PASS_NO_START];
	arg->ret = mni_interval_notifier_insert_two_pass(sub, current->mm,
							 arg->addr, arg->len,
							 ops);
	if (!arg->ret)
		mmu_interval_notifier_remove(sub);
	return 0;
}

/* Insert on the mm GRAB_MM kept, once no task uses it any more. */
static int check_dead_mm(struct mmu_interval_notifier *sub,
			 struct mni_test_check *arg)
{
	struct mm_struct *mm;
	int ret = 0;

	mutex_lock(&mni_test_grab_lock);
	mm = mni_test_grabbed_mm;
	if (!mm) {
		ret = -ENOENT;
		goto out_unlock;
	}
	if (atomic_read(&mm->mm_users)) {
		ret = -EBUSY;
		goto out_unlock;
	}
	arg->ret = mmu_interval_notifier_insert(sub, mm, arg->addr, arg->len,
						&check_ops);
	if (!arg->ret)
		mmu_interval_notifier_remove(sub);
	mni_test_grabbed_mm = NULL;
	mmdrop(mm);		/* pairs with mmgrab() in GRAB_MM */
out_unlock:
	mutex_unlock(&mni_test_grab_lock);
	return ret;
}

/* CHECK_BAD_PUT's release: the subscription is the ioctl's, nothing to do. */
static void check_released(struct mmu_interval_notifier *sub)
{
}

static int check_engine(struct mmu_interval_notifier *sub,
			struct mni_test_check *arg)
{
	struct mm_struct *mm = current->mm;

	switch (arg->kind) {
	case MNI_TEST_CHECK_NULL_OPS:
		arg->ret = mmu_interval_notifier_insert(sub, mm, arg->addr,
							arg->len, NULL);
		break;
	case MNI_TEST_CHECK_NULL_INVALIDATE:
		arg->ret = mmu_interval_notifier_insert(sub, mm, arg->addr,
							arg->len,
							&check_null_invalidate_ops);
		break;
	case MNI_TEST_CHECK_START_NO_FINISH:
#ifdef MNI_HAVE_TWO_PASS_OPS
		arg->ret = mmu_interval_notifier_insert(sub, mm, arg->addr,
							arg->len,
							&check_start_only_ops);
		break;
#else
		return -EOPNOTSUPP;	/* no two-pass ops before 7.1 */
#endif
	case MNI_TEST_CHECK_DEAD_MM:
		return check_dead_mm(sub, arg);
	case MNI_TEST_CHECK_TWO_PASS_NULL_OPS:
	case MNI_TEST_CHECK_TWO_PASS_NO_START:
	case MNI_TEST_CHECK_TWO_PASS_NO_FINISH:
	case MNI_TEST_CHECK_TWO_PASS_BASE_CALLBACK:
		return check_two_pass_insert(sub, arg);
	case MNI_TEST_CHECK_FOREIGN_REMOVE:
		/*
		 * Not ours: the engine must refuse it and leave it intact.
		 * The kernel's engine leaves deferred_item unset when it
		 * inserts into its tree directly: make it garbage with bit 0
		 * set, as a slab poison would, which an engine trusting it
		 * would follow. read_begin() must report a collision.
		 */
		memset(sub, 0x6b, sizeof(*sub));
		arg->ret = mni_test_foreign_insert(sub, mm, arg->addr,
						   arg->len);
		if (!arg->ret) {
			unsigned long seq = mmu_interval_read_begin(sub);

			if (!mmu_interval_read_retry(sub, seq))
				arg->ret = -EPROTO;
			mmu_interval_notifier_remove(sub);
			mni_test_foreign_remove(sub);
		}
		return 0;
	case MNI_TEST_CHECK_DOUBLE_REMOVE:
		arg->ret = mmu_interval_notifier_insert(sub, mm, arg->addr,
							arg->len, &check_ops);
		if (!arg->ret) {
			mmu_interval_notifier_remove(sub);
			mmu_interval_notifier_remove(sub);
		}
		return 0;
	case MNI_TEST_CHECK_BAD_PUT:
		arg->ret = mmu_interval_notifier_insert(sub, mm, arg->addr,
							arg->len, &check_ops);
		if (arg->ret)
			return 0;
		arg->ret = mni_interval_notifier_put(sub, NULL);
		/* Released at once (nothing holds it): sub is ours again. */
		if (mni_interval_notifier_put(sub, check_released) ||
		    mni_interval_notifier_put(sub, check_released) != -ENOENT)
			arg->ret = -EPROTO;
		return 0;
	case MNI_TEST_CHECK_BAD_UPDATE:
		arg->ret = mmu_interval_notifier_insert(sub, mm, arg->addr,
							arg->len, &check_ops);
		if (arg->ret)
			return 0;
		arg->ret = mni_interval_notifier_update(sub, arg->addr, 0);
		if (mni_interval_notifier_update(sub, -PAGE_SIZE,
						 2 * PAGE_SIZE) != -EOVERFLOW ||
		    mni_interval_notifier_update(NULL, arg->addr,
						 arg->len) != -EINVAL)
			arg->ret = -EPROTO;
		mmu_interval_notifier_remove(sub);
		if (mni_interval_notifier_update(sub, arg->addr,
						 arg->len) != -ENOENT)
			arg->ret = -EPROTO;
		return 0;
	default:
		return -EINVAL;
	}
	if (!arg->ret)
		mmu_interval_notifier_remove(sub);
	return 0;
}

#else /* !MNI_TEST_FLAVOUR_MNI */

/*
 * The kernel's engine crashes or WARNs on these (NULL ops are called,
 * mm_users == 0 is a WARN or BUG, a double remove underflows mm_count, a
 * start without a finish is a WARN), and it has no foreign subscriptions:
 * refuse them.
 */
static int check_engine(struct mmu_interval_notifier *sub,
			struct mni_test_check *arg)
{
	switch (arg->kind) {
	case MNI_TEST_CHECK_NULL_OPS:
	case MNI_TEST_CHECK_NULL_INVALIDATE:
	case MNI_TEST_CHECK_DEAD_MM:
	case MNI_TEST_CHECK_FOREIGN_REMOVE:
	case MNI_TEST_CHECK_DOUBLE_REMOVE:
	case MNI_TEST_CHECK_START_NO_FINISH:
	case MNI_TEST_CHECK_BAD_PUT:
	case MNI_TEST_CHECK_BAD_UPDATE:
	case MNI_TEST_CHECK_TWO_PASS_NULL_OPS:
	case MNI_TEST_CHECK_TWO_PASS_NO_START:
	case MNI_TEST_CHECK_TWO_PASS_NO_FINISH:
	case MNI_TEST_CHECK_TWO_PASS_BASE_CALLBACK:
		return -EOPNOTSUPP;
	default:
		return -EINVAL;
	}
}

#endif /* MNI_TEST_FLAVOUR_MNI */

static int mni_test_ioc_check(struct mni_test_check __user *uarg)
{
	struct mmu_interval_notifier *sub;
	struct mni_test_check arg;
	int ret = 0;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	sub = kzalloc(sizeof(*sub), GFP_KERNEL);
	if (!sub)
		return -ENOMEM;

	arg.ret = 0;
	if (arg.kind == MNI_TEST_CHECK_PLAIN) {
		arg.ret = mmu_interval_notifier_insert(sub, current->mm,
						       arg.addr, arg.len,
						       &check_ops);
		if (!arg.ret)
			mmu_interval_notifier_remove(sub);
	} else {
		ret = check_engine(sub, &arg);
	}
	kfree(sub);

	if (ret)
		return ret;
	return copy_to_user(uarg, &arg, sizeof(arg)) ? -EFAULT : 0;
}
