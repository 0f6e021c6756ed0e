// SPDX-License-Identifier: GPL-2.0
/*
 * mni_suite_boundary.c - the API boundary cases of MNI_TEST_IOC_BOUNDARY
 * (tests/driver/mni_test_boundary.c): remove() from inside callbacks, and
 * calls from hardirq context (the mni flavour only: the kernel's engine
 * forbids remove() from a callback and has no put); a put completed by a
 * non-blockable pass as the mm's last user (both flavours: the kernel's
 * test driver puts by removing from a work item).
 */
#define _GNU_SOURCE
#include <pthread.h>

#include "mni_suite.h"

static struct mni_test_boundary boundary_run(uint64_t mode)
{
	struct mni_test_boundary b = { .mode = mode, .len = 8 * psz };
	int fd;

	skip_on_kern("the kernel's engine forbids remove() from a callback and has no put, update or set_owner");
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
 * The kernel-doc: put and set_owner may be called from any context but
 * NMI, a hardirq handler included; update, which may allocate, refuses
 * interrupt context with -EINVAL. Both puts are released (in the handler,
 * nothing holding them), and the engine lock taken there and everywhere
 * else leaves lockdep (debug kernels) nothing to report.
 */
static void check_irq_calls(uint64_t mode, const char *where)
{
	struct mni_test_boundary b = boundary_run(mode);

	CHECK(b.ret[0] == 0 && b.ret[1] == -EINVAL && b.ret[2] == 0 &&
	      b.ret[3] == 0 && b.out[0] == 1 && b.out[1] == 1,
	      "from %s: put %lld, update %lld, set_owner %lld, put %lld; releases %llu, %llu",
	      where, (long long)b.ret[0], (long long)b.ret[1],
	      (long long)b.ret[2], (long long)b.ret[3],
	      (unsigned long long)b.out[0], (unsigned long long)b.out[1]);
}

static void test_boundary_irq_put_and_set_owner(void)
{
	check_irq_calls(MNI_TEST_BOUNDARY_IRQ_CALLS, "hardirq");
}

/* The same sentence of the kernel-doc, from a timer_list: softirq. */
static void test_boundary_softirq_put_and_set_owner(void)
{
	check_irq_calls(MNI_TEST_BOUNDARY_SOFTIRQ_CALLS, "softirq");
}

/*
 * A put whose release a non-blockable walk completes, as the mm's last
 * user: X is the only subscription of a dying child's mm (no
 * pre-registration), its non-blockable callback spins, and a put of X
 * comes from another thread while process_mrelease(2)'s pass runs it. The
 * pass then releases X after the callback, inside the core's
 * non_block_start(): the end of the mm's registration must not happen
 * there (on PREEMPT_RT its spinlock_t locks sleep: DEBUG_ATOMIC_SLEEP
 * reports it, which the console scan fails).
 */
struct put_later {
	int fd;
	uint64_t id;
	unsigned int delay_ms;
};

static void *put_later_fn(void *arg)
{
	struct put_later *pl = arg;

	usleep(pl->delay_ms * 1000);
	mirror_put_ioc(pl->fd, pl->id, 0);
	return NULL;
}

static void test_nonblock_reap_put_last(void)
{
	const size_t n = 8;
	int fd = open_dev();
	struct put_later pl = { .fd = fd, .delay_ms = 100 };
	uint64_t hold_id, before;
	int pfd[2], pidfd;
	pthread_t t;
	long ret;
	pid_t pid;

	/* The child sleeps (D) holding this mirror of ours, not of its mm. */
	hold_id = must_add(fd, (void *)psz, psz, MNI_TEST_ADD_NOMIRROR);
	before = mirror_put_ioc(fd, 0, 0);
	CHECK(pipe(pfd) == 0, "pipe: %s", strerror(errno));
	pid = fork_child();
	if (!pid) {
		char *p = map_pages(n);
		uint64_t x;

		fill(p, n, 29);
		x = must_add(fd, p, n * psz, 0);
		must_fault(fd, x, p, n, 0);
		CHECK(!mirror_spin(fd, x, 300), "SPIN: %s", strerror(errno));
		CHECK(write(pfd[1], &x, sizeof(x)) == sizeof(x), "write: %s",
		      strerror(errno));
		mirror_hold(fd, hold_id, 3000);
		_exit(0);
	}
	close(pfd[1]);
	CHECK(read(pfd[0], &pl.id, sizeof(pl.id)) == sizeof(pl.id),
	      "child did not report its subscription");
	wait_task_state_d(pid);

	pidfd = pidfd_open_and_kill(pid);
	CHECK(!pthread_create(&t, NULL, put_later_fn, &pl), "pthread_create");
	ret = process_mrelease_or_skip(pidfd);
	pthread_join(t, NULL);
	tap_diag("process_mrelease: %ld (%s)", ret,
		 ret ? strerror(errno) : "ok");
	CHECK(ret == 0, "process_mrelease: %s", strerror(errno));
	CHECK(waitpid(pid, NULL, 0) == pid, "waitpid: %s", strerror(errno));
	CHECK(wait_released(fd, before + 1) >= before + 1,
	      "X was never released");
	must_del(fd, hold_id);
	close(fd);
}

static const struct tap_test tests[] = {
	TEST(boundary_remove_sibling_two_pass, 0),
	TEST(boundary_remove_finishing, 0),
	TEST(boundary_remove_own, 0),
	TEST(boundary_remove_plain, 0),
	TEST(boundary_irq_put_and_set_owner, 0),
	TEST(boundary_softirq_put_and_set_owner, 0),
	TEST(nonblock_reap_put_last, 30),
};

const struct suite_list suite_boundary = { tests, ARRAY_SIZE(tests) };
