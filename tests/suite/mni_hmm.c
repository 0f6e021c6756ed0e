// SPDX-License-Identifier: GPL-2.0
/*
 * mni_hmm.c - TAP suite: Linux 7.3's hmm_range_fault_unlocked_timeout()
 * as a driver built through mni_compat.h calls it (the driver's HMM_FAULT)
 *
 * On a subscription of mmu_interval_notifier.ko the kernel's helper samples
 * the sequence with the kernel's own read_begin, which does not see this
 * engine's invalidations: called while one is in flight it returns the
 * page being unmapped. mni_compat.h maps the name to mni's helper, which
 * must wait for every invalidation of the range in flight, stop at its
 * budget with -EBUSY, die at once on SIGKILL, and fail a fault that needs
 * mmap_lock dropped (userfaultfd) with -EFAULT instead of hanging.
 *
 * The kernel flavour runs the same tests with the kernel's own helper
 * (7.3+) on its own engine; before 7.3 HMM_FAULT is EOPNOTSUPP: skipped.
 * So without a DEVICE both flavours run, and their results are not
 * compared.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mirror.h"
#include "must.h"
#include "op_thread.h"
#include "tap.h"
#include "util.h"

/* How long the SLOW callback sleeps. */
#define SLOW_MS		1000
/* now_ms() against the log's kernel clock: both CLOCK_MONOTONIC. */
#define CLOCK_SLACK_MS	50
#define RACE_ATTEMPTS	3

static struct mni_test_info info;

static bool is_mni(void)
{
	return info.engine == MNI_TEST_ENGINE_MNI;
}

/* How many pages of [p, p + n pages) the mirror maps. */
static uint64_t mirrored_pages(int fd, uint64_t id, char *p, size_t n)
{
	uint8_t state[MNI_TEST_HMM_MAX_PAGES];
	char *buf = malloc(n * psz);
	uint64_t mirrored = 0;

	CHECK(buf, "malloc");
	CHECK(mirror_read(fd, id, p, n, buf, state, &mirrored) == 0, "READ");
	free(buf);
	return mirrored;
}

static int hmm_fault_flags(int fd, uint64_t id, void *addr, size_t n,
			   uint64_t timeout_ms, uint64_t flags,
			   struct mni_test_hmm_fault *h)
{
	memset(h, 0, sizeof(*h));
	h->id = id;
	h->addr = (uintptr_t)addr;
	h->npages = n;
	h->timeout_ms = timeout_ms;
	h->flags = flags;
	return ioctl(fd, MNI_TEST_IOC_HMM_FAULT, h) ? -errno : 0;
}

static int hmm_fault(int fd, uint64_t id, void *addr, size_t n,
		     uint64_t timeout_ms, struct mni_test_hmm_fault *h)
{
	return hmm_fault_flags(fd, id, addr, n, timeout_ms, 0, h);
}

/* HMM_FAULT, skipping the test where the flavour has no helper. */
static void must_hmm_fault(int fd, uint64_t id, void *addr, size_t n,
			   uint64_t timeout_ms, struct mni_test_hmm_fault *h)
{
	int ret = hmm_fault(fd, id, addr, n, timeout_ms, h);

	if (ret == -EOPNOTSUPP)
		tap_skip("this kernel has no hmm_range_fault_unlocked_timeout()");
	CHECK(!ret, "HMM_FAULT: %s", strerror(-ret));
}

/* Skip the test where the flavour has no helper; faults page @p in. */
static void need_helper(int fd, uint64_t id, void *p)
{
	struct mni_test_hmm_fault h;

	if (hmm_fault(fd, id, p, 1, 0, &h) == -EOPNOTSUPP)
		tap_skip("this kernel has no hmm_range_fault_unlocked_timeout()");
}

/* The pfns of [p, p + n pages) in /proc/self/pagemap, 0 where absent. */
static void pagemap_pfns(const char *p, size_t n, uint64_t *pfn)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	size_t i;

	CHECK(fd >= 0, "open pagemap: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		uint64_t e = 0;
		off_t off = ((uintptr_t)p / psz + i) * sizeof(e);

		CHECK(pread(fd, &e, sizeof(e), off) == sizeof(e),
		      "pread pagemap: %s", strerror(errno));
		pfn[i] = e >> 63 ? e & ((1ULL << 55) - 1) : 0;
	}
	close(fd);
}

/*
 * The pages the helper returned are the ones the CPU maps after the
 * invalidation ended (read faults of zapped anonymous memory: zero
 * filled), not the ones it unmapped; the mirror reads the new contents.
 */
static void check_new_pages(int fd, uint64_t id, char *p, size_t n,
			    const struct mni_test_hmm_fault *h,
			    const uint64_t *old)
{
	uint64_t now[MNI_TEST_HMM_MAX_PAGES], mirrored;
	uint8_t state[MNI_TEST_HMM_MAX_PAGES];
	char *buf = malloc(n * psz);
	size_t i, j;

	CHECK(buf, "malloc");
	pagemap_pfns(p, n, now);
	for (i = 0; i < n; i++) {
		tap_diag("page %zu: unmapped pfn %#llx, helper %#llx, CPU now %#llx",
			 i, (unsigned long long)old[i],
			 (unsigned long long)h->pfn[i],
			 (unsigned long long)now[i]);
		CHECK(h->pfn[i] != old[i],
		      "page %zu: the helper returned the pfn being unmapped", i);
		CHECK(!now[i] || h->pfn[i] == now[i],
		      "page %zu: the helper's pfn is not the CPU's", i);
	}
	CHECK(mirror_read(fd, id, p, n, buf, state, &mirrored) == 0, "READ");
	CHECK(mirrored == n, "%llu of %zu pages mirrored",
	      (unsigned long long)mirrored, n);
	for (i = 0; i < n; i++)
		for (j = 0; j < psz; j++)
			CHECK(!buf[i * psz + j],
			      "page %zu byte %zu: the mirror reads old data %#x",
			      i, j, (uint8_t)buf[i * psz + j]);
	free(buf);
}

/* The call returned while the invalidation was still in flight? */
static bool returned_early(double t1, double cb)
{
	return t1 + CLOCK_SLACK_MS < cb + SLOW_MS;
}

/*
 * With nothing in flight the helper faults the range in, and the mirror
 * reads what the process wrote.
 */
static void test_hmm_helper_faults_in(void)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(n), *buf = malloc(n * psz);
	uint64_t id, old[MNI_TEST_HMM_MAX_PAGES], mirrored;
	uint8_t state[MNI_TEST_HMM_MAX_PAGES];
	struct mni_test_hmm_fault h;
	size_t i;

	CHECK(buf, "malloc");
	fill(p, n, 41);
	id = must_add(fd, p, n * psz, 0);
	must_hmm_fault(fd, id, p, n, 0, &h);
	CHECK(h.ret == 0, "helper: %s", strerror((int)-h.ret));
	CHECK(!h.collided, "read_retry collided with nothing in flight");
	pagemap_pfns(p, n, old);
	for (i = 0; i < n; i++)
		CHECK(h.pfn[i] && h.pfn[i] == old[i],
		      "page %zu: pfn %#llx, the CPU maps %#llx", i,
		      (unsigned long long)h.pfn[i], (unsigned long long)old[i]);
	CHECK(mirror_read(fd, id, p, n, buf, state, &mirrored) == 0, "READ");
	CHECK(mirrored == n, "%llu of %zu pages mirrored",
	      (unsigned long long)mirrored, n);
	CHECK(!memcmp(buf, p, n * psz), "the mirror reads other data");
	free(buf);
	close(fd);
}

/*
 * The case: a subscription whose callback sets the sequence and
 * sleeps, the helper called during the sleep. @other: the sleeping
 * callback is another subscription's, over the same range, and the
 * helper's own callback returns at once, so only the invalidation as a
 * whole is still in flight.
 */
static bool waits_attempt(bool other)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(n);
	struct op_thread t = {
		.op = op_dontneed, .addr = p, .len = n * psz,
	};
	uint64_t old[MNI_TEST_HMM_MAX_PAGES], id, slow;
	struct mni_test_hmm_fault h;
	double cb, t0, t1;

	fill(p, n, 42);
	pagemap_pfns(p, n, old);
	CHECK(old[0], "pagemap shows no pfns (not root?)");
	id = must_add(fd, p, n * psz, 0);
	need_helper(fd, id, p);
	slow = other ? must_add(fd, p, n * psz, 0) : id;
	CHECK(mirror_slow(fd, slow, SLOW_MS) == 0, "SLOW");
	op_start(&t);
	cb = wait_for_call(fd, slow);
	if (other) {
		struct mni_test_log log;

		get_log(fd, id, false, &log);
		tap_diag("the helper's own callback %s",
			 log.count ? "has run" : "has not run yet");
	}
	t0 = now_ms();
	must_hmm_fault(fd, id, p, n, 0, &h);
	t1 = now_ms();
	op_join(&t);
	tap_diag("helper took %.0f ms, returned %.0f ms after the %d ms callback began: ret %lld, collided %llu",
		 t1 - t0, t1 - cb, SLOW_MS, (long long)h.ret,
		 (unsigned long long)h.collided);
	if (t0 + CLOCK_SLACK_MS >= cb + SLOW_MS) {
		tap_diag("called after the callback could have ended: undecided");
		close(fd);
		munmap(p, n * psz);
		return false;
	}
	CHECK(h.ret == 0, "helper: %s", strerror((int)-h.ret));
	CHECK(!returned_early(t1, cb) || h.collided,
	      "the helper returned during the invalidation and read_retry saw no collision");
	if (!h.collided)
		check_new_pages(fd, id, p, n, &h, old);
	close(fd);
	munmap(p, n * psz);
	return true;
}

static void test_hmm_helper_waits_for_invalidation(void)
{
	int i;

	for (i = 0; i < RACE_ATTEMPTS && !waits_attempt(false); i++)
		;
	CHECK(i < RACE_ATTEMPTS, "the helper never ran during the callback");
}

static void test_hmm_helper_waits_for_other_callback(void)
{
	int i;

	for (i = 0; i < RACE_ATTEMPTS && !waits_attempt(true); i++)
		;
	CHECK(i < RACE_ATTEMPTS, "the helper never ran during the callback");
}

/*
 * A budget shorter than the invalidation: -EBUSY, nothing mirrored. mni's
 * wait is bounded by the budget; the kernel's read_begin waits the
 * invalidation out before the helper looks at its budget.
 */
static bool timeout_attempt(void)
{
	const size_t n = 4, budget = 200;
	int fd = open_dev();
	char *p = map_pages(n);
	struct op_thread t = {
		.op = op_dontneed, .addr = p, .len = n * psz,
	};
	struct mni_test_hmm_fault h;
	uint64_t id, mirrored;
	double cb, t0, t1;

	fill(p, n, 43);
	id = must_add(fd, p, n * psz, 0);
	need_helper(fd, id, p);
	CHECK(mirror_slow(fd, id, SLOW_MS) == 0, "SLOW");
	op_start(&t);
	cb = wait_for_call(fd, id);
	t0 = now_ms();
	must_hmm_fault(fd, id, p, n, budget, &h);
	t1 = now_ms();
	op_join(&t);
	tap_diag("budget %zu ms: helper took %.0f ms (%.0f ms into the %d ms callback): ret %lld",
		 budget, t1 - t0, t0 - cb, SLOW_MS, (long long)h.ret);
	if (t0 + budget + CLOCK_SLACK_MS >= cb + SLOW_MS) {
		tap_diag("the budget could outlast the callback: undecided");
		close(fd);
		munmap(p, n * psz);
		return false;
	}
	CHECK(h.ret == -EBUSY, "helper: %lld, not -EBUSY", (long long)h.ret);
	if (is_mni()) {
		CHECK(t1 - t0 + CLOCK_SLACK_MS >= budget,
		      "gave up after %.0f ms of a %zu ms budget", t1 - t0,
		      budget);
		CHECK(returned_early(t1, cb),
		      "the budget did not bound the wait: %.0f ms", t1 - t0);
	}
	mirrored = mirrored_pages(fd, id, p, n);
	CHECK(mirrored == 0, "%llu pages mirrored after -EBUSY",
	      (unsigned long long)mirrored);
	close(fd);
	munmap(p, n * psz);
	return true;
}

static void test_hmm_helper_timeout(void)
{
	int i;

	for (i = 0; i < RACE_ATTEMPTS && !timeout_attempt(); i++)
		;
	CHECK(i < RACE_ATTEMPTS, "the helper never ran during the callback");
}

/*
 * A process blocked in the helper, with no budget, while an invalidation
 * of the range sleeps, dies at once on SIGKILL. The kernel's own
 * read_begin is not killable: not checked there.
 */
static bool killable_attempt(void)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(n);
	struct op_thread t = {
		.op = op_dontneed, .addr = p, .len = n * psz,
	};
	struct mni_test_hmm_fault h;
	struct mni_test_log log;
	int go[2], status;
	double cb, t0, t1;
	uint64_t id;
	pid_t pid;
	char c;

	fill(p, n, 44);
	id = must_add(fd, p, n * psz, 0);
	need_helper(fd, id, p);
	if (!is_mni())
		tap_skip("the kernel's read_begin() is not killable");
	CHECK(pipe(go) == 0, "pipe: %s", strerror(errno));
	/* Forked before the invalidation: fork takes mmap_lock for write. */
	pid = fork_child();
	if (!pid) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		hmm_fault(fd, id, p, n, 0, &h);
		_exit(1);
	}
	close(go[0]);
	/* The fork write-protected the range: forget that callback. */
	get_log(fd, id, true, &log);
	CHECK(mirror_slow(fd, id, SLOW_MS) == 0, "SLOW");
	op_start(&t);
	cb = wait_for_call(fd, id);
	CHECK(write(go[1], "g", 1) == 1, "write: %s", strerror(errno));
	usleep(100 * 1000);
	t0 = now_ms();
	CHECK(kill(pid, SIGKILL) == 0, "kill: %s", strerror(errno));
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
	t1 = now_ms();
	op_join(&t);
	tap_diag("child killed %.0f ms into the %d ms callback, gone %.1f ms later",
		 t0 - cb, SLOW_MS, t1 - t0);
	close(go[1]);
	close(fd);
	munmap(p, n * psz);
	if (t0 + CLOCK_SLACK_MS >= cb + SLOW_MS) {
		tap_diag("killed after the callback could have ended: undecided");
		return false;
	}
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	      "child status 0x%x: the helper returned before the kill", status);
	CHECK(t1 - t0 < SLOW_MS / 2,
	      "the killed child lived %.0f ms after the kill", t1 - t0);
	return true;
}

static void test_hmm_helper_fatal_signal(void)
{
	int i;

	for (i = 0; i < RACE_ATTEMPTS && !killable_attempt(); i++)
		;
	CHECK(i < RACE_ATTEMPTS, "the kill never came during the callback");
}

/*
 * A range registered with userfaultfd whose pages are missing: the fault
 * needs mmap_lock dropped while the userfaultfd reader fills the page.
 * mni's helper cannot drop it and must fail at once with -EFAULT, queue no
 * event and mirror nothing. (7.3's own helper waits for the reader: not
 * run on the kernel flavour.)
 */
static void test_hmm_helper_userfaultfd(void)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(n);
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)p, .len = n * psz },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	struct mni_test_hmm_fault h;
	struct uffd_msg msg;
	uint64_t id, mirrored;
	struct pollfd pfd;
	double t0, t1;
	int uffd;

	id = must_add(fd, p, n * psz, 0);
	need_helper(fd, id, p);
	if (!is_mni())
		tap_skip("the kernel's helper waits for the userfaultfd reader");
	/* That fault filled page 0: start over on fresh memory. */
	CHECK(madvise(p, n * psz, MADV_DONTNEED) == 0, "madvise: %s",
	      strerror(errno));
	uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		tap_skip("userfaultfd: %s", strerror(errno));
	CHECK(ioctl(uffd, UFFDIO_API, &api) == 0, "UFFDIO_API: %s",
	      strerror(errno));
	CHECK(ioctl(uffd, UFFDIO_REGISTER, &reg) == 0, "UFFDIO_REGISTER: %s",
	      strerror(errno));
	t0 = now_ms();
	must_hmm_fault(fd, id, p, n, 0, &h);
	t1 = now_ms();
	tap_diag("helper on a missing userfaultfd range: ret %lld after %.1f ms",
		 (long long)h.ret, t1 - t0);
	CHECK(h.ret == -EFAULT, "helper: %lld, not -EFAULT", (long long)h.ret);
	CHECK(t1 - t0 < 1000, "took %.0f ms", t1 - t0);
	pfd = (struct pollfd){ .fd = uffd, .events = POLLIN };
	CHECK(poll(&pfd, 1, 0) == 0 && read(uffd, &msg, sizeof(msg)) < 0,
	      "an event was queued for the userfaultfd reader");
	mirrored = mirrored_pages(fd, id, p, n);
	CHECK(mirrored == 0, "%llu pages mirrored", (unsigned long long)mirrored);
	close(uffd);
	close(fd);
	munmap(p, n * psz);
}

/*
 * A subscription whose process has exited (the subscription lives on until
 * the file closes), the helper called by a driver that holds no mm_users:
 * a clear error at once. After the engine's release every sequence
 * collides, so a helper that let the mm exit under it would retry forever.
 */
static void test_hmm_helper_exited_mm(void)
{
	const size_t n = 4;
	int fd = open_dev(), pipefd[2], status;
	struct mni_test_hmm_fault h;
	uint64_t msg[2];
	double t0, t1;
	pid_t pid;
	int ret;

	CHECK(pipe(pipefd) == 0, "pipe: %s", strerror(errno));
	pid = fork_child();
	if (!pid) {
		char *p = map_pages(n);

		fill(p, n, 45);
		msg[0] = must_add(fd, p, n * psz, 0);
		msg[1] = (uintptr_t)p;
		_exit(write(pipefd[1], msg, sizeof(msg)) == sizeof(msg) ? 0 : 1);
	}
	close(pipefd[1]);
	CHECK(read(pipefd[0], msg, sizeof(msg)) == sizeof(msg),
	      "the child sent no subscription");
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      !WEXITSTATUS(status), "child status 0x%x", status);
	close(pipefd[0]);
	t0 = now_ms();
	ret = hmm_fault_flags(fd, msg[0], (void *)(uintptr_t)msg[1], n, 0,
			      MNI_TEST_HMM_NO_MMGET, &h);
	t1 = now_ms();
	if (ret == -EOPNOTSUPP)
		tap_skip("this kernel has no hmm_range_fault_unlocked_timeout()");
	CHECK(!ret, "HMM_FAULT: %s", strerror(-ret));
	tap_diag("helper on an exited mm: ret %lld after %.1f ms",
		 (long long)h.ret, t1 - t0);
	CHECK(h.ret == -EFAULT, "helper: %lld, not -EFAULT", (long long)h.ret);
	CHECK(t1 - t0 < 1000, "took %.0f ms", t1 - t0);
	close(fd);
}

#define TEST(id, secs)	{ .name = #id, .fn = test_##id, .timeout = secs }

static struct tap_test tests[] = {
	TEST(hmm_helper_faults_in, 30),
	TEST(hmm_helper_waits_for_invalidation, 60),
	TEST(hmm_helper_waits_for_other_callback, 60),
	TEST(hmm_helper_timeout, 60),
	TEST(hmm_helper_fatal_signal, 60),
	TEST(hmm_helper_userfaultfd, 30),
	TEST(hmm_helper_exited_mm, 30),
};

int main(int argc, char **argv)
{
	return suite_main_variants(argc, argv, &info, tests, ARRAY_SIZE(tests),
				   suite_engines, ARRAY_SIZE(suite_engines),
				   false);
}
