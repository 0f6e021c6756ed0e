// SPDX-License-Identifier: GPL-2.0
/*
 * mni_suite_lifecycle.c - conformance tests: subscription and mm lifecycle
 *
 * Insert under the mmap lock, exit with subscriptions open, close,
 * re-insert after the last remove, two processes, remove racing exit, and
 * the OOM reaper's non-blocking invalidation (process_mrelease(2)).
 */
#define _GNU_SOURCE
#include "mni_suite.h"

/* A subscription made with insert_locked() behaves like any other. */
static void test_insert_locked(void)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(n);
	struct mni_test_log log;
	struct snap s;
	uint64_t id;
	size_t i;

	fill(p, n, 12);
	id = must_add(fd, p, n * psz, MNI_TEST_ADD_LOCKED);
	must_fault(fd, id, p, n, 0);
	s = must_read(fd, id, p, n);
	for (i = 0; i < n; i++)
		check_mirrored(&s, i, pat(12, i));
	snap_free(&s);

	CHECK(munmap(p, n * psz) == 0, "munmap: %s", strerror(errno));
	get_log(fd, id, true, &log);
	expect_event(&log, "after munmap", MNI_TEST_EV_UNMAP, p, n * psz,
		     MNI_TEST_LOG_BLOCKABLE);
	s = must_read(fd, id, p, n);
	CHECK(s.mirrored == 0, "%llu pages mirrored after munmap",
	      (unsigned long long)s.mirrored);
	snap_free(&s);
	must_del(fd, id);
	close(fd);
}

/*
 * Exit delivers a blockable RELEASE to every live subscription of the mm,
 * mapped or not; the mirrors are empty after it and removing them from
 * another process afterwards works.
 */
static void test_exit_releases_all(void)
{
	int fd = open_dev();
	struct sub_desc subs[5];
	struct mni_test_fault f = { 0 };
	struct mni_test_log log;
	uint64_t seq;
	int pfd[2];
	size_t i;
	pid_t pid;
	int ret;

	CHECK(pipe(pfd) == 0, "pipe: %s", strerror(errno));
	pid = fork_child();
	if (!pid) {
		char *a = map_pages(4), *b = map_pages(8), *c = map_pages(2);

		fill(a, 4, 13);
		fill(b, 8, 14);
		subs[0] = (struct sub_desc){ 0, (uintptr_t)a, 4 * psz, 1 };
		subs[1] = (struct sub_desc){ 0, (uintptr_t)b, 8 * psz, 1 };
		subs[2] = (struct sub_desc){ 0, (uintptr_t)(b + 2 * psz),
					     4 * psz, 1 };
		subs[3] = (struct sub_desc){ 0, (uintptr_t)c, 2 * psz, 1 };
		/* A gigabyte nothing is mapped in. */
		subs[4] = (struct sub_desc){ 0, 1ULL << 44, 1ULL << 30, 0 };
		for (i = 0; i < ARRAY_SIZE(subs); i++)
			subs[i].id = must_add(fd, (void *)(uintptr_t)subs[i].start,
					      subs[i].len,
					      (i == 2 ? MNI_TEST_ADD_LOCKED : 0) |
					      (subs[i].mirrored ? 0 :
					       MNI_TEST_ADD_NOMIRROR));
		must_fault(fd, subs[0].id, a, 4, 0);
		must_fault(fd, subs[1].id, b, 8, 0);
		must_fault(fd, subs[2].id, b + 2 * psz, 4, 0);
		CHECK(write(pfd[1], subs, sizeof(subs)) == sizeof(subs),
		      "write: %s", strerror(errno));
		_exit(0);
	}
	close(pfd[1]);
	CHECK(read(pfd[0], subs, sizeof(subs)) == sizeof(subs),
	      "child did not report its subscriptions");
	wait_child_ok(pid);

	for (i = 0; i < ARRAY_SIZE(subs); i++) {
		char who[32];

		snprintf(who, sizeof(who), "subscription %zu", i);
		get_log(fd, subs[i].id, false, &log);
		expect_event(&log, who, MNI_TEST_EV_RELEASE,
			     (void *)(uintptr_t)subs[i].start, subs[i].len,
			     MNI_TEST_LOG_BLOCKABLE);
		expect_all_overlap(&log, who, (void *)(uintptr_t)subs[i].start,
				   subs[i].len);
		if (subs[i].mirrored) {
			struct snap s = must_read(fd, subs[i].id,
						  (void *)(uintptr_t)subs[i].start,
						  subs[i].len / psz);

			CHECK(s.mirrored == 0,
			      "%s: %llu pages mirrored after exit", who,
			      (unsigned long long)s.mirrored);
			snap_free(&s);
		}
	}

	/* The mm is gone: no fault, but read_begin must not hang. */
	ret = mirror_fault(fd, subs[0].id, (void *)(uintptr_t)subs[0].start,
			   1, 0, &f);
	CHECK(ret == -ESRCH, "FAULT after exit gave %d", ret);
	ret = mirror_seq_begin(fd, subs[1].id, &seq);
	CHECK(!ret, "SEQ_BEGIN after exit: %s", strerror(-ret));

	for (i = 0; i < ARRAY_SIZE(subs); i++)
		must_del(fd, subs[i].id);
	ret = mirror_del(fd, subs[0].id);
	CHECK(ret == -ENOENT, "second DEL gave %d", ret);
	close(fd);
}

/* A process exits holding the only reference to its mirrors. */
static void test_exit_with_open_subscriptions(void)
{
	int round;

	for (round = 0; round < 3; round++) {
		pid_t pid = fork_child();

		if (!pid) {
			int fd = open_dev();
			char *p = map_pages(8);
			uint64_t a, b;

			fill(p, 8, 15);
			a = must_add(fd, p, 8 * psz, 0);
			b = must_add(fd, p + 4 * psz, 4 * psz,
				     MNI_TEST_ADD_LOCKED);
			must_add(fd, (void *)(uintptr_t)(1ULL << 44), 1ULL << 30,
				 MNI_TEST_ADD_NOMIRROR);
			must_fault(fd, a, p, 8, 0);
			must_fault(fd, b, p + 4 * psz, 4, 0);
			if (round == 1)
				munmap(p, 8 * psz);
			if (round == 2)
				kill(getpid(), SIGKILL);
			_exit(0);
		}
		if (round == 2) {
			int status;

			CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
			CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
			      "child status 0x%x", status);
		} else {
			wait_child_ok(pid);
		}
	}
}

/* Closing the file removes its subscriptions: later events find none. */
static void test_close_removes_subscriptions(void)
{
	const size_t n = 8;
	char *p = map_pages(n);
	struct mni_test_log log;
	uint64_t id;
	int fd, i;

	fill(p, n, 16);
	fd = open_dev();
	for (i = 0; i < 8; i++) {
		id = must_add(fd, p + (i % 4) * psz, 4 * psz,
			      i & 1 ? MNI_TEST_ADD_LOCKED : 0);
		must_fault(fd, id, p + (i % 4) * psz, 4, 0);
	}
	close(fd);

	/* Callbacks into freed mirrors would crash (or trip KASAN) here. */
	CHECK(mprotect(p, n * psz, PROT_READ) == 0, "mprotect: %s",
	      strerror(errno));
	CHECK(madvise(p, n * psz, MADV_DONTNEED) == 0, "madvise: %s",
	      strerror(errno));

	fd = open_dev();
	id = must_add(fd, p, n * psz, 0);
	CHECK(munmap(p, n * psz) == 0, "munmap: %s", strerror(errno));
	get_log(fd, id, false, &log);
	CHECK(log.count == 1 && log.entry[0].event == MNI_TEST_EV_UNMAP,
	      "new subscription saw %llu entries", (unsigned long long)log.count);
	close(fd);
}

/*
 * process_mrelease(2) reaps a dying process's memory from the caller, with
 * non-blockable invalidations (the OOM reaper's path). With the mirror lock
 * free the callback succeeds; held (busy) it must fail cleanly: the reap
 * reports EAGAIN, the pages stay mirrored, and the exit still releases.
 */
static void nonblock_reap(bool busy)
{
	const size_t n = 8;
	int fd = open_dev();
	struct sub_desc subs[2];
	struct mni_test_log log;
	int pfd[2], pidfd;
	long ret;
	pid_t pid;

	CHECK(pipe(pfd) == 0, "pipe: %s", strerror(errno));
	pid = fork_child();
	if (!pid) {
		char *p = map_pages(n);

		fill(p, n, 23);
		subs[0] = (struct sub_desc){ 0, (uintptr_t)p, n * psz, 1 };
		subs[0].id = must_add(fd, p, n * psz, 0);
		must_fault(fd, subs[0].id, p, n, 0);
		/* Nothing can be mapped at 4 KiB: never invalidated. */
		subs[1] = (struct sub_desc){ 0, 0x1000, 0x1000, 0 };
		subs[1].id = must_add(fd, (void *)0x1000, 0x1000,
				      MNI_TEST_ADD_NOMIRROR);
		CHECK(write(pfd[1], subs, sizeof(subs)) == sizeof(subs),
		      "write: %s", strerror(errno));
		/* Sleep in the driver, holding the lock of one of them. */
		mirror_hold(fd, subs[busy ? 0 : 1].id, 3000);
		_exit(0);
	}
	close(pfd[1]);
	CHECK(read(pfd[0], subs, sizeof(subs)) == sizeof(subs),
	      "child did not report its subscriptions");
	wait_task_state_d(pid);

	pidfd = pidfd_open_and_kill(pid);
	ret = process_mrelease_or_skip(pidfd);
	tap_diag("process_mrelease: %ld (%s)", ret,
		 ret ? strerror(errno) : "ok");

	get_log(fd, subs[0].id, false, &log);
	if (busy) {
		CHECK(ret == -1 && errno == EAGAIN,
		      "process_mrelease with the mirror lock held gave %ld (%s)",
		      ret, strerror(errno));
		expect_reap_event(&log, "reaped, lock held",
				  (void *)(uintptr_t)subs[0].start, subs[0].len,
				  MNI_TEST_LOG_BUSY);
	} else {
		struct snap s;

		CHECK(ret == 0, "process_mrelease: %s", strerror(errno));
		expect_reap_event(&log, "reaped",
				  (void *)(uintptr_t)subs[0].start, subs[0].len, 0);
		s = must_read(fd, subs[0].id, (void *)(uintptr_t)subs[0].start, n);
		CHECK(s.mirrored == 0, "%llu pages mirrored after the reap",
		      (unsigned long long)s.mirrored);
		snap_free(&s);
	}
	if (log.entry[0].flags & MNI_TEST_LOG_BLOCKABLE) {
		dump_log("reaped", &log);
		FAIL("the reaper's invalidation was blockable");
	}

	CHECK(waitpid(pid, NULL, 0) == pid, "waitpid: %s", strerror(errno));
	get_log(fd, subs[0].id, false, &log);
	expect_event(&log, "after exit", MNI_TEST_EV_RELEASE,
		     (void *)(uintptr_t)subs[0].start, subs[0].len,
		     MNI_TEST_LOG_BLOCKABLE);
	expect_all_overlap(&log, "after exit", (void *)(uintptr_t)subs[0].start,
			   subs[0].len);
	get_log(fd, subs[1].id, false, &log);
	expect_event(&log, "unmapped subscription", MNI_TEST_EV_RELEASE,
		     (void *)0x1000, 0x1000, MNI_TEST_LOG_BLOCKABLE);
	/* A leaked in-flight count would make these wait forever. */
	must_del(fd, subs[0].id);
	must_del(fd, subs[1].id);
	close(pidfd);
	close(fd);
}

/*
 * A driver's own classic notifier whose ->release removes the driver's
 * subscriptions: it runs inside the core's release walk, an SRCU read
 * side. Meanwhile process_mrelease(2) reaps the exiting mm, and its
 * non-blockable invalidation sits in T's callback (a 300 ms busy-wait,
 * lock dropped) while the exit runs release. That invalidation's end comes
 * after this module's notifiers are unhooked: the old engine kept its
 * count open until their SRCU frees, and remove() waited for that grace
 * period from inside the read side that holds it up (the child hung in D
 * for ever). remove() must wait only for the callback running on T.
 * Registering the driver's notifier first puts it after this module's
 * notifiers in the core's list, so its release runs after theirs.
 */
static void test_remove_from_release_during_reap(void)
{
	const size_t n = 8;
	int fd = open_dev();
	uint64_t ids[2];
	int pfd[2], pidfd;
	double t0, t1;
	long ret;
	pid_t pid;

	CHECK(pipe(pfd) == 0, "pipe: %s", strerror(errno));
	pid = fork_child();
	if (!pid) {
		char *p = map_pages(n);

		fill(p, n, 34);
		CHECK(mirror_release_remove(fd) == 0, "RELEASE_REMOVE");
		ids[0] = must_add(fd, p, n * psz, 0);
		must_fault(fd, ids[0], p, n, 0);
		CHECK(mirror_spin(fd, ids[0], 300) == 0, "SPIN");
		/* Nothing can be mapped at 4 KiB: never invalidated. */
		ids[1] = must_add(fd, (void *)0x1000, 0x1000,
				  MNI_TEST_ADD_NOMIRROR);
		CHECK(write(pfd[1], ids, sizeof(ids)) == sizeof(ids),
		      "write: %s", strerror(errno));
		/* Killed while asleep here: its exit starts 200 ms later. */
		mirror_hold(fd, ids[1], 200);
		_exit(0);
	}
	close(pfd[1]);
	CHECK(read(pfd[0], ids, sizeof(ids)) == sizeof(ids),
	      "child did not report its subscriptions");
	wait_task_state_d(pid);

	t0 = now_ms();
	pidfd = pidfd_open_and_kill(pid);
	ret = process_mrelease_or_skip(pidfd);
	t1 = now_ms();
	CHECK(waitpid(pid, NULL, 0) == pid, "waitpid: %s", strerror(errno));
	tap_diag("process_mrelease: %ld (%s) after %.0f ms; child gone %.0f ms after the kill",
		 ret, ret ? strerror(errno) : "ok", t1 - t0, now_ms() - t0);
	CHECK(ret == 0 || errno == EAGAIN, "process_mrelease: %s",
	      strerror(errno));
	/* The driver's release removed both. */
	CHECK(mirror_del(fd, ids[0]) == -ENOENT &&
	      mirror_del(fd, ids[1]) == -ENOENT,
	      "the driver's release did not remove its subscriptions");
	close(pidfd);
	close(pfd[0]);
	close(fd);
}

static void test_nonblock_reap(void)
{
	nonblock_reap(false);
}

static void test_nonblock_reap_busy(void)
{
	nonblock_reap(true);
}

/*
 * Removing the last subscription of an mm and inserting again, over and
 * over, in a fresh process: whatever per-mm state the engine drops and
 * rebuilds, every new subscription must be called.
 */
static void test_reinsert_after_last_remove(void)
{
	pid_t pid = fork_child();

	if (!pid) {
		const size_t n = 4;
		char *p = map_pages(n);
		struct mni_test_log log;
		int round, fd = -1;

		fill(p, n, 29);
		for (round = 0; round < 40; round++) {
			uint64_t id;

			/* Every fourth round also drops and reopens the file. */
			if (round % 4 == 0) {
				if (fd >= 0)
					close(fd);
				fd = open_dev();
			}
			id = must_add(fd, p, n * psz,
				      round & 1 ? MNI_TEST_ADD_LOCKED : 0);
			must_fault(fd, id, p, n, 0);
			CHECK(madvise(p, psz, MADV_DONTNEED) == 0, "madvise: %s",
			      strerror(errno));
			get_log(fd, id, false, &log);
			if (log.count != 1 ||
			    log.entry[0].event != MNI_TEST_EV_CLEAR) {
				dump_log("new subscription", &log);
				FAIL("round %d: expected one CLEAR", round);
			}
			must_del(fd, id);
			p[0] = 1;
		}
		close(fd);
		_exit(0);
	}
	wait_child_ok(pid);
}

/* Subscriptions of two processes never see each other's events. */
static void test_two_processes_independent(void)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(n);
	struct mni_test_log log;
	uint64_t pa, msg[2];
	int up[2], go[2];
	pid_t pid;
	char c = 0;

	fill(p, n, 30);
	pa = must_add(fd, p, n * psz, 0);
	must_fault(fd, pa, p, n, 0);
	CHECK(pipe(up) == 0 && pipe(go) == 0, "pipe: %s", strerror(errno));

	pid = fork_child();
	if (!pid) {
		/* Same addresses as the parent's subscription, other mm. */
		char *q = map_pages(n);

		fill(q, n, 31);
		msg[0] = must_add(fd, q, n * psz, 0);
		msg[1] = (uintptr_t)q;
		must_fault(fd, msg[0], q, n, 0);
		CHECK(write(up[1], msg, sizeof(msg)) == sizeof(msg), "write");
		CHECK(read(go[0], &c, 1) == 1, "read");
		/* The child's copy of p goes; the parent's must not notice. */
		CHECK(madvise(p, n * psz, MADV_DONTNEED) == 0, "madvise");
		CHECK(munmap(p, n * psz) == 0, "munmap");
		CHECK(madvise(q, psz, MADV_DONTNEED) == 0, "madvise");
		_exit(0);
	}
	CHECK(read(up[0], msg, sizeof(msg)) == sizeof(msg),
	      "child did not report its subscription");
	get_log(fd, pa, true, &log);	/* fork's PROTECTION_PAGE */
	CHECK(write(go[1], &c, 1) == 1, "write");
	wait_child_ok(pid);

	expect_no_calls(fd, pa, "parent's subscription after the child's changes and exit");
	get_log(fd, msg[0], true, &log);
	expect_event(&log, "child's subscription", MNI_TEST_EV_CLEAR,
		     (void *)(uintptr_t)msg[1], psz, MNI_TEST_LOG_BLOCKABLE);
	expect_event(&log, "child's subscription", MNI_TEST_EV_RELEASE,
		     (void *)(uintptr_t)msg[1], n * psz, MNI_TEST_LOG_BLOCKABLE);
	expect_all_overlap(&log, "child's subscription",
			   (void *)(uintptr_t)msg[1], n * psz);

	CHECK(madvise(p, n * psz, MADV_DONTNEED) == 0, "madvise: %s",
	      strerror(errno));
	get_log(fd, pa, false, &log);
	expect_event(&log, "parent's subscription", MNI_TEST_EV_CLEAR, p,
		     n * psz, MNI_TEST_LOG_BLOCKABLE);
	expect_no_calls(fd, msg[0], "dead child's subscription after the parent's change");
	must_del(fd, msg[0]);
	close(fd);
}

struct remover {
	pthread_t tid;
	int fd;
	const uint64_t *ids;
	int n;
	int failed;
};

static void *remover_main(void *arg)
{
	struct remover *r = arg;
	int i;

	for (i = 0; i < r->n; i++)
		if (mirror_del(r->fd, r->ids[i]))
			r->failed++;
	return NULL;
}

/* Removing a process's subscriptions while it is being killed. */
static void test_remove_races_exit(void)
{
	enum { NSUBS = 24, ROUNDS = 12 };
	int fd = open_dev();
	int round;

	for (round = 0; round < ROUNDS; round++) {
		struct remover r = { .fd = fd, .n = NSUBS };
		uint64_t ids[NSUBS];
		int pfd[2], ret;
		pid_t pid;

		CHECK(pipe(pfd) == 0, "pipe: %s", strerror(errno));
		pid = fork_child();
		if (!pid) {
			char *p = map_pages(16);
			int i;

			fill(p, 16, 32);
			for (i = 0; i < NSUBS; i++) {
				ids[i] = must_add(fd, p + (i % 12) * psz, 4 * psz,
						  i & 1 ? MNI_TEST_ADD_LOCKED : 0);
				must_fault(fd, ids[i], p + (i % 12) * psz, 4, 0);
			}
			CHECK(write(pfd[1], ids, sizeof(ids)) == sizeof(ids),
			      "write");
			for (;;)
				madvise(p, 16 * psz, MADV_DONTNEED);
		}
		close(pfd[1]);
		CHECK(read(pfd[0], ids, sizeof(ids)) == sizeof(ids),
		      "child did not report its subscriptions");
		close(pfd[0]);
		r.ids = ids;
		ret = pthread_create(&r.tid, NULL, remover_main, &r);
		CHECK(!ret, "pthread_create: %s", strerror(ret));
		if (round & 1)
			usleep(round * 200);
		kill(pid, SIGKILL);
		pthread_join(r.tid, NULL);
		CHECK(waitpid(pid, NULL, 0) == pid, "waitpid");
		CHECK(!r.failed, "round %d: %d removes failed", round, r.failed);
	}
	close(fd);
}

struct del_thread {
	pthread_t tid;
	int fd;
	uint64_t id;
	volatile int done;
	int ret;
};

static void *del_thread_main(void *arg)
{
	struct del_thread *d = arg;

	d->ret = mirror_del(d->fd, d->id);
	d->done = 1;
	return NULL;
}

/*
 * Both engines on one mm, and a non-blockable invalidation (the reaper)
 * that the engine under test fails because its subscriber is busy. The
 * other engine's subscription must come out of it usable: removing it
 * after the exit has to complete.
 *
 * Manual: on an engine that gets this wrong the remove waits forever,
 * uninterruptibly, and wedges the machine's test run.
 */
static void test_mixed_engines_reap_busy(void)
{
	const size_t n = 8;
	const char *other = strstr(dev_path, "mni_test_mni") ?
			    "/dev/mni_test_kern" : "/dev/mni_test_mni";
	int fd = open_dev(), ofd, pfd[2], pidfd;
	struct del_thread d = { 0 };
	struct mni_test_log log;
	uint64_t ids[3];
	double t0;
	pid_t pid;
	long ret;

	ofd = open(other, O_RDWR | O_CLOEXEC);
	if (ofd < 0)
		tap_skip("%s: %s", other, strerror(errno));
	CHECK(pipe(pfd) == 0, "pipe: %s", strerror(errno));
	pid = fork_child();
	if (!pid) {
		char *p = map_pages(n);

		fill(p, n, 34);
		ids[0] = must_add(fd, p, n * psz, 0);
		ids[1] = must_add(ofd, p, n * psz, 0);
		ids[2] = (uintptr_t)p;
		must_fault(fd, ids[0], p, n, 0);
		must_fault(ofd, ids[1], p, n, 0);
		CHECK(write(pfd[1], ids, sizeof(ids)) == sizeof(ids), "write");
		mirror_hold(fd, ids[0], 3000);
		_exit(0);
	}
	close(pfd[1]);
	CHECK(read(pfd[0], ids, sizeof(ids)) == sizeof(ids),
	      "child did not report its subscriptions");
	wait_task_state_d(pid);
	pidfd = syscall(__NR_pidfd_open, pid, 0);
	CHECK(pidfd >= 0, "pidfd_open: %s", strerror(errno));
	CHECK(kill(pid, SIGKILL) == 0, "kill: %s", strerror(errno));
	ret = syscall(__NR_process_mrelease, pidfd, 0);
	tap_diag("process_mrelease: %ld (%s)", ret, ret ? strerror(errno) : "ok");
	CHECK(waitpid(pid, NULL, 0) == pid, "waitpid: %s", strerror(errno));

	get_log(fd, ids[0], false, &log);
	expect_reap_event(&log, "busy subscription",
			  (void *)(uintptr_t)ids[2], n * psz, MNI_TEST_LOG_BUSY);
	get_log(ofd, ids[1], false, &log);
	dump_log(other, &log);
	expect_event(&log, other, MNI_TEST_EV_RELEASE, (void *)(uintptr_t)ids[2],
		     n * psz, MNI_TEST_LOG_BLOCKABLE);
	must_del(fd, ids[0]);

	d.fd = ofd;
	d.id = ids[1];
	ret = pthread_create(&d.tid, NULL, del_thread_main, &d);
	CHECK(!ret, "pthread_create: %s", strerror((int)ret));
	t0 = now_ms();
	while (!d.done && now_ms() - t0 < 10000)
		usleep(10000);
	CHECK(d.done, "removing the %s subscription hangs: the failed non-blockable start left that engine's invalidation open",
	      other);
	CHECK(!d.ret, "DEL: %s", strerror(-d.ret));
	close(pidfd);
	close(ofd);
	close(fd);
}

static const struct tap_test tests[] = {
	TEST(insert_locked, 0),
	TEST(exit_releases_all, 0),
	TEST(exit_with_open_subscriptions, 0),
	TEST(close_removes_subscriptions, 0),
	TEST(nonblock_reap, 0),
	TEST(nonblock_reap_busy, 0),
	TEST(remove_from_release_during_reap, 30),
	TEST(reinsert_after_last_remove, 0),
	TEST(two_processes_independent, 0),
	TEST(remove_races_exit, 60),
	MANUAL(mixed_engines_reap_busy, 30),
};

const struct suite_list suite_lifecycle = { tests, ARRAY_SIZE(tests) };
