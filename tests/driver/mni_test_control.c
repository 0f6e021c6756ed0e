// SPDX-License-Identifier: GPL-2.0
/*
 * mni_test_control.c - what a test reads of and steers in a mirror's callbacks
 *
 * Owns LOG (a copy of the callback log, optionally cleared), HOLD (the
 * device lock held for a while) and SLOW and SPIN (the delays
 * mni_test_callback.c applies). Included by mni_test.c.
 */

static int mni_test_ioc_log(struct mni_test_file *f,
			    struct mni_test_log __user *uarg)
{
	struct mni_test_mirror *m;
	struct mni_test_log *arg;
	unsigned int i;
	int ret = 0;

	arg = kzalloc(sizeof(*arg), GFP_KERNEL);
	if (!arg)
		return -ENOMEM;
	if (copy_from_user(arg, uarg, offsetof(struct mni_test_log, count))) {
		ret = -EFAULT;
		goto out_free;
	}
	if (arg->flags & ~MNI_TEST_LOG_CLEAR) {
		ret = -EINVAL;
		goto out_free;
	}
	m = mirror_get(f, arg->id);
	if (IS_ERR(m)) {
		ret = PTR_ERR(m);
		goto out_free;
	}

	raw_spin_lock(&m->log_lock);
	for (i = 0; i < m->log_count; i++)
		arg->entry[i] = m->log[(m->log_head + i) % MNI_TEST_LOG_MAX];
	arg->count = m->log_count;
	arg->overflow = m->log_overflow;
	arg->calls = m->calls;
	if (arg->flags & MNI_TEST_LOG_CLEAR) {
		m->log_head = 0;
		m->log_count = 0;
		m->log_overflow = 0;
	}
	raw_spin_unlock(&m->log_lock);
	mirror_put(m);

	if (copy_to_user(uarg, arg, sizeof(*arg)))
		ret = -EFAULT;
out_free:
	kfree(arg);
	return ret;
}

static int mni_test_ioc_hold(struct mni_test_file *f,
			     struct mni_test_hold __user *uarg)
{
	struct mni_test_hold arg;
	struct mni_test_mirror *m;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.msecs > MNI_TEST_MAX_MSECS)
		return -EINVAL;
	m = mirror_get(f, arg.id);
	if (IS_ERR(m))
		return PTR_ERR(m);
	mutex_lock(&m->lock);
	msleep(arg.msecs);
	mutex_unlock(&m->lock);
	mirror_put(m);
	return 0;
}

/* SLOW and SPIN: set one of a mirror's delays. */
static int mni_test_ioc_delay(struct mni_test_file *f,
			      struct mni_test_slow __user *uarg, bool spin)
{
	struct mni_test_slow arg;
	struct mni_test_mirror *m;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.msecs > (spin ? MNI_TEST_MAX_SPIN_MSECS : MNI_TEST_MAX_MSECS))
		return -EINVAL;
	m = mirror_get(f, arg.id);
	if (IS_ERR(m))
		return PTR_ERR(m);
	if (spin)
		WRITE_ONCE(m->spin_ms, arg.msecs);	/* pairs with mirror_spin() */
	else
		WRITE_ONCE(m->slow_ms, arg.msecs);	/* pairs with mirror_slow_down() */
	mirror_put(m);
	return 0;
}
