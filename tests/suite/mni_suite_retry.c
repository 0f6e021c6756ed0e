// SPDX-License-Identifier: GPL-2.0
/*
 * mni_suite_retry.c - conformance tests: read_begin, retry and collisions
 *
 * The sequence protocol a driver's fault path relies on: a collision
 * makes the fault retry, read_begin waits (or not) for invalidations in
 * flight, insert and remove during invalidations, the timed and killable
 * read_begin, and the fault/invalidate stress.
 */
#define _GNU_SOURCE
#include "mni_suite.h"

/* read_begin/read_retry: a collision exactly when an invalidation hit. */
static void test_seq_collision(void)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(n), *other = map_pages(n);
	struct mni_test_log log;
	uint64_t id, s1, s2;
	bool retry;
	int ret;

	fill(p, n, 17);
	fill(other, n, 18);
	id = must_add(fd, p, n * psz, 0);

	ret = mirror_seq_begin(fd, id, &s1);
	CHECK(!ret, "SEQ_BEGIN: %s", strerror(-ret));
	ret = mirror_seq_retry(fd, id, s1, &retry);
	CHECK(!ret && !retry, "collision without any invalidation");

	CHECK(mprotect(other, n * psz, PROT_READ) == 0, "mprotect: %s",
	      strerror(errno));
	ret = mirror_seq_retry(fd, id, s1, &retry);
	CHECK(!ret && !retry, "collision from an unrelated range");

	CHECK(mprotect(p, n * psz, PROT_READ) == 0, "mprotect: %s",
	      strerror(errno));
	ret = mirror_seq_retry(fd, id, s1, &retry);
	CHECK(!ret && retry, "no collision across an invalidation");

	ret = mirror_seq_begin(fd, id, &s2);
	CHECK(!ret, "SEQ_BEGIN: %s", strerror(-ret));
	CHECK(s2 != s1, "read_begin returned the same sequence %#llx",
	      (unsigned long long)s1);
	get_log(fd, id, true, &log);
	CHECK(log.count == 1, "%llu invalidations", (unsigned long long)log.count);
	CHECK(log.entry[0].seq == s2,
	      "read_begin gave %#llx, the callback set %#llx",
	      (unsigned long long)s2, (unsigned long long)log.entry[0].seq);
	ret = mirror_seq_retry(fd, id, s2, &retry);
	CHECK(!ret && !retry, "collision on a fresh sequence");

	CHECK(mprotect(p, n * psz, PROT_READ | PROT_WRITE) == 0,
	      "mprotect: %s", strerror(errno));
	ret = mirror_seq_retry(fd, id, s2, &retry);
	CHECK(!ret && retry, "no collision across a second invalidation");
	close(fd);
}

struct fault_thread {
	pthread_t tid;
	volatile pid_t tid_kernel;
	int fd;
	uint64_t id;
	char *addr;
	size_t n;
	struct mni_test_fault f;
	int ret;
};

static void *fault_thread_main(void *arg)
{
	struct fault_thread *t = arg;

	t->tid_kernel = gettid();
	t->ret = mirror_fault(t->fd, t->id, t->addr, t->n, 0, &t->f);
	return NULL;
}

/* An invalidation between hmm_range_fault() and the lock forces a retry. */
static void test_fault_retries_on_collision(void)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(n);
	struct fault_thread t = { 0 };
	struct mni_test_log log;
	struct snap s;
	size_t i;
	int ret;

	fill(p, n, 19);
	t.fd = fd;
	t.id = must_add(fd, p, n * psz, 0);
	t.addr = p;
	t.n = n;
	t.f.delay_ms = 1500;
	ret = pthread_create(&t.tid, NULL, fault_thread_main, &t);
	CHECK(!ret, "pthread_create: %s", strerror(ret));

	/* The thread sleeps in the driver between fault and lock. */
	while (!t.tid_kernel)
		usleep(1000);
	wait_task_state_d(t.tid_kernel);
	CHECK(mprotect(p, n * psz, PROT_READ) == 0, "mprotect: %s",
	      strerror(errno));
	pthread_join(t.tid, NULL);

	CHECK(t.ret == 0, "FAULT: %s", strerror(-t.ret));
	get_log(fd, t.id, false, &log);
	expect_event(&log, "during the fault", MNI_TEST_EV_PROTECTION_VMA, p,
		     n * psz, MNI_TEST_LOG_BLOCKABLE);
	tap_diag("retries %llu, pages %llu, writable %llu",
		 (unsigned long long)t.f.retries, (unsigned long long)t.f.pages,
		 (unsigned long long)t.f.writable);
	CHECK(t.f.retries >= 1, "the fault did not retry");
	CHECK(t.f.pages == n && t.f.writable == 0,
	      "mirrored %llu pages, %llu writable, after PROT_READ",
	      (unsigned long long)t.f.pages, (unsigned long long)t.f.writable);
	s = must_read(fd, t.id, p, n);
	for (i = 0; i < n; i++) {
		check_mirrored(&s, i, pat(19, i));
		CHECK(s.state[i] == MNI_TEST_PAGE_READ, "stale write permission");
	}
	snap_free(&s);
	close(fd);
}

static void check_read_begin_in_flight(int fd, uint64_t id, struct op_thread *t,
				       double cb_ms, const char *who)
{
	double t0 = now_ms(), t1;
	uint64_t seq;
	bool retry;
	int ret;

	ret = mirror_seq_begin(fd, id, &seq);
	t1 = now_ms();
	CHECK(!ret, "SEQ_BEGIN: %s", strerror(-ret));
	op_join(t);
	ret = mirror_seq_retry(fd, id, seq, &retry);
	CHECK(!ret, "SEQ_RETRY: %s", strerror(-ret));
	tap_diag("%s: read_begin waited %.0f ms, returned %.0f ms after the callback began (which sleeps %d ms), retry %d",
		 who, t1 - t0, t1 - cb_ms, SLOW_MS, retry);
	CHECK(t1 + CLOCK_SLACK_MS >= cb_ms + SLOW_MS || retry,
	      "%s: read_begin returned during the invalidation and read_retry saw no collision",
	      who);
}

static void test_read_begin_during_invalidation(void)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(n);
	struct op_thread t = {
		.op = op_dontneed, .addr = p, .len = n * psz,
	};
	uint64_t id;

	fill(p, n, 20);
	id = must_add(fd, p, n * psz, 0);
	CHECK(mirror_slow(fd, id, SLOW_MS) == 0, "SLOW");
	op_start(&t);
	check_read_begin_in_flight(fd, id, &t, wait_for_call(fd, id),
				   "invalidated subscription");
	close(fd);
}

/*
 * A subscription inserted while an invalidation is in flight is not called
 * by it, is called by later ones, and its first read_begin() is safe.
 */
static void test_insert_during_invalidation(void)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(n);
	struct op_thread t = {
		.op = op_dontneed, .addr = p, .len = n * psz,
	};
	struct mni_test_log log;
	uint64_t a, b;
	double t0, cb;

	fill(p, n, 21);
	a = must_add(fd, p, n * psz, 0);
	CHECK(mirror_slow(fd, a, SLOW_MS) == 0, "SLOW");
	op_start(&t);
	cb = wait_for_call(fd, a);

	t0 = now_ms();
	b = must_add(fd, p, n * psz, 0);
	tap_diag("insert during the invalidation took %.0f ms", now_ms() - t0);
	check_read_begin_in_flight(fd, b, &t, cb, "new subscription");
	expect_no_calls(fd, b, "new subscription after the invalidation");

	CHECK(mirror_slow(fd, a, 0) == 0, "SLOW");
	CHECK(madvise(p, n * psz, MADV_DONTNEED) == 0, "madvise: %s",
	      strerror(errno));
	get_log(fd, b, false, &log);
	if (log.count != 1) {
		dump_log("new subscription", &log);
		FAIL("the next invalidation reached it %llu times",
		     (unsigned long long)log.count);
	}
	expect_event(&log, "new subscription", MNI_TEST_EV_CLEAR, p,
		     n * psz, MNI_TEST_LOG_BLOCKABLE);
	get_log(fd, a, false, &log);
	CHECK(log.count == 2, "old subscription saw %llu invalidations",
	      (unsigned long long)log.count);
	close(fd);
}

/* remove() of a subscription whose callback is running waits for it. */
static void test_remove_during_callback(void)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(n);
	struct op_thread t = {
		.op = op_dontneed, .addr = p, .len = n * psz,
	};
	struct mni_test_log log;
	uint64_t a, c;
	double cb, t1;

	fill(p, n, 22);
	a = must_add(fd, p, n * psz, 0);
	c = must_add(fd, p, n * psz, 0);
	CHECK(mirror_slow(fd, c, SLOW_MS) == 0, "SLOW");
	op_start(&t);
	cb = wait_for_call(fd, c);
	must_del(fd, c);
	t1 = now_ms();
	op_join(&t);
	tap_diag("remove returned %.0f ms after the callback began (which sleeps %d ms)",
		 t1 - cb, SLOW_MS);
	CHECK(t1 + CLOCK_SLACK_MS >= cb + SLOW_MS,
	      "remove returned %.0f ms after the callback began, while it was still running",
	      t1 - cb);
	get_log(fd, a, false, &log);
	expect_event(&log, "other subscription", MNI_TEST_EV_CLEAR, p,
		     n * psz, MNI_TEST_LOG_BLOCKABLE);
	close(fd);
}

/*
 * Per-range waiting, where the two engines differ on purpose. A's callback
 * sleeps in an invalidation of A's range, started by a thread. Meanwhile
 * the test invalidates the disjoint range of B, or inserts C beside both,
 * or removes B. The kernel's engine freezes its whole tree for the epoch
 * that A's invalidation opened (DESIGN 3.11): B's read_begin(), C's first
 * read_begin() and B's remove() each wait for A's invalidation to end.
 * mni keeps a record per invalidation: each returns at once, since no
 * invalidation over its own range is in flight. Each flavour is held to
 * its own behaviour; the sequence a read_begin() returns must not collide
 * when nothing touched the range since.
 *
 * Ours is only put to the test while A's callback runs (decide_race()).
 */

enum unrelated_op { UNRELATED_READ, UNRELATED_INSERT, UNRELATED_REMOVE };

/* One attempt; false if ours was too late to be put to the test. */
static bool unrelated_attempt(enum unrelated_op op)
{
	static const char *const what[] = {
		[UNRELATED_READ] = "read_begin of B after its own invalidation",
		[UNRELATED_INSERT] = "first read_begin of C inserted beside A",
		[UNRELATED_REMOVE] = "remove of B",
	};
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(3 * n);
	char *pb = p + n * psz, *pc = p + 2 * n * psz;
	struct op_thread t = {
		.op = op_dontneed, .addr = p, .len = n * psz,
	};
	uint64_t a, b, c = 0, seq = 0;
	double cb, t0, t1;
	bool retry = false;

	fill(p, 3 * n, 30);
	a = must_add(fd, p, n * psz, 0);
	b = must_add(fd, pb, n * psz, 0);
	must_fault(fd, b, pb, n, 0);
	CHECK(mirror_slow(fd, a, SLOW_MS) == 0, "SLOW");
	op_start(&t);
	cb = wait_for_call(fd, a);

	t0 = now_ms();
	switch (op) {
	case UNRELATED_READ:
		CHECK(madvise(pb, n * psz, MADV_DONTNEED) == 0, "madvise: %s",
		      strerror(errno));
		t0 = now_ms();
		CHECK(mirror_seq_begin(fd, b, &seq) == 0, "SEQ_BEGIN");
		break;
	case UNRELATED_INSERT:
		c = must_add(fd, pc, n * psz, 0);
		CHECK(mirror_seq_begin(fd, c, &seq) == 0, "SEQ_BEGIN");
		break;
	case UNRELATED_REMOVE:
		must_del(fd, b);
		break;
	}
	t1 = now_ms();
	op_join(&t);
	if (op != UNRELATED_REMOVE)
		CHECK(mirror_seq_retry(fd, op == UNRELATED_READ ? b : c, seq,
				       &retry) == 0, "SEQ_RETRY");
	tap_diag("%s took %.0f ms, returned %.0f ms into A's %d ms callback (%s engine), retry %d",
		 what[op], t1 - t0, t1 - cb, SLOW_MS,
		 engine_is_kern() ? "kernel's" : "mni", retry);
	if (engine_is_kern())
		CHECK(t1 + CLOCK_SLACK_MS >= cb + SLOW_MS,
		      "%s returned during A's invalidation: has the kernel's engine learned per-range waits? Update this test",
		      what[op]);
	else
		CHECK(t1 - t0 < SLOW_MS / 2,
		      "%s waited %.0f ms for A's unrelated invalidation",
		      what[op], t1 - t0);
	CHECK(!retry, "%s: a collision with nothing over its range", what[op]);
	if (op == UNRELATED_INSERT) {
		must_fault(fd, c, pc, n, 0);
		must_del(fd, c);
	}
	close(fd);
	munmap(p, 3 * n * psz);
	if (!engine_is_kern() && t1 + CLOCK_SLACK_MS >= cb + SLOW_MS) {
		tap_diag("it returned after A's callback could have ended: undecided");
		return false;
	}
	return true;
}

static void op_during_unrelated_invalidation(enum unrelated_op op)
{
	decide_race(unrelated_attempt(op), "none returned during A's callback");
}

static void test_read_begin_waits_own_range(void)
{
	op_during_unrelated_invalidation(UNRELATED_READ);
}

static void test_insert_during_unrelated_invalidation(void)
{
	op_during_unrelated_invalidation(UNRELATED_INSERT);
}

static void test_remove_during_unrelated_invalidation(void)
{
	op_during_unrelated_invalidation(UNRELATED_REMOVE);
}

/* mni's timed and killable read_begin(); the kernel's engine has neither. */
static void check_seq_wait_idle(int fd, uint64_t id)
{
	int64_t r;
	uint64_t seq;
	int ret = mirror_seq_wait(fd, id, 0, &seq, &r);

	CHECK(!ret, "SEQ_WAIT: %s", strerror(-ret));
	CHECK(r == 0, "timed read_begin with nothing in flight gave %lld",
	      (long long)r);
}

/*
 * read_begin_timeout(): a negative timeout is -EINVAL; with an invalidation
 * over the range in flight, 0 gives -ETIMEDOUT at once and 150 ms gives it
 * after about that long; once it ended, a sequence that does not collide.
 */
/*
 * Timed and killable reads are put to the test only while the callback
 * runs (decide_race()).
 */
/* One attempt; false if it came too late to be put to the test. */
static bool read_begin_timeout_attempt(void)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(n);
	struct op_thread t = {
		.op = op_dontneed, .addr = p, .len = n * psz,
	};
	double cb, t0, t1, t2;
	int64_t r0, r1, r;
	uint64_t a, seq;
	bool retry;

	fill(p, n, 31);
	a = must_add(fd, p, n * psz, 0);
	check_seq_wait_idle(fd, a);
	CHECK(mirror_seq_wait(fd, a, -5, &seq, &r) == 0, "SEQ_WAIT");
	CHECK(r == -EINVAL, "negative timeout gave %lld, wanted -EINVAL",
	      (long long)r);

	CHECK(mirror_slow(fd, a, SLOW_MS) == 0, "SLOW");
	op_start(&t);
	cb = wait_for_call(fd, a);
	t0 = now_ms();
	CHECK(mirror_seq_wait(fd, a, 0, &seq, &r0) == 0, "SEQ_WAIT");
	t1 = now_ms();
	CHECK(mirror_seq_wait(fd, a, 150, &seq, &r1) == 0, "SEQ_WAIT");
	t2 = now_ms();
	op_join(&t);
	tap_diag("timeout 0: %lld after %.1f ms; timeout 150 ms: %lld after %.1f ms",
		 (long long)r0, t1 - t0, (long long)r1, t2 - t1);
	if (t2 + CLOCK_SLACK_MS >= cb + SLOW_MS) {
		tap_diag("the reads ended %.0f ms into the %d ms callback: undecided",
			 t2 - cb, SLOW_MS);
		close(fd);
		munmap(p, n * psz);
		return false;
	}
	CHECK(r0 == -ETIMEDOUT && t1 - t0 < 50,
	      "timeout 0 during the invalidation: %lld after %.1f ms",
	      (long long)r0, t1 - t0);
	CHECK(r1 == -ETIMEDOUT && t2 - t1 + CLOCK_SLACK_MS >= 150 &&
	      t2 - t1 < SLOW_MS / 2,
	      "timeout 150 ms during the invalidation: %lld after %.1f ms",
	      (long long)r1, t2 - t1);

	CHECK(mirror_seq_wait(fd, a, 0, &seq, &r) == 0 && r == 0,
	      "timed read_begin after the invalidation gave %lld", (long long)r);
	CHECK(mirror_seq_retry(fd, a, seq, &retry) == 0 && !retry,
	      "collision after the invalidation ended");
	close(fd);
	munmap(p, n * psz);
	return true;
}

static void test_read_begin_timeout(void)
{
	skip_on_kern("the kernel's engine has no timed read_begin");
	decide_race(read_begin_timeout_attempt(),
		    "the reads never came during the callback");
}

/*
 * read_begin_killable(): a child blocked in it while an invalidation over
 * the range sleeps dies at once on SIGKILL, not when the invalidation ends.
 */
static bool read_begin_killable_attempt(void)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(n);
	struct op_thread t = {
		.op = op_dontneed, .addr = p, .len = n * psz,
	};
	struct mni_test_log log;
	int go[2], status;
	double cb, t0, t1;
	uint64_t a, seq;
	int64_t r;
	pid_t pid;
	char c;

	fill(p, n, 32);
	a = must_add(fd, p, n * psz, 0);
	check_seq_wait_idle(fd, a);
	CHECK(pipe(go) == 0, "pipe: %s", strerror(errno));
	/* Forked before the invalidation: fork takes mmap_lock for write. */
	pid = fork_child();
	if (!pid) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		mirror_seq_wait(fd, a, -1, &seq, &r);
		_exit(r == -EINTR ? 0 : 1);
	}
	close(go[0]);
	/* The fork write-protected the range: forget that callback. */
	get_log(fd, a, true, &log);
	CHECK(mirror_slow(fd, a, SLOW_MS) == 0, "SLOW");
	op_start(&t);
	cb = wait_for_call(fd, a);
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
	      "child status 0x%x: it returned from read_begin before the kill",
	      status);
	CHECK(t1 - t0 < SLOW_MS / 2,
	      "the killed child lived %.0f ms after the kill", t1 - t0);
	return true;
}

static void test_read_begin_killable(void)
{
	skip_on_kern("the kernel's engine has no killable read_begin");
	decide_race(read_begin_killable_attempt(),
		    "the kill never came during the callback");
}

/*
 * After an mm's release a device must not map anything: mni's read_begin()
 * returns at once with a sequence that always collides. The kernel's
 * engine keeps delivering exit_mmap()'s unmaps instead, and its
 * read_begin() returns a sequence that does not collide once those ended.
 */
static void test_read_after_release_collides(void)
{
	const size_t n = 4;
	int fd = open_dev();
	int pfd[2];
	uint64_t id = 0, seq;
	bool retry;
	double t0;
	pid_t pid;

	CHECK(pipe(pfd) == 0, "pipe: %s", strerror(errno));
	pid = fork_child();
	if (!pid) {
		char *p = map_pages(n);

		fill(p, n, 33);
		id = must_add(fd, p, n * psz, 0);
		must_fault(fd, id, p, n, 0);
		CHECK(write(pfd[1], &id, sizeof(id)) == sizeof(id), "write");
		_exit(0);
	}
	close(pfd[1]);
	CHECK(read(pfd[0], &id, sizeof(id)) == sizeof(id),
	      "child did not report its subscription");
	wait_child_ok(pid);

	t0 = now_ms();
	CHECK(mirror_seq_begin(fd, id, &seq) == 0, "SEQ_BEGIN");
	CHECK(mirror_seq_retry(fd, id, seq, &retry) == 0, "SEQ_RETRY");
	tap_diag("read_begin after the exit took %.1f ms, retry %d (%s engine)",
		 now_ms() - t0, retry, engine_is_kern() ? "kernel's" : "mni");
	if (engine_is_kern())
		CHECK(!retry, "the kernel's engine now collides after exit: update this test");
	else
		CHECK(retry, "a read after RELEASE did not collide");
	must_del(fd, id);
	close(pfd[0]);
	close(fd);
}

struct churn {
	char *p;
	size_t n;
	volatile int stop;
	unsigned long ops;
};

static void *churn_main(void *arg)
{
	struct churn *c = arg;
	unsigned int seed = 777;

	while (!c->stop) {
		size_t a = rand_r(&seed) % c->n;
		size_t b = a + 1 + rand_r(&seed) % (c->n - a);
		size_t i;

		if (rand_r(&seed) & 1) {
			mprotect(c->p + a * psz, (b - a) * psz, PROT_READ);
			mprotect(c->p + a * psz, (b - a) * psz,
				 PROT_READ | PROT_WRITE);
		} else {
			madvise(c->p + a * psz, (b - a) * psz, MADV_DONTNEED);
			for (i = a; i < b; i++)
				memset(c->p + i * psz, pat(25, i), psz);
		}
		c->ops++;
	}
	return NULL;
}

/*
 * Faults and reads racing with protection changes and zaps: a mirrored
 * page only ever shows bytes the CPU could have seen there (0 or the
 * page's pattern), nothing hangs, and the end state is exact.
 */
static void test_fault_vs_invalidate_stress(void)
{
	const size_t n = 32;
	int fd = open_dev();
	char *p = map_pages(n);
	struct churn c = { .p = p, .n = n };
	unsigned long faults = 0, busy = 0, checked = 0, retries = 0;
	pthread_t tid;
	double t0;
	uint64_t id;
	struct snap s;
	size_t i, k;
	int ret;

	fill(p, n, 25);
	id = must_add(fd, p, n * psz, 0);
	ret = pthread_create(&tid, NULL, churn_main, &c);
	CHECK(!ret, "pthread_create: %s", strerror(ret));

	t0 = now_ms();
	while (now_ms() - t0 < 3000) {
		struct mni_test_fault f = { 0 };

		ret = mirror_fault(fd, id, p, n, 0, &f);
		CHECK(ret == 0 || ret == -EBUSY, "FAULT: %s", strerror(-ret));
		faults++;
		busy += ret == -EBUSY;
		retries += f.retries;
		s = must_read(fd, id, p, n);
		for (i = 0; i < n; i++) {
			const uint8_t *pg = s.buf + i * psz;

			if (s.state[i] == MNI_TEST_PAGE_ABSENT)
				continue;
			checked++;
			for (k = 0; k < psz; k++)
				CHECK(pg[k] == 0 || pg[k] == pat(25, i),
				      "page %zu byte %zu is %#x: stale mirror",
				      i, k, pg[k]);
		}
		snap_free(&s);
	}
	c.stop = 1;
	pthread_join(tid, NULL);
	tap_diag("%lu faults (%lu busy, %lu retries), %lu pages checked, %lu CPU operations",
		 faults, busy, retries, checked, c.ops);
	CHECK(faults > busy, "no fault ever completed");

	must_fault(fd, id, p, n, 0);
	s = must_read(fd, id, p, n);
	for (i = 0; i < n; i++)
		check_mirrored(&s, i, pat(25, i));
	snap_free(&s);
	close(fd);
}

struct zapper {
	char *p;
	size_t n;
	volatile int stop;
	unsigned long ops;
};

static void *zapper_main(void *arg)
{
	struct zapper *z = arg;
	unsigned int seed = 4242;

	while (!z->stop) {
		size_t a = rand_r(&seed) % z->n;
		size_t b = a + 1 + rand_r(&seed) % (z->n - a);

		madvise(z->p + a * psz, (b - a) * psz, MADV_DONTNEED);
		z->ops++;
	}
	return NULL;
}

/*
 * Inserts and removes racing with a stream of invalidations (so many land
 * on the deferred path): at the end every live subscription, and only
 * those, sees the final invalidation, exactly once.
 */
static void test_insert_remove_vs_invalidate_stress(void)
{
	enum { NPAGES = 64, MAXLIVE = 24 };
	int fd = open_dev();
	char *p = map_pages(NPAGES);
	struct zapper z = { .p = p, .n = NPAGES };
	struct sub_desc live[MAXLIVE];
	unsigned long adds = 0, dels = 0;
	unsigned int seed = 99;
	struct mni_test_log log;
	int nlive = 0, i, ret;
	pthread_t tid;
	double t0;

	fill(p, NPAGES, 33);
	ret = pthread_create(&tid, NULL, zapper_main, &z);
	CHECK(!ret, "pthread_create: %s", strerror(ret));
	t0 = now_ms();
	while (now_ms() - t0 < 3000) {
		if (nlive == MAXLIVE || (nlive && rand_r(&seed) % 3 == 0)) {
			i = rand_r(&seed) % nlive;
			must_del(fd, live[i].id);
			live[i] = live[--nlive];
			dels++;
		} else {
			size_t first = rand_r(&seed) % NPAGES;
			size_t len = 1 + rand_r(&seed) % (NPAGES - first);
			uint64_t seq;

			live[nlive].start = (uintptr_t)(p + first * psz);
			live[nlive].len = len * psz;
			live[nlive].id = must_add(fd, p + first * psz, len * psz,
						  rand_r(&seed) & 1 ?
						  MNI_TEST_ADD_LOCKED : 0);
			ret = mirror_seq_begin(fd, live[nlive].id, &seq);
			CHECK(!ret, "SEQ_BEGIN: %s", strerror(-ret));
			nlive++;
			adds++;
		}
	}
	z.stop = 1;
	pthread_join(tid, NULL);
	tap_diag("%lu inserts, %lu removes, %lu invalidations", adds, dels,
		 z.ops);

	for (i = 0; i < nlive; i++)
		get_log(fd, live[i].id, true, &log);
	CHECK(madvise(p, NPAGES * psz, MADV_DONTNEED) == 0, "madvise: %s",
	      strerror(errno));
	for (i = 0; i < nlive; i++) {
		get_log(fd, live[i].id, true, &log);
		if (log.count == 1 && log.entry[0].event == MNI_TEST_EV_CLEAR &&
		    log.entry[0].start == (uintptr_t)p &&
		    log.entry[0].end == (uintptr_t)(p + NPAGES * psz))
			continue;
		dump_log("live subscription", &log);
		FAIL("subscription %d [%#llx, +%#llx) did not see the final CLEAR exactly once",
		     i, (unsigned long long)live[i].start,
		     (unsigned long long)live[i].len);
	}
	for (i = 0; i < nlive; i++)
		must_del(fd, live[i].id);
	close(fd);
}

static const struct tap_test tests[] = {
	TEST(seq_collision, 0),
	TEST(fault_retries_on_collision, 0),
	TEST(read_begin_during_invalidation, 0),
	TEST(insert_during_invalidation, 0),
	TEST(remove_during_callback, 0),
	TEST(read_begin_waits_own_range, 0),
	TEST(insert_during_unrelated_invalidation, 0),
	TEST(remove_during_unrelated_invalidation, 0),
	TEST(read_begin_timeout, 0),
	TEST(read_begin_killable, 0),
	TEST(read_after_release_collides, 0),
	TEST(fault_vs_invalidate_stress, 60),
	TEST(insert_remove_vs_invalidate_stress, 60),
};

const struct suite_list suite_retry = { tests, ARRAY_SIZE(tests) };
