// SPDX-License-Identifier: GPL-2.0
/*
 * mni_suite_boundary.c - the API boundary cases of MNI_TEST_IOC_BOUNDARY
 * (tests/driver/mni_test_boundary.c): remove() from inside callbacks, and
 * calls from hardirq context. Included at the end of mni_suite.c; the mni
 * flavour only (the kernel's forbids remove() from a callback).
 */

static struct mni_test_boundary boundary_run(uint64_t mode)
{
	struct mni_test_boundary b = { .mode = mode, .len = 8 * 4096 };
	int fd;

	if (engine_is_kern())
		tap_skip("the kernel's engine forbids these calls");
	fd = open_dev();
	CHECK(!ioctl(fd, MNI_TEST_IOC_BOUNDARY, &b), "BOUNDARY %llu: %s",
	      (unsigned long long)mode, strerror(errno));
	close(fd);
	return b;
}

/* B's callback removes C while two-pass A's finish is pending: no hang. */
static void test_boundary_remove_sibling_two_pass(void)
{
	struct mni_test_boundary b =
		boundary_run(MNI_TEST_BOUNDARY_REMOVE_SIBLING);

	CHECK(b.ret[1] == 1, "B's remove of C did not return");
	CHECK(b.calls[0] == 1 && b.finishes[0] == 1,
	      "A: %llu calls, %llu finishes", (unsigned long long)b.calls[0],
	      (unsigned long long)b.finishes[0]);
	CHECK(b.calls[1] == 1 && !b.calls[2],
	      "B called %llu times, C %llu times after its remove",
	      (unsigned long long)b.calls[1], (unsigned long long)b.calls[2]);
}

/* B removes A, whose finish the walk owes: A's finish runs first. */
static void test_boundary_remove_finishing(void)
{
	struct mni_test_boundary b =
		boundary_run(MNI_TEST_BOUNDARY_REMOVE_FINISHING);

	CHECK(b.ret[1] == 1, "B's remove of A did not return");
	CHECK(b.finishes[0] == 1 && b.out[0] == 1,
	      "A's finish: %llu in all, %llu when its remove returned",
	      (unsigned long long)b.finishes[0],
	      (unsigned long long)b.out[0]);
}

/* Each of A (two-pass) and B removes itself from its own callback. */
static void test_boundary_remove_own(void)
{
	struct mni_test_boundary b = boundary_run(MNI_TEST_BOUNDARY_REMOVE_OWN);

	CHECK(b.ret[0] == 1 && b.ret[1] == 1, "own removes: %lld, %lld",
	      (long long)b.ret[0], (long long)b.ret[1]);
	CHECK(b.calls[0] == 1 && b.calls[1] == 1 && !b.finishes[0],
	      "calls %llu, %llu; A's finishes %llu",
	      (unsigned long long)b.calls[0], (unsigned long long)b.calls[1],
	      (unsigned long long)b.finishes[0]);
}

/* A's callback removes B (lockdep: no recursion on the pass's map). */
static void test_boundary_remove_plain(void)
{
	struct mni_test_boundary b =
		boundary_run(MNI_TEST_BOUNDARY_REMOVE_PLAIN);

	CHECK(b.ret[0] == 1 && b.calls[0] == 1 && !b.calls[1],
	      "A's remove of B: %lld; B called %llu times",
	      (long long)b.ret[0], (unsigned long long)b.calls[1]);
}

/*
 * put, update and set_owner from hardirq context are refused with -EINVAL
 * (and nothing spins on the engine lock or takes a sleeping lock there).
 */
static void test_boundary_irq_calls_refused(void)
{
	struct mni_test_boundary b = boundary_run(MNI_TEST_BOUNDARY_IRQ_CALLS);

	CHECK(b.ret[0] == -EINVAL && b.ret[1] == -EINVAL &&
	      b.ret[2] == -EINVAL && !b.out[0],
	      "from hardirq: put %lld, update %lld, set_owner %lld, %llu releases",
	      (long long)b.ret[0], (long long)b.ret[1], (long long)b.ret[2],
	      (unsigned long long)b.out[0]);
}
