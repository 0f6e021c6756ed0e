// SPDX-License-Identifier: GPL-2.0
/*
 * mni_suite_ext.c - conformance tests: pre-registration, put, owner and update
 *
 * The calls mni adds around the kernel's interface:
 * pre-registration of an mm (mni_mm_get/put), the deferred put of a
 * subscription, the owner that skips its own migration, and moving a
 * subscription (update) while invalidations run.
 */
#define _GNU_SOURCE
#include "mni_suite.h"

/*
 * Update in place, racing with an invalidation whose walk is under way.
 * A DONTNEED (or a munmap) of pages 3-7 calls C (pages 3-4, first in tree
 * order), which sleeps, then 16 fillers (page 4), then whatever overlaps
 * pages 5-7 in a second round. While C sleeps, the test moves A out of
 * that range (AWAY: from pages 6-7 to 0-1) or into it (INTO: from 0-1 to
 * 6-7).
 *
 * Ours: mni_interval_notifier_update(), called under the mirror lock that
 * A's callback takes, returns at once; the walk still calls A for that
 * invalidation (it overlapped A's old or its new range), and a read begun
 * before the update collides. The kernel's engine has no update; its
 * flavour removes and inserts, the upstream workaround, with the lock
 * dropped: the remove waits for the whole invalidation (the kernel keeps
 * a removed subscription in its tree until then, so AWAY's old A is still
 * called, and INTO's new A, inserted after it ended, is not). Both then
 * mirror A at its new place.
 *
 * The race is only decided while C's callback runs (decide_race()): an
 * update that lands after it may rightly come after the walk passed A's
 * new place.
 */

enum update_move { UPDATE_AWAY, UPDATE_INTO };

/* One attempt; false if the update landed too late to decide the race. */
static bool update_attempt(enum update_move move, bool unmap)
{
	const size_t n = 2, fillers = 16;
	int fd = open_dev();
	char *p = map_pages(8);
	char *from = move == UPDATE_AWAY ? p + 6 * psz : p;
	char *to = move == UPDATE_AWAY ? p : p + 6 * psz;
	struct op_thread t = {
		.op = unmap ? op_munmap : op_dontneed, .addr = p + 3 * psz,
		.len = 5 * psz,
	};
	uint64_t event = unmap ? MNI_TEST_EV_UNMAP : MNI_TEST_EV_CLEAR;
	struct mni_test_log log;
	uint64_t a, c, seq;
	double cb, t0, t1;
	bool retry = false;
	struct snap sn;
	int ret, hit;
	size_t i;

	fill(p, 8, 31);
	c = must_add(fd, p + 3 * psz, 2 * psz, 0);
	for (i = 0; i < fillers; i++)
		must_add(fd, p + 4 * psz, psz, MNI_TEST_ADD_NOMIRROR);
	a = must_add(fd, from, n * psz, 0);
	must_fault(fd, a, from, n, 0);
	CHECK(mirror_seq_begin(fd, a, &seq) == 0, "SEQ_BEGIN");
	CHECK(mirror_slow(fd, c, SLOW_MS) == 0, "SLOW");
	get_log(fd, a, true, &log);
	op_start(&t);
	cb = wait_for_call(fd, c);
	t0 = now_ms();
	ret = mirror_update(fd, a, to, n * psz, 0);
	t1 = now_ms();
	op_join(&t);
	CHECK(!ret, "UPDATE: %s", strerror(-ret));
	CHECK(mirror_seq_retry(fd, a, seq, &retry) == 0, "SEQ_RETRY");
	get_log(fd, a, false, &log);
	hit = log_find(&log, event, p + 3 * psz, 5 * psz,
		       MNI_TEST_LOG_BLOCKABLE);
	tap_diag("update %s of a %s took %.0f ms, returned %.0f ms into C's %d ms callback (%s engine); the invalidation %s A; retry %d",
		 move == UPDATE_AWAY ? "away" : "into",
		 unmap ? "munmap" : "DONTNEED", t1 - t0, t1 - cb,
		 SLOW_MS, engine_is_kern() ? "kernel's" : "mni",
		 hit >= 0 ? "called" : "did not call", retry);
	if (engine_is_kern()) {
		CHECK(t1 + CLOCK_SLACK_MS >= cb + SLOW_MS,
		      "the remove returned during the invalidation: has the kernel's engine changed? Update this test");
		/*
		 * Which invalidations of a munmap reach A's old range, and
		 * with which range, is the core's to choose: 7.2's munmap
		 * logs none over [p + 3, p + 8) for A. Only the DONTNEED
		 * case pins the kernel's engine down.
		 */
		if (!unmap)
			CHECK((hit >= 0) == (move == UPDATE_AWAY),
			      "the kernel's engine %s A: has it changed? Update this test",
			      hit >= 0 ? "called" : "did not call");
	} else {
		/*
		 * Only the update's own time counts: the test thread itself
		 * can be held up before it (a munmap may hold mmap_lock for
		 * write over the callback, so its page faults wait; seen on
		 * the debug kernel).
		 */
		CHECK(t1 - t0 < SLOW_MS / 2, "the update waited %.0f ms",
		      t1 - t0);
		CHECK(retry, "a read begun before the update did not collide");
		if (t1 + CLOCK_SLACK_MS >= cb + SLOW_MS) {
			tap_diag("the update landed after C's callback could have returned: the race is undecided");
			close(fd);
			munmap(p, 8 * psz);
			return false;
		}
		if (hit < 0)
			dump_log("A", &log);
		CHECK(hit >= 0, "the invalidation in flight over A's %s range never called it",
		      move == UPDATE_AWAY ? "old" : "new");
	}
	/* A mirrors its new place (gone with the munmap for INTO). */
	if (unmap && move == UPDATE_INTO) {
		must_del(fd, a);
		close(fd);
		return true;
	}
	must_fault(fd, a, to, n, 0);
	sn = must_read(fd, a, to, n);
	for (i = 0; i < n; i++)
		check_mirrored(&sn, i, move == UPDATE_AWAY ? pat(31, i) : 0);
	snap_free(&sn);
	close(fd);
	return true;
}

static void update_during_invalidation(enum update_move move, bool unmap)
{
	decide_race(update_attempt(move, unmap),
		    "no update landed during C's callback");
}

static void test_update_away_during_invalidation(void)
{
	update_during_invalidation(UPDATE_AWAY, false);
}

static void test_update_into_invalidation(void)
{
	update_during_invalidation(UPDATE_INTO, false);
}

static void test_update_away_during_munmap(void)
{
	update_during_invalidation(UPDATE_AWAY, true);
}

static void test_update_into_munmap(void)
{
	update_during_invalidation(UPDATE_INTO, true);
}

#define MNI_DEBUGFS_MMS	MNI_DEBUGFS "/mms"

/*
 * The "pre_registrations:" line of this process's mm in our debugfs mms
 * file, or -1 when no block there has this process's pid. The file is
 * generated when read, so it shows @want at once: @want is only printed
 * when it does not.
 */
static int debugfs_pins(int want)
{
	char *text = must_slurp(MNI_DEBUGFS_MMS), *l;
	unsigned long id;
	int pins = -1;
	long pid;

	/* Each block starts "id: N\npid: P\npre_registrations: K\n". */
	for (l = text; (l = strstr(l, "id: ")); l++)
		if ((l == text || l[-1] == '\n') &&
		    sscanf(l, "id: %lu\npid: %ld\npre_registrations: %d\n", &id,
			   &pid, &pins) == 3 && pid == getpid())
			break;
	if (!l)
		pins = -1;
	if (pins != want)
		tap_diag("%s: %d pre-registrations, wanted %d:\n%s",
			 MNI_DEBUGFS_MMS, pins, want, text);
	free(text);
	return pins;
}

/* Insert with mmap_lock held for read: the new subscription's id. */
static uint64_t add_read_locked(int fd, char *p, size_t len)
{
	struct mni_test_add add = {
		.addr = (uintptr_t)p, .len = len,
		.flags = MNI_TEST_ADD_READ_LOCKED,
	};

	CHECK(ioctl(fd, MNI_TEST_IOC_ADD, &add) == 0,
	      "ADD under mmap_read_lock: %s", strerror(errno));
	return add.id;
}

/*
 * The kernel's insert says might_lock(mmap_lock) even on a pre-registered
 * mm, which lockdep reports under the read lock: the kernel flavour refuses
 * a read-locked insert on a kernel that proves locking.
 */
static void skip_read_locked_on_kern_lockdep(void)
{
	if (engine_is_kern() && kernel_proves_locking())
		tap_skip_engine("the kernel's insert says might_lock(mmap_lock): lockdep reports the upstream workaround under the read lock");
}

/* The pages of @id at p are mirrored, and MADV_DONTNEED of page 1 calls it. */
static void check_mirrors_and_invalidates(int fd, uint64_t id, char *p,
					  size_t n, unsigned int salt)
{
	struct mni_test_log log;
	struct snap s;

	must_fault(fd, id, p, n, 0);
	CHECK(madvise(p + psz, psz, MADV_DONTNEED) == 0, "madvise: %s",
	      strerror(errno));
	get_log(fd, id, true, &log);
	expect_event(&log, "after MADV_DONTNEED", MNI_TEST_EV_CLEAR, p + psz,
		     psz, MNI_TEST_LOG_BLOCKABLE);
	s = must_read(fd, id, p, n);
	check_absent(&s, 1);
	check_mirrored(&s, 0, pat(salt, 0));
	snap_free(&s);
}

/*
 * A pre-registered mm takes inserts from a fault handler, with mmap_lock
 * held for read: ours through mni_mm_get(); the kernel's through the
 * upstream workaround, __mmu_notifier_register(NULL, mm) as NVIDIA UVM
 * does, which works only without lockdep: upstream's insert says
 * might_lock(mmap_lock) even when it will not take it, and lockdep reports
 * that under the read lock. So the kernel's flavour skips on lockdep
 * kernels, and ours must pass everywhere.
 */
static void test_prereg_insert_under_read_lock(void)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(n);
	uint64_t id;

	skip_read_locked_on_kern_lockdep();
	fill(p, n, 21);
	CHECK(ioctl(fd, MNI_TEST_IOC_MM_GET) == 0, "MM_GET: %s",
	      strerror(errno));
	id = add_read_locked(fd, p, n * psz);
	check_mirrors_and_invalidates(fd, id, p, n, 21);
	must_del(fd, id);
	CHECK(ioctl(fd, MNI_TEST_IOC_MM_PUT) == 0, "MM_PUT: %s",
	      strerror(errno));
	close(fd);
}

/*
 * Ours only (the kernel's per-mm state lasts as long as the mm): the
 * registration outlives the mm's last subscription while a pre-registration
 * holds it, a fault-path insert after that works, a subscription outlives
 * the last put, and the registration ends when both are gone.
 */
static void test_prereg_outlives_subscriptions(void)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(n);
	uint64_t id;

	skip_on_kern("the kernel's engine keeps its per-mm state until exit: nothing to put");
	fill(p, n, 22);
	CHECK(debugfs_pins(-1) == -1, "this process is registered already");
	CHECK(ioctl(fd, MNI_TEST_IOC_MM_GET) == 0, "MM_GET: %s",
	      strerror(errno));
	CHECK(ioctl(fd, MNI_TEST_IOC_MM_GET) == 0, "second MM_GET: %s",
	      strerror(errno));
	CHECK(debugfs_pins(2) == 2, "debugfs shows %d pre-registrations, not 2",
	      debugfs_pins(2));
	id = must_add(fd, p, n * psz, 0);
	must_del(fd, id);
	/* The last subscription is gone: the registration is not. */
	CHECK(debugfs_pins(2) == 2, "registration gone with its last subscription");
	id = add_read_locked(fd, p, n * psz);
	CHECK(ioctl(fd, MNI_TEST_IOC_MM_PUT) == 0, "MM_PUT: %s",
	      strerror(errno));
	CHECK(ioctl(fd, MNI_TEST_IOC_MM_PUT) == 0, "second MM_PUT: %s",
	      strerror(errno));
	/* The subscription still holds the registration, and works. */
	CHECK(debugfs_pins(0) == 0, "after both puts: %d, not 0 with a subscription left",
	      debugfs_pins(0));
	check_mirrors_and_invalidates(fd, id, p, n, 22);
	must_del(fd, id);
	CHECK(debugfs_pins(-1) == -1, "registration left after the last put and remove");
	close(fd);
}

/* Ours only: a put without a get, or one put too many, is refused. */
static void test_prereg_put_unbalanced(void)
{
	int fd = open_dev();

	skip_on_kern("the kernel's engine has no put of a pre-registration");
	CHECK(ioctl(fd, MNI_TEST_IOC_MM_PUT) == -1 && errno == EINVAL,
	      "MM_PUT without a get: %s", strerror(errno));
	CHECK(ioctl(fd, MNI_TEST_IOC_MM_GET) == 0, "MM_GET: %s",
	      strerror(errno));
	CHECK(ioctl(fd, MNI_TEST_IOC_MM_PUT) == 0, "MM_PUT: %s",
	      strerror(errno));
	CHECK(ioctl(fd, MNI_TEST_IOC_MM_PUT) == -1 && errno == EINVAL,
	      "second MM_PUT: %s", strerror(errno));
	CHECK(debugfs_pins(-1) == -1, "registration left after an unbalanced put");
	close(fd);
}

struct dontneed_loop {
	char *p;
	size_t len;
	volatile bool stop;
	unsigned long rounds;
};

static void *dontneed_loop_fn(void *arg)
{
	struct dontneed_loop *l = arg;

	while (!l->stop) {
		CHECK(madvise(l->p, l->len, MADV_DONTNEED) == 0,
		      "madvise: %s", strerror(errno));
		l->rounds++;
	}
	return NULL;
}

/*
 * A fault handler inserting under mmap_read_lock, again and again, while a
 * thread invalidates the range; the process exits with subscriptions and
 * its pre-registration still open, which its files' close then puts.
 */
static void test_prereg_fault_path_inserts_vs_exit(void)
{
	const size_t n = 8;
	int fd = open_dev();
	pid_t pid;

	skip_read_locked_on_kern_lockdep();
	CHECK(ioctl(fd, MNI_TEST_IOC_MM_GET) == 0, "MM_GET: %s",
	      strerror(errno));
	pid = fork_child();
	if (!pid) {
		int cfd = open_dev();
		char *p = map_pages(n);
		struct dontneed_loop l = { .p = p, .len = n * psz };
		pthread_t tid;
		uint64_t id;
		int i, r;

		fill(p, n, 23);
		CHECK(ioctl(cfd, MNI_TEST_IOC_MM_GET) == 0, "child MM_GET: %s",
		      strerror(errno));
		id = add_read_locked(cfd, p, n * psz);
		must_del(cfd, id);
		CHECK(!pthread_create(&tid, NULL, dontneed_loop_fn, &l),
		      "pthread_create");
		for (i = 0; i < 200; i++) {
			id = add_read_locked(cfd, p + (i % n) * psz, psz);
			/* EBUSY: the driver gave up retrying under the storm. */
			r = mirror_fault(cfd, id, p + (i % n) * psz, 1, 0, NULL);
			CHECK(!r || r == -EBUSY, "FAULT: %s", strerror(-r));
			if (i % 3)
				must_del(cfd, id);
		}
		l.stop = true;
		pthread_join(tid, NULL);
		tap_diag("200 fault-path inserts beside %lu invalidations",
			 l.rounds);
		/* Exit with subscriptions and the pre-registration open. */
		_exit(0);
	}
	{
		int status;

		CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
		CHECK(WIFEXITED(status) && !WEXITSTATUS(status),
		      "child status %#x", status);
	}
	CHECK(ioctl(fd, MNI_TEST_IOC_MM_PUT) == 0, "MM_PUT: %s",
	      strerror(errno));
	close(fd);
}

/* PUT of mirror id (0: none), with flags; returns the released count. */
uint64_t mirror_put_ioc(int fd, uint64_t id, uint64_t flags)
{
	struct mni_test_put put = { .id = id, .flags = flags };

	CHECK(ioctl(fd, MNI_TEST_IOC_PUT, &put) == 0, "PUT %llu: %s",
	      (unsigned long long)id, strerror(errno));
	return put.released;
}

/* Wait up to 2 s for the released count to reach @want. */
uint64_t wait_released(int fd, uint64_t want)
{
	double t = now_ms() + 2000;
	uint64_t r;

	while ((r = mirror_put_ioc(fd, 0, 0)) < want && now_ms() < t)
		usleep(1000);
	return r;
}

/*
 * A put with nothing in flight releases at once; a bad put is refused:
 * NULL release, twice (ours only: the kernel's engine has no put, its
 * flavour removes from a work item, the upstream workaround).
 */
static void test_put_at_once(void)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(n);
	struct mni_test_check c = {
		.kind = MNI_TEST_CHECK_BAD_PUT, .addr = (uintptr_t)p,
		.len = n * psz,
	};
	uint64_t id, r0, r;

	skip_on_kern("the kernel's engine has no put of a subscription, so no bad put to refuse");
	fill(p, n, 24);
	id = must_add(fd, p, n * psz, 0);
	must_fault(fd, id, p, n, 0);
	r0 = mirror_put_ioc(fd, 0, 0);
	r = mirror_put_ioc(fd, id, 0);
	if (!engine_is_kern())
		CHECK(r == r0 + 1, "put with nothing in flight: released %llu, wanted %llu",
		      (unsigned long long)r, (unsigned long long)r0 + 1);
	CHECK(wait_released(fd, r0 + 1) == r0 + 1, "put never released");
	CHECK(madvise(p, n * psz, MADV_DONTNEED) == 0, "madvise: %s",
	      strerror(errno));
	if (ioctl(fd, MNI_TEST_IOC_CHECK, &c)) {
		check_not_refused(-errno);
		FAIL("CHECK BAD_PUT: %s", strerror(errno));
	}
	CHECK(c.ret == -EINVAL, "put with a NULL release = %lld, or a later put misbehaved",
	      (long long)c.ret);
	close(fd);
}

/*
 * Put from inside the mirror's own callbacks: an UNMAP (munmap) while
 * another thread keeps faulting a second mirror of the same mm, and a
 * RELEASE (exit). Ours: mni_interval_notifier_put() there, released once
 * the walk lets go. The kernel's: a remove deferred to a work item. Both
 * must release each mirror exactly once; KASAN (debug lane) catches a
 * callback or a release on freed memory.
 */
struct fault_loop {
	int fd;
	uint64_t id;
	char *p;
	size_t n;
	volatile bool stop;
	unsigned long faults;
};

static void *fault_loop_fn(void *arg)
{
	struct fault_loop *l = arg;

	while (!l->stop) {
		must_fault(l->fd, l->id, l->p, l->n, 0);
		l->faults++;
	}
	return NULL;
}

static void test_put_in_unmap_and_release_callbacks(void)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(n), *q = map_pages(n);
	struct fault_loop l = { .fd = fd, .p = q, .n = n };
	uint64_t id, r0;
	pthread_t tid;
	int i, pfd[2];
	pid_t pid;

	fill(q, n, 25);
	l.id = must_add(fd, q, n * psz, 0);
	CHECK(!pthread_create(&tid, NULL, fault_loop_fn, &l), "pthread_create");
	r0 = mirror_put_ioc(fd, 0, 0);
	for (i = 0; i < 20; i++) {
		p = map_pages(n);
		fill(p, n, 26);
		id = must_add(fd, p, n * psz, 0);
		must_fault(fd, id, p, n, 0);
		mirror_put_ioc(fd, id, MNI_TEST_PUT_IN_CALLBACK);
		CHECK(munmap(p, n * psz) == 0, "munmap: %s", strerror(errno));
	}
	CHECK(wait_released(fd, r0 + 20) == r0 + 20,
	      "UNMAP callbacks: %llu of 20 puts released",
	      (unsigned long long)(mirror_put_ioc(fd, 0, 0) - r0));
	l.stop = true;
	pthread_join(tid, NULL);
	tap_diag("20 puts from UNMAP callbacks beside %lu faults", l.faults);

	/* RELEASE: a child puts its mirror from its exit's callback. */
	CHECK(pipe(pfd) == 0, "pipe: %s", strerror(errno));
	r0 = mirror_put_ioc(fd, 0, 0);
	pid = fork_child();
	if (!pid) {
		int cfd = open_dev();
		char *c = map_pages(n);

		fill(c, n, 27);
		id = must_add(cfd, c, n * psz, 0);
		must_fault(cfd, id, c, n, 0);
		mirror_put_ioc(cfd, id, MNI_TEST_PUT_IN_CALLBACK);
		_exit(0);
	}
	close(pfd[1]);
	wait_child_ok(pid);
	CHECK(wait_released(fd, r0 + 1) == r0 + 1, "put from the exit's callback never released");
	close(pfd[0]);
	must_del(fd, l.id);
	close(fd);
}

/*
 * The owner filter: a migration that names the mirror's owner (as a device
 * migrating its own pages would) leaves the mirror alone, neither calling
 * it nor colliding with its reads; one naming another owner invalidates it
 * as usual. Ours by mni_interval_notifier_set_owner(); the kernel's by the
 * upstream way, a callback that compares range->owner by hand. The pages
 * themselves never move (no destination), so the CPU content is intact.
 */
static void test_owner_skips_own_migration(void)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(n);
	struct mni_test_owner own = { .owner = 0xa11ce };
	struct mni_test_owner mig = {
		.addr = (uintptr_t)p, .len = n * psz, .owner = 0xa11ce,
	};
	struct mni_test_log log;
	struct snap s;
	uint64_t id, seq;
	bool retry;
	size_t i;

	fill(p, n, 28);
	id = must_add(fd, p, n * psz, 0);
	own.id = id;
	CHECK(ioctl(fd, MNI_TEST_IOC_SET_OWNER, &own) == 0, "SET_OWNER: %s",
	      strerror(errno));
	must_fault(fd, id, p, n, 0);
	get_log(fd, id, true, &log);
	CHECK(mirror_seq_begin(fd, id, &seq) == 0, "SEQ_BEGIN");
	if (ioctl(fd, MNI_TEST_IOC_MIGRATE, &mig)) {
		CHECK(errno == EOPNOTSUPP, "MIGRATE: %s", strerror(errno));
		tap_skip("no device-private migration in this kernel");
	}
	get_log(fd, id, true, &log);
	if (log.count)
		dump_log("after its own owner's migration", &log);
	CHECK(!log.count, "its own owner's migration called the mirror");
	CHECK(mirror_seq_retry(fd, id, seq, &retry) == 0 && !retry,
	      "its own owner's migration collided with a read");
	s = must_read(fd, id, p, n);
	for (i = 0; i < n; i++)
		check_mirrored(&s, i, pat(28, i));
	snap_free(&s);

	mig.owner = 0xb0b;
	CHECK(ioctl(fd, MNI_TEST_IOC_MIGRATE, &mig) == 0, "MIGRATE: %s",
	      strerror(errno));
	get_log(fd, id, true, &log);
	expect_event(&log, "after another owner's migration",
		     MNI_TEST_EV_MIGRATE, p, n * psz, MNI_TEST_LOG_BLOCKABLE);
	CHECK(mirror_seq_retry(fd, id, seq, &retry) == 0 && retry,
	      "another owner's migration did not collide");
	s = must_read(fd, id, p, n);
	for (i = 0; i < n; i++)
		check_absent(&s, i);
	snap_free(&s);
	for (i = 0; i < n; i++)
		CHECK(p[i * psz] == (char)pat(28, i), "page %zu changed", i);
	close(fd);
}

/* ------------------------------------ freeing release (mni_test_freeing.c) */

struct freeing_read {
	int fd;
	int ret;
	uint64_t seq;
};

static void *freeing_read_fn(void *arg)
{
	struct freeing_read *r = arg;
	struct mni_test_freeing f = { .phase = MNI_TEST_FREEING_READ };

	r->ret = ioctl(r->fd, MNI_TEST_IOC_FREEING, &f) ? -errno : 0;
	r->seq = f.seq;
	return NULL;
}

static uint64_t freeing_done(int fd)
{
	struct mni_test_freeing f = { .phase = MNI_TEST_FREEING_DONE };

	CHECK(ioctl(fd, MNI_TEST_IOC_FREEING, &f) == 0, "FREEING DONE: %s",
	      strerror(errno));
	return f.released;
}

/*
 * README's pattern with a release that frees at once: M's own UNMAP
 * callback puts M while M's reader sleeps in read_begin(M); the walk
 * frees M. The reader must come back with a collision and never read M
 * again (KASAN on the debug kernels sees any read; on others, a report
 * about M in the kernel log shows it was read). With @other a second
 * subscription keeps the tree non-empty, else M is the mm's last user and
 * its engine may go too.
 */
static void freeing_reader(bool other)
{
	const size_t n = 4;
	struct mni_test_freeing f = {
		.len = n * psz, .phase = MNI_TEST_FREEING_ARM,
		.flags = other ? MNI_TEST_FREEING_OTHER : 0,
	};
	struct freeing_read r = { .ret = 1 };
	uint64_t r0;
	pthread_t tid;
	int fd, kfd;
	char *p;

	skip_on_kern("the kernel's engine has no put");
	fd = open_dev();
	p = map_pages(n);
	fill(p, n, 41);
	r0 = freeing_done(fd);
	kfd = kmsg_open();
	f.addr = (uintptr_t)p;
	CHECK(ioctl(fd, MNI_TEST_IOC_FREEING, &f) == 0, "FREEING ARM: %s",
	      strerror(errno));
	r.fd = fd;
	CHECK(!pthread_create(&tid, NULL, freeing_read_fn, &r), "pthread_create");
	f.phase = MNI_TEST_FREEING_READY;
	CHECK(ioctl(fd, MNI_TEST_IOC_FREEING, &f) == 0, "FREEING READY: %s",
	      strerror(errno));
	/* Runs M's callback, which waits for the reader, then puts M. */
	CHECK(munmap(p, n * psz) == 0, "munmap: %s", strerror(errno));
	pthread_join(tid, NULL);
	CHECK(r.ret == 0, "FREEING READ: %s", strerror(-r.ret));
	CHECK(!(r.seq & 1), "read_begin of a sub put while it slept gave %#llx: no collision",
	      (unsigned long long)r.seq);
	CHECK(freeing_done(fd) == r0 + 1, "M was not released once");
	/* A report about M could only name it from freed memory. */
	CHECK(!kmsg_count_engine(kfd, "read_begin"),
	      "the engine reported on read_begin(M) after M was freed");
	close(kfd);
	close(fd);
}

static void test_put_frees_under_sleeping_reader(void)
{
	freeing_reader(true);
}

static void test_put_frees_last_user_under_sleeping_reader(void)
{
	freeing_reader(false);
}

/* ------------------------- put of a subscription whose reader sleeps */

struct sleeping_reader {
	int fd;
	uint64_t id;
	pid_t tid;		/* set by the thread, then read by the test */
	int go;			/* set by the test: read_begin() now */
	int ret;
	uint64_t seq;
	double t1;		/* when read_begin() returned */
	int done;		/* set by the thread after t1 */
};

static void *sleeping_reader_fn(void *arg)
{
	struct sleeping_reader *r = arg;

	__atomic_store_n(&r->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	while (!__atomic_load_n(&r->go, __ATOMIC_ACQUIRE))
		usleep(1000);
	r->ret = mirror_seq_begin(r->fd, r->id, &r->seq);
	r->t1 = now_ms();
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * One try of put_under_sleeping_reader(): false if the host held the test
 * up so long that the put came in the invalidation's second half.
 */
static bool put_under_sleeping_reader_once(bool irqs_off)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(n);
	struct op_thread t = {
		.op = op_dontneed, .addr = p, .len = n * psz,
	};
	struct sleeping_reader r = { .fd = fd, .ret = 1 };
	double cb, tput;
	uint64_t a, r0;
	pthread_t tid;

	fill(p, n, 43);
	/*
	 * B starts below A, so the walk calls B first, then sleeps in A's
	 * callback: it holds B no more, and read_begin(B) sleeps for its end.
	 */
	r.id = must_add(fd, p, n * psz, 0);
	a = must_add(fd, p + psz, (n - 1) * psz, 0);
	CHECK(mirror_slow(fd, a, SLOW_MS) == 0, "SLOW");
	r0 = mirror_put_ioc(fd, 0, 0);
	/* Before the unmap: creating a thread waits for its mmap_lock. */
	CHECK(!pthread_create(&tid, NULL, sleeping_reader_fn, &r),
	      "pthread_create");
	while (!__atomic_load_n(&r.tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	op_start(&t);
	cb = wait_for_call(fd, a);
	__atomic_store_n(&r.go, 1, __ATOMIC_RELEASE);
	wait_task_state_d(r.tid);
	tput = now_ms();
	mirror_put_ioc(fd, r.id, irqs_off ? MNI_TEST_PUT_IRQS_OFF : 0);
	pthread_join(tid, NULL);
	op_join(&t);
	CHECK(r.ret == 0, "SEQ_BEGIN: %s", strerror(-r.ret));
	CHECK(wait_released(fd, r0 + 1) == r0 + 1, "B was not released once");
	close(fd);
	munmap(p, n * psz);
	if (tput >= cb + SLOW_MS / 2) {
		tap_diag("the put came %.0f ms into the invalidation", tput - cb);
		return false;
	}
	tap_diag("read_begin(B) returned %.0f ms after the put, %.0f ms after the callback began (which sleeps %d ms), seq %#llx",
		 r.t1 - tput, r.t1 - cb, SLOW_MS, (unsigned long long)r.seq);
	CHECK(!(r.seq & 1), "read_begin of a sub put while it slept gave %#llx: no collision",
	      (unsigned long long)r.seq);
	if (irqs_off)
		CHECK(r.t1 + CLOCK_SLACK_MS >= cb + SLOW_MS,
		      "read_begin returned during the invalidation, after a put with interrupts off");
	else
		CHECK(r.t1 - tput < SLOW_MS / 2,
		      "read_begin waited %.0f ms after the put", r.t1 - tput);
	return true;
}

/*
 * read_begin(B) sleeps for an invalidation whose walk is done with B, and
 * B is put, released at once. The kernel-doc: read_begin() returns at once,
 * with a sequence that always collides; after a put made with interrupts
 * off, at the end of the invalidation it waits for.
 */
static void put_under_sleeping_reader(bool irqs_off)
{
	skip_on_kern("the kernel's engine has no put");
	decide_race(put_under_sleeping_reader_once(irqs_off),
		    "the put came in the invalidation's first half");
}

static void test_put_wakes_sleeping_reader(void)
{
	put_under_sleeping_reader(false);
}

static void test_put_irqs_off_wakes_reader_at_end(void)
{
	put_under_sleeping_reader(true);
}

static const struct tap_test tests[] = {
	TEST(prereg_insert_under_read_lock, 0),
	TEST(prereg_outlives_subscriptions, 0),
	TEST(prereg_put_unbalanced, 0),
	TEST(prereg_fault_path_inserts_vs_exit, 60),
	TEST(put_at_once, 0),
	TEST(put_in_unmap_and_release_callbacks, 60),
	TEST(put_frees_under_sleeping_reader, 30),
	TEST(put_frees_last_user_under_sleeping_reader, 30),
	TEST(put_wakes_sleeping_reader, 30),
	TEST(put_irqs_off_wakes_reader_at_end, 30),
	TEST(owner_skips_own_migration, 0),
	TEST(update_away_during_invalidation, 0),
	TEST(update_into_invalidation, 0),
	TEST(update_away_during_munmap, 0),
	TEST(update_into_munmap, 0),
};

const struct suite_list suite_ext = { tests, ARRAY_SIZE(tests) };
