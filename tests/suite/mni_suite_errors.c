// SPDX-License-Identifier: GPL-2.0
/*
 * mni_suite_errors.c - conformance tests: bad input
 *
 * Every misuse gets a clear errno or a logged refusal, never a crash,
 * WARN or leak: range boundaries, NULL ops, a dead mm, a foreign or
 * repeated remove, a bad update, bad two-pass ops.
 */
#define _GNU_SOURCE
#include "mni_suite.h"

/* Bad updates get an error, never a crash (ours; the kernel has none). */
static void test_update_bad_input(void)
{
	const size_t n = 2;
	int fd = open_dev();
	char *p = map_pages(n);
	struct mni_test_check c = {
		.kind = MNI_TEST_CHECK_BAD_UPDATE, .addr = (uintptr_t)p,
		.len = n * psz,
	};
	uint64_t id;

	skip_on_kern("the kernel's engine has no update");

	fill(p, n, 32);
	if (ioctl(fd, MNI_TEST_IOC_CHECK, &c)) {
		check_not_refused(-errno);
		FAIL("CHECK BAD_UPDATE: %s", strerror(errno));
	}
	CHECK(c.ret == -EOVERFLOW, "update to an empty range = %lld, or a later update misbehaved",
	      (long long)c.ret);
	id = must_add(fd, p, n * psz, 0);
	CHECK(mirror_update(fd, id, p, 0, MNI_TEST_UPDATE_RAW) == -EOVERFLOW,
	      "UPDATE_RAW to an empty range");
	CHECK(mirror_update(fd, id, p, 2 * n * psz, 0) == -EINVAL,
	      "UPDATE of a mirror to another size");
	must_del(fd, id);
	close(fd);
}

static int64_t must_check(int fd, uint64_t kind, uint64_t addr, uint64_t len)
{
	int64_t r = 0;
	int ret = mirror_check(fd, kind, addr, len, &r);

	check_not_refused(ret);
	CHECK(!ret, "CHECK kind %llu: %s", (unsigned long long)kind,
	      strerror(-ret));
	return r;
}

/* Length 0 and wrapping ranges are -EOVERFLOW; the exact top is fine. */
static void test_insert_range_boundaries(void)
{
	static const struct {
		uint64_t addr, len;
		int64_t want;
	} cases[] = {
		{ 0x10000, 0, -EOVERFLOW },
		{ 0, 0, -EOVERFLOW },
		{ ~0ULL - 0xfff, 0x2000, -EOVERFLOW },
		{ ~0ULL, 2, -EOVERFLOW },
		{ 2, ~0ULL, -EOVERFLOW },
		{ ~0ULL - 0xfff, 0x1000, 0 },	/* last byte is ULONG_MAX */
		{ 1, ~0ULL, 0 },
		{ 0, ~0ULL, 0 },
		{ 0x12345, 1, 0 },		/* no alignment required */
		{ 0x10000, 0x1000, 0 },
	};
	int fd = open_dev();
	bool bad = false;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		int64_t r = must_check(fd, MNI_TEST_CHECK_PLAIN, cases[i].addr,
				       cases[i].len);

		if (r == cases[i].want)
			continue;
		tap_diag("insert(start %#llx, length %#llx) = %lld, want %lld",
			 (unsigned long long)cases[i].addr,
			 (unsigned long long)cases[i].len, (long long)r,
			 (long long)cases[i].want);
		bad = true;
	}
	CHECK(!bad, "wrong insert results");
	close(fd);
}

static void test_insert_null_ops(void)
{
	int fd = open_dev();
	int64_t r;

	skip_on_kern("the kernel's insert takes NULL ops unchecked: the first invalidation oopses");
	r = must_check(fd, MNI_TEST_CHECK_NULL_OPS, 0x10000, 0x1000);
	CHECK(r == -EINVAL, "insert with NULL ops gave %lld", (long long)r);
	close(fd);
}

static void test_insert_null_invalidate(void)
{
	int fd = open_dev();
	int64_t r;

	skip_on_kern("the kernel's insert takes ops without ->invalidate unchecked: the first invalidation oopses");
	r = must_check(fd, MNI_TEST_CHECK_NULL_INVALIDATE, 0x10000, 0x1000);
	CHECK(r == -EINVAL, "insert with NULL ->invalidate gave %lld",
	      (long long)r);
	close(fd);
}

/* Insert on an mm whose users are all gone (mmgrab only) is -EINVAL. */
static void test_insert_dead_mm(void)
{
	int fd = open_dev();
	int round;

	skip_on_kern("the kernel's insert WARNs on an mm without users, a panic under panic_on_warn");

	for (round = 0; round < 2; round++) {
		uint64_t id = 0;
		int pfd[2];
		pid_t pid;
		int64_t r;

		CHECK(pipe(pfd) == 0, "pipe: %s", strerror(errno));
		pid = fork_child();
		if (!pid) {
			/* Round 1: the engine already knows this mm. */
			if (round == 1)
				id = must_add(fd, map_pages(1), psz, 0);
			CHECK(mirror_grab_mm(fd) == 0, "GRAB_MM");
			CHECK(write(pfd[1], &id, sizeof(id)) == sizeof(id), "write");
			_exit(0);
		}
		close(pfd[1]);
		CHECK(read(pfd[0], &id, sizeof(id)) == sizeof(id), "read");
		close(pfd[0]);
		wait_child_ok(pid);
		r = must_check(fd, MNI_TEST_CHECK_DEAD_MM, 0x10000, 0x1000);
		CHECK(r == -EINVAL, "round %d: insert on a dead mm gave %lld",
		      round, (long long)r);
		if (id)
			must_del(fd, id);
	}
	close(fd);
}

/*
 * Handing mni's remove a subscription of the kernel's engine (or one it
 * removed already) must be refused with a logged error, and must leave
 * both engines working.
 */
static void bad_remove(uint64_t kind, const char *what)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(n);
	struct mni_test_log log;
	int kfd, round, lines = 0;
	uint64_t id = 0;
	int64_t r;

	fill(p, n, 26);
	kfd = kmsg_open();
	for (round = 0; round < 2; round++) {
		/* Round 1: mni has a live subscription on the same range. */
		if (round == 1) {
			id = must_add(fd, p, n * psz, 0);
			must_fault(fd, id, p, n, 0);
		}
		r = must_check(fd, kind, (uintptr_t)p, n * psz);
		CHECK(r == 0, "%s: insert gave %lld", what, (long long)r);
		lines += kmsg_count_mni(kfd);
	}
	CHECK(lines > 0, "%s: no error from the engine in the kernel log", what);

	/* mni's own subscription is untouched. */
	CHECK(mprotect(p, n * psz, PROT_READ) == 0, "mprotect: %s",
	      strerror(errno));
	get_log(fd, id, false, &log);
	CHECK(log.count == 1, "%llu invalidations after %s",
	      (unsigned long long)log.count, what);
	expect_event(&log, what, MNI_TEST_EV_PROTECTION_VMA, p, n * psz,
		     MNI_TEST_LOG_BLOCKABLE);
	must_del(fd, id);
	close(kfd);
	close(fd);
}

static void test_remove_foreign(void)
{
	skip_on_kern("the kernel's remove trusts its argument: a subscription of another engine corrupts its tree");
	bad_remove(MNI_TEST_CHECK_FOREIGN_REMOVE, "foreign remove");
}

static void test_remove_twice(void)
{
	skip_on_kern("the kernel's remove trusts its argument: a second remove corrupts its tree");
	bad_remove(MNI_TEST_CHECK_DOUBLE_REMOVE, "double remove");
}

/* The kernel's ops with ->invalidate_start but no ->invalidate_finish are refused. */
static void test_two_pass_insert_start_without_finish(void)
{
	int fd = open_dev();
	int64_t r = 0;
	int ret;

	skip_on_kern("the kernel's engine does not check two-pass ops for a missing ->invalidate_finish");
	/* These are the kernel's two-pass ops, not mni's own: 7.1 and later. */
	if (!kernel_at_least(7, 1))
		tap_skip("the kernel has no two-pass interval notifier ops before Linux 7.1");
	require_two_pass(fd);
	ret = mirror_check(fd, MNI_TEST_CHECK_START_NO_FINISH, 0x10000, 0x1000,
			   &r);
	check_not_refused(ret);
	CHECK(!ret, "CHECK: %s", strerror(-ret));
	CHECK(r == -EINVAL, "insert with a start but no finish gave %lld",
	      (long long)r);
	close(fd);
}

/*
 * mni's two-pass insert with bad ops: NULL ops, no start, no finish, or a
 * base with a callback of its own. Each is -EINVAL with a rate-limited
 * message naming the caller (the test driver's module), and no crash, WARN
 * or leak (the QEMU run and the debug lane watch for those).
 */
static void test_two_pass_insert_bad_ops(void)
{
	static const struct {
		uint64_t kind;
		const char *what;
	} cases[] = {
		{ MNI_TEST_CHECK_TWO_PASS_NULL_OPS, "NULL ops" },
		{ MNI_TEST_CHECK_TWO_PASS_NO_START, "no invalidate_start" },
		{ MNI_TEST_CHECK_TWO_PASS_NO_FINISH, "no invalidate_finish" },
		{ MNI_TEST_CHECK_TWO_PASS_BASE_CALLBACK, "a base callback" },
	};
	int fd = open_dev();
	size_t i;

	skip_on_kern("the kernel's engine has no counterpart of mni's two-pass insert");

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		int kfd = kmsg_open();
		int64_t r = must_check(fd, cases[i].kind, 0x10000, 0x1000);

		CHECK(r == -EINVAL, "two-pass insert with %s gave %lld",
		      cases[i].what, (long long)r);
		CHECK(kmsg_count_engine(kfd, "mni_test_mni") > 0,
		      "two-pass insert with %s: no message naming the caller",
		      cases[i].what);
		close(kfd);
	}
	close(fd);
}

static const struct tap_test tests[] = {
	TEST(insert_range_boundaries, 0),
	TEST(insert_null_ops, 0),
	TEST(insert_null_invalidate, 0),
	TEST(insert_dead_mm, 0),
	TEST(remove_foreign, 0),
	TEST(remove_twice, 0),
	TEST(two_pass_insert_start_without_finish, 0),
	TEST(two_pass_insert_bad_ops, 0),
	TEST(update_bad_input, 0),
};

const struct suite_list suite_errors = { tests, ARRAY_SIZE(tests) };
