// SPDX-License-Identifier: GPL-2.0
/*
 * mni_suite_two_pass.c - conformance tests: two-pass ops
 *
 * invalidate_start / invalidate_finish pairs: on every kernel with
 * mni's own ops; the kernel's engine has them from Linux 7.1.
 */
#define _GNU_SOURCE
#include "mni_suite.h"

/* Index of the first entry of this kind and event covering the range. */
static int log_find_kind(const struct mni_test_log *log, uint64_t kind,
			 uint64_t event, const void *start, size_t len)
{
	uint64_t s = (uintptr_t)start, e = s + len;
	uint64_t i;

	for (i = 0; i < log->count; i++) {
		const struct mni_test_log_entry *x = &log->entry[i];

		if (x->kind == kind && x->event == event && x->start <= s &&
		    x->end >= e)
			return (int)i;
	}
	return -1;
}

/*
 * Entries i and i + 1 must be one invalidation's START and FINISH: same
 * event, range, flags and sequence, the finish logged later and seeing the
 * collision that a reader which began before the start must see.
 */
static void expect_pair_at(const struct mni_test_log *log, uint64_t i,
			   const char *who)
{
	const struct mni_test_log_entry *a = &log->entry[i];
	const struct mni_test_log_entry *b = &log->entry[i + 1];
	const uint64_t same = MNI_TEST_LOG_BLOCKABLE | MNI_TEST_LOG_BUSY;

	if (i + 1 < log->count && a->kind == MNI_TEST_LOG_START &&
	    !(a->flags & MNI_TEST_LOG_BUSY) && b->kind == MNI_TEST_LOG_FINISH &&
	    a->event == b->event && a->start == b->start && a->end == b->end &&
	    (a->flags & same) == (b->flags & same) && a->seq == b->seq &&
	    b->order > a->order && b->time_ns >= a->time_ns &&
	    b->flags & MNI_TEST_LOG_COLLIDED)
		return;
	dump_log(who, log);
	FAIL("%s: entries %llu and %llu are not the start and finish of one invalidation",
	     who, (unsigned long long)i, (unsigned long long)i + 1);
}

/* The whole log is start/finish pairs, one per invalidation. */
static void expect_pairs(const struct mni_test_log *log, const char *who)
{
	uint64_t i;

	if (log->count % 2 || log->overflow) {
		dump_log(who, log);
		FAIL("%s: %llu entries (%llu lost), not start/finish pairs", who,
		     (unsigned long long)log->count,
		     (unsigned long long)log->overflow);
	}
	for (i = 0; i < log->count; i += 2)
		expect_pair_at(log, i, who);
}

/* The log holds exactly one invalidation: this START, then its FINISH. */
static void expect_one_pair(const struct mni_test_log *log, const char *who,
			    uint64_t event, const void *start, size_t len,
			    uint64_t want_flags)
{
	const struct mni_test_log_entry *e = &log->entry[0];

	if (log->count != 2 || e->event != event ||
	    e->start != (uintptr_t)start || e->end != (uintptr_t)start + len ||
	    (e->flags & want_flags) != want_flags) {
		dump_log(who, log);
		FAIL("%s: expected one start and one finish of %s [%p, +%#zx)",
		     who, mirror_event_name(event), start, len);
	}
	expect_pair_at(log, 0, who);
}

/*
 * munmap and MADV_DONTNEED on a two-pass mirror: one start and one finish
 * each, of exactly the range; the finish clears the mirror, and a reader
 * that began before sees the collision.
 */
static void test_two_pass_unmap_and_dontneed(void)
{
	const size_t n = 8;
	int fd = open_dev();
	char *p = map_pages(n);
	struct mni_test_log log;
	uint64_t id, s0, s1;
	struct snap s;
	bool retry;
	size_t i;
	int ret;

	require_two_pass(fd);
	fill(p, n, 40);
	id = must_add(fd, p, n * psz, MNI_TEST_ADD_TWO_PASS);
	must_fault(fd, id, p, n, 0);
	expect_no_calls(fd, id, "after the fault");
	ret = mirror_seq_begin(fd, id, &s0);
	CHECK(!ret, "SEQ_BEGIN: %s", strerror(-ret));

	CHECK(munmap(p + 2 * psz, 2 * psz) == 0, "munmap: %s", strerror(errno));
	get_log(fd, id, true, &log);
	expect_one_pair(&log, "after munmap of pages 2-3", MNI_TEST_EV_UNMAP,
			p + 2 * psz, 2 * psz, MNI_TEST_LOG_BLOCKABLE);
	ret = mirror_seq_retry(fd, id, s0, &retry);
	CHECK(!ret && retry, "no collision across the munmap");
	s = must_read(fd, id, p, n);
	for (i = 0; i < n; i++) {
		if (i == 2 || i == 3)
			check_absent(&s, i);
		else
			check_mirrored(&s, i, pat(40, i));
	}
	snap_free(&s);

	ret = mirror_seq_begin(fd, id, &s1);
	CHECK(!ret, "SEQ_BEGIN: %s", strerror(-ret));
	CHECK(s1 == log.entry[0].seq, "read_begin gave %#llx, the start set %#llx",
	      (unsigned long long)s1, (unsigned long long)log.entry[0].seq);
	CHECK(madvise(p + 5 * psz, 2 * psz, MADV_DONTNEED) == 0, "madvise: %s",
	      strerror(errno));
	get_log(fd, id, true, &log);
	expect_one_pair(&log, "after DONTNEED of pages 5-6", MNI_TEST_EV_CLEAR,
			p + 5 * psz, 2 * psz, MNI_TEST_LOG_BLOCKABLE);
	CHECK(log.entry[0].seq != s1, "the DONTNEED reused sequence %#llx",
	      (unsigned long long)s1);
	ret = mirror_seq_retry(fd, id, s1, &retry);
	CHECK(!ret && retry, "no collision across the DONTNEED");
	s = must_read(fd, id, p, n);
	for (i = 0; i < n; i++) {
		if (i == 2 || i == 3 || i == 5 || i == 6)
			check_absent(&s, i);
		else
			check_mirrored(&s, i, pat(40, i));
	}
	snap_free(&s);
	must_del(fd, id);
	close(fd);
}

/*
 * Several two-pass subscriptions hit by one invalidation: every start
 * comes before every finish, and the finishes run in the order of their
 * starts.
 */
static void test_two_pass_order_across_subscriptions(void)
{
	enum { NSUBS = 5 };
	/* Pages [first, first + count) of each; all overlap pages 3-4. */
	static const size_t first[NSUBS] = { 0, 2, 0, 4, 3 };
	static const size_t count[NSUBS] = { 8, 4, 8, 4, 1 };
	const size_t n = 8;
	int fd = open_dev();
	char *p = map_pages(n);
	struct mni_test_log logs[NSUBS];
	uint64_t ids[NSUBS];
	int round, i, j;

	require_two_pass(fd);
	fill(p, n, 41);
	for (i = 0; i < NSUBS; i++) {
		ids[i] = must_add(fd, p + first[i] * psz, count[i] * psz,
				  MNI_TEST_ADD_TWO_PASS);
		must_fault(fd, ids[i], p + first[i] * psz, count[i], 0);
	}

	for (round = 0; round < 2; round++) {
		const char *what = round ? "munmap of pages 3-4" :
					   "DONTNEED of pages 3-4";
		uint64_t max_start = 0, min_finish = UINT64_MAX;

		if (round)
			CHECK(munmap(p + 3 * psz, 2 * psz) == 0, "munmap: %s",
			      strerror(errno));
		else
			CHECK(madvise(p + 3 * psz, 2 * psz, MADV_DONTNEED) == 0,
			      "madvise: %s", strerror(errno));
		for (i = 0; i < NSUBS; i++) {
			char who[64];

			snprintf(who, sizeof(who), "subscription %d after %s", i,
				 what);
			get_log(fd, ids[i], true, &logs[i]);
			expect_one_pair(&logs[i], who,
					round ? MNI_TEST_EV_UNMAP :
						MNI_TEST_EV_CLEAR,
					p + 3 * psz, 2 * psz,
					MNI_TEST_LOG_BLOCKABLE);
			CHECK(logs[i].entry[0].seq == logs[0].entry[0].seq,
			      "%s: seq %#llx, subscription 0 got %#llx", who,
			      (unsigned long long)logs[i].entry[0].seq,
			      (unsigned long long)logs[0].entry[0].seq);
			if (logs[i].entry[0].order > max_start)
				max_start = logs[i].entry[0].order;
			if (logs[i].entry[1].order < min_finish)
				min_finish = logs[i].entry[1].order;
		}
		if (max_start > min_finish) {
			for (i = 0; i < NSUBS; i++)
				dump_log(what, &logs[i]);
			FAIL("%s: a finish ran before the last start", what);
		}
		for (i = 0; i < NSUBS; i++)
			for (j = 0; j < NSUBS; j++)
				if ((logs[i].entry[0].order < logs[j].entry[0].order) !=
				    (logs[i].entry[1].order < logs[j].entry[1].order)) {
					dump_log("first", &logs[i]);
					dump_log("second", &logs[j]);
					FAIL("%s: subscriptions %d and %d finished in another order than they started",
					     what, i, j);
				}
		for (i = 0; i < NSUBS; i++) {
			size_t k;

			if (round)
				continue;	/* pages 3-4 are gone */
			for (k = 0; k < count[i]; k++) {
				size_t pg = first[i] + k;
				struct snap s = must_read(fd, ids[i], p + pg * psz, 1);

				if (pg == 3 || pg == 4)
					check_absent(&s, 0);
				else
					check_mirrored(&s, 0, pat(41, pg));
				snap_free(&s);
			}
		}
	}
	for (i = 0; i < NSUBS; i++)
		must_del(fd, ids[i]);
	close(fd);
}

/*
 * Classic and two-pass subscriptions in one mm, in one invalidation: each
 * gets its own kind of call, the two-pass finish comes after every call of
 * the pass (also those of classic subscriptions visited after its start),
 * and every mirror is cleared.
 */
static void test_two_pass_mixed_with_classic(void)
{
	const size_t n = 8;
	int fd = open_dev();
	char *p = map_pages(n), *other = map_pages(2);
	struct mni_test_log la, lb, lc;
	uint64_t a, b, c, d;
	struct snap s;
	int round;
	size_t i;

	require_two_pass(fd);
	fill(p, n, 42);
	fill(other, 2, 43);
	b = must_add(fd, p, n * psz, MNI_TEST_ADD_TWO_PASS);	/* pages 0-7 */
	a = must_add(fd, p + 4 * psz, 4 * psz, 0);		/* pages 4-7 */
	c = must_add(fd, p, 2 * psz, 0);			/* pages 0-1 */
	d = must_add(fd, other, 2 * psz, MNI_TEST_ADD_TWO_PASS);
	must_fault(fd, a, p + 4 * psz, 4, 0);
	must_fault(fd, b, p, n, 0);
	must_fault(fd, c, p, 2, 0);
	must_fault(fd, d, other, 2, 0);

	for (round = 0; round < 2; round++) {
		const char *what = round ? "munmap" : "DONTNEED of pages 1-5";
		uint64_t ev = round ? MNI_TEST_EV_UNMAP : MNI_TEST_EV_CLEAR;
		char *start = round ? p : p + psz;
		size_t len = round ? n * psz : 5 * psz;

		if (round)
			CHECK(munmap(p, n * psz) == 0, "munmap: %s",
			      strerror(errno));
		else
			CHECK(madvise(start, len, MADV_DONTNEED) == 0,
			      "madvise: %s", strerror(errno));
		get_log(fd, a, true, &la);
		get_log(fd, b, true, &lb);
		get_log(fd, c, true, &lc);
		expect_one_pair(&lb, "two-pass subscription", ev, start, len,
				MNI_TEST_LOG_BLOCKABLE);
		if (la.count != 1 || la.entry[0].kind != MNI_TEST_LOG_INVALIDATE ||
		    lc.count != 1 || lc.entry[0].kind != MNI_TEST_LOG_INVALIDATE) {
			dump_log("classic, pages 4-7", &la);
			dump_log("classic, pages 0-1", &lc);
			FAIL("%s: the classic subscriptions were not called once each",
			     what);
		}
		expect_event(&la, "classic, pages 4-7", ev, p + 4 * psz,
			     start + len - (p + 4 * psz), MNI_TEST_LOG_BLOCKABLE);
		expect_event(&lc, "classic, pages 0-1", ev, start,
			     p + 2 * psz - start, MNI_TEST_LOG_BLOCKABLE);
		CHECK(la.entry[0].seq == lb.entry[0].seq &&
		      lc.entry[0].seq == lb.entry[0].seq,
		      "%s: one invalidation handed out sequences %#llx, %#llx and %#llx",
		      what, (unsigned long long)lb.entry[0].seq,
		      (unsigned long long)la.entry[0].seq,
		      (unsigned long long)lc.entry[0].seq);
		if (la.entry[0].order > lb.entry[1].order ||
		    lc.entry[0].order > lb.entry[1].order) {
			dump_log("classic, pages 4-7", &la);
			dump_log("two-pass", &lb);
			dump_log("classic, pages 0-1", &lc);
			FAIL("%s: the finish ran before the pass called every subscription",
			     what);
		}
		if (round)
			continue;
		s = must_read(fd, b, p, n);
		for (i = 0; i < n; i++) {
			if (i >= 1 && i <= 5)
				check_absent(&s, i);
			else
				check_mirrored(&s, i, pat(42, i));
		}
		snap_free(&s);
		s = must_read(fd, a, p + 4 * psz, 4);
		check_absent(&s, 0);
		check_absent(&s, 1);
		check_mirrored(&s, 2, pat(42, 6));
		snap_free(&s);
		s = must_read(fd, c, p, 2);
		check_mirrored(&s, 0, pat(42, 0));
		check_absent(&s, 1);
		snap_free(&s);
	}
	expect_no_calls(fd, d, "two-pass subscription of another mapping");
	s = must_read(fd, d, other, 2);
	check_mirrored(&s, 0, pat(43, 0));
	check_mirrored(&s, 1, pat(43, 1));
	snap_free(&s);
	close(fd);
}

/*
 * A start that hands back no finish (as when its allocation fails) gets no
 * finish call and has cleared the mirror itself; another two-pass
 * subscription in the same invalidation still gets its finish.
 */
static void test_two_pass_null_finish(void)
{
	const size_t n = 8;
	int fd = open_dev();
	char *p = map_pages(n);
	struct mni_test_log lx, ly;
	uint64_t x, y, s0;
	struct snap s;
	bool retry;
	size_t i;
	int ret;

	require_two_pass(fd);
	fill(p, n, 44);
	x = must_add(fd, p, n * psz,
		     MNI_TEST_ADD_TWO_PASS | MNI_TEST_ADD_NO_FINISH);
	y = must_add(fd, p, n * psz, MNI_TEST_ADD_TWO_PASS);
	must_fault(fd, x, p, n, 0);
	must_fault(fd, y, p, n, 0);
	ret = mirror_seq_begin(fd, x, &s0);
	CHECK(!ret, "SEQ_BEGIN: %s", strerror(-ret));

	CHECK(madvise(p + 2 * psz, 2 * psz, MADV_DONTNEED) == 0, "madvise: %s",
	      strerror(errno));
	get_log(fd, x, true, &lx);
	get_log(fd, y, true, &ly);
	if (lx.count != 1 || lx.entry[0].kind != MNI_TEST_LOG_START ||
	    lx.entry[0].event != MNI_TEST_EV_CLEAR ||
	    lx.entry[0].start != (uintptr_t)(p + 2 * psz) ||
	    lx.entry[0].end != (uintptr_t)(p + 4 * psz)) {
		dump_log("no-finish subscription", &lx);
		FAIL("expected exactly one start of CLEAR [%p, %p) and no finish",
		     p + 2 * psz, p + 4 * psz);
	}
	expect_one_pair(&ly, "two-pass subscription", MNI_TEST_EV_CLEAR,
			p + 2 * psz, 2 * psz, MNI_TEST_LOG_BLOCKABLE);
	ret = mirror_seq_retry(fd, x, s0, &retry);
	CHECK(!ret && retry, "no collision across the DONTNEED");
	for (i = 0; i < 2; i++) {
		s = must_read(fd, i ? y : x, p, n);
		check_absent(&s, 2);
		check_absent(&s, 3);
		check_mirrored(&s, 1, pat(44, 1));
		check_mirrored(&s, 4, pat(44, 4));
		snap_free(&s);
	}

	CHECK(munmap(p, n * psz) == 0, "munmap: %s", strerror(errno));
	get_log(fd, x, true, &lx);
	get_log(fd, y, true, &ly);
	if (lx.count != 1 || lx.entry[0].kind != MNI_TEST_LOG_START ||
	    lx.entry[0].event != MNI_TEST_EV_UNMAP) {
		dump_log("no-finish subscription after munmap", &lx);
		FAIL("expected exactly one start of UNMAP and no finish");
	}
	expect_one_pair(&ly, "two-pass subscription after munmap",
			MNI_TEST_EV_UNMAP, p, n * psz, MNI_TEST_LOG_BLOCKABLE);
	s = must_read(fd, x, p, n);
	CHECK(s.mirrored == 0, "%llu pages mirrored after munmap",
	      (unsigned long long)s.mirrored);
	snap_free(&s);
	close(fd);
}

/* Exit: the RELEASE reaches the start and the finish of each subscription. */
static void test_two_pass_exit_release(void)
{
	int fd = open_dev();
	struct sub_desc subs[2];
	struct mni_test_log log;
	int pfd[2];
	size_t i;
	pid_t pid;

	require_two_pass(fd);
	CHECK(pipe(pfd) == 0, "pipe: %s", strerror(errno));
	pid = fork_child();
	if (!pid) {
		char *a = map_pages(4);

		fill(a, 4, 45);
		subs[0] = (struct sub_desc){ 0, (uintptr_t)a, 4 * psz, 1 };
		/* A gigabyte nothing is mapped in. */
		subs[1] = (struct sub_desc){ 0, 1ULL << 44, 1ULL << 30, 0 };
		subs[0].id = must_add(fd, a, 4 * psz, MNI_TEST_ADD_TWO_PASS);
		subs[1].id = must_add(fd, (void *)(uintptr_t)subs[1].start,
				      subs[1].len, MNI_TEST_ADD_TWO_PASS |
				      MNI_TEST_ADD_NOMIRROR);
		must_fault(fd, subs[0].id, a, 4, 0);
		CHECK(write(pfd[1], subs, sizeof(subs)) == sizeof(subs),
		      "write: %s", strerror(errno));
		_exit(0);
	}
	close(pfd[1]);
	CHECK(read(pfd[0], subs, sizeof(subs)) == sizeof(subs),
	      "child did not report its subscriptions");
	wait_child_ok(pid);

	for (i = 0; i < ARRAY_SIZE(subs); i++) {
		void *start = (void *)(uintptr_t)subs[i].start;
		char who[32];
		int k;

		snprintf(who, sizeof(who), "subscription %zu", i);
		get_log(fd, subs[i].id, false, &log);
		/* The kernel's engine also passes on exit_mmap()'s unmaps. */
		expect_pairs(&log, who);
		expect_all_overlap(&log, who, start, subs[i].len);
		k = log_find_kind(&log, MNI_TEST_LOG_START, MNI_TEST_EV_RELEASE,
				  start, subs[i].len);
		if (k < 0 || !(log.entry[k].flags & MNI_TEST_LOG_BLOCKABLE)) {
			dump_log(who, &log);
			FAIL("%s: no blockable RELEASE start", who);
		}
		if (subs[i].mirrored) {
			struct snap s = must_read(fd, subs[i].id, start,
						  subs[i].len / psz);

			CHECK(s.mirrored == 0,
			      "%s: %llu pages mirrored after exit", who,
			      (unsigned long long)s.mirrored);
			snap_free(&s);
		}
		must_del(fd, subs[i].id);
	}
	close(fd);
}

/*
 * A non-blockable invalidation (process_mrelease(2)) in which a later
 * subscription refuses: the two subscriptions started before it still get
 * their finishes, after the refusal, in the order of their starts, before
 * the invalidation is over (process_mrelease() returns after them), each
 * with its preallocated finish (nothing allocated in the reaper's pass);
 * the refusing one gets none, and no invalidation stays in flight.
 */
static void test_two_pass_reap_refused(void)
{
	enum { NSTARTED = 2, BUSY = NSTARTED, NSUBS };
	const size_t n = 8;
	int fd = open_dev();
	struct sub_desc subs[NSUBS];
	struct mni_test_log logs[NSUBS];
	const struct mni_test_log *lb = &logs[BUSY];
	int pfd[2], pidfd, i, k;
	struct snap s;
	long ret;
	pid_t pid;

	require_two_pass(fd);
	CHECK(pipe(pfd) == 0, "pipe: %s", strerror(errno));
	pid = fork_child();
	if (!pid) {
		char *p = map_pages(n);

		fill(p, n, 46);
		/* Lower starts: the pass visits them first, in this order. */
		for (i = 0; i < NSTARTED; i++) {
			subs[i] = (struct sub_desc){ 0, (uintptr_t)(p + i * psz),
						     (n - i) * psz, 1 };
			subs[i].id = must_add(fd, p + i * psz, (n - i) * psz,
					      MNI_TEST_ADD_TWO_PASS);
			must_fault(fd, subs[i].id, p + i * psz, n - i, 0);
		}
		subs[BUSY] = (struct sub_desc){ 0, (uintptr_t)(p + 4 * psz),
						4 * psz, 0 };
		subs[BUSY].id = must_add(fd, p + 4 * psz, 4 * psz,
					 MNI_TEST_ADD_TWO_PASS |
					 MNI_TEST_ADD_NOMIRROR);
		CHECK(write(pfd[1], subs, sizeof(subs)) == sizeof(subs),
		      "write: %s", strerror(errno));
		/* Sleep in the driver holding the busy one's lock. */
		mirror_hold(fd, subs[BUSY].id, 3000);
		_exit(0);
	}
	close(pfd[1]);
	CHECK(read(pfd[0], subs, sizeof(subs)) == sizeof(subs),
	      "child did not report its subscriptions");
	wait_task_state_d(pid);

	pidfd = pidfd_open_and_kill(pid);
	ret = process_mrelease_or_skip(pidfd);
	tap_diag("process_mrelease: %ld (%s)", ret, ret ? strerror(errno) : "ok");
	CHECK(ret == -1 && errno == EAGAIN,
	      "process_mrelease with a subscriber busy gave %ld (%s)", ret,
	      strerror(errno));

	for (i = 0; i < NSUBS; i++)
		get_log(fd, subs[i].id, false, &logs[i]);
	if (lb->count != 1 || lb->entry[0].kind != MNI_TEST_LOG_START ||
	    !(lb->entry[0].flags & MNI_TEST_LOG_BUSY) ||
	    lb->entry[0].flags & MNI_TEST_LOG_BLOCKABLE) {
		dump_log("busy subscription", lb);
		FAIL("expected one refused non-blockable start and no finish");
	}
	for (i = 0; i < NSTARTED; i++) {
		const struct mni_test_log *la = &logs[i];
		char who[48];

		snprintf(who, sizeof(who), "started subscription %d", i);
		if (la->count != 2 ||
		    la->entry[0].flags & MNI_TEST_LOG_BLOCKABLE) {
			dump_log(who, la);
			FAIL("%s: expected one non-blockable start and its finish",
			     who);
		}
		expect_pair_at(la, 0, who);
		CHECK(la->entry[0].flags & la->entry[1].flags &
		      MNI_TEST_LOG_PREALLOC,
		      "%s: the non-blockable pass did not use the preallocated finish",
		      who);
		CHECK(la->entry[0].event == lb->entry[0].event &&
		      la->entry[0].seq == lb->entry[0].seq,
		      "%s and the busy one were called by different invalidations",
		      who);
		if (!(la->entry[0].order < lb->entry[0].order &&
		      lb->entry[0].order < la->entry[1].order)) {
			dump_log(who, la);
			dump_log("busy subscription", lb);
			FAIL("%s: the finish did not run after the refusal", who);
		}
		s = must_read(fd, subs[i].id, (void *)(uintptr_t)subs[i].start,
			      n - i);
		CHECK(s.mirrored == 0, "%s: %llu pages mirrored after the finish",
		      who, (unsigned long long)s.mirrored);
		snap_free(&s);
	}
	if (!(logs[0].entry[0].order < logs[1].entry[0].order &&
	      logs[0].entry[1].order < logs[1].entry[1].order)) {
		dump_log("started subscription 0", &logs[0]);
		dump_log("started subscription 1", &logs[1]);
		FAIL("the finishes did not run in the order of their starts");
	}

	CHECK(waitpid(pid, NULL, 0) == pid, "waitpid: %s", strerror(errno));
	for (i = 0; i < NSUBS; i++) {
		struct mni_test_log *l = &logs[i];
		/* Drop the reap's entries: a start and a finish, or a refusal. */
		uint64_t reap = i == BUSY ? 1 : 2;
		char who[48];

		snprintf(who, sizeof(who), "subscription %d after exit", i);
		get_log(fd, subs[i].id, true, l);
		memmove(l->entry, l->entry + reap,
			(l->count - reap) * sizeof(l->entry[0]));
		l->count -= reap;
		/* The rest is pairs, RELEASE among them. */
		expect_pairs(l, who);
		k = log_find_kind(l, MNI_TEST_LOG_START, MNI_TEST_EV_RELEASE,
				  (void *)(uintptr_t)subs[i].start, subs[i].len);
		CHECK(k >= 0, "%s: no RELEASE start", who);
	}
	/* A leaked in-flight count would make these wait forever. */
	for (i = 0; i < NSUBS; i++)
		must_del(fd, subs[i].id);
	close(pidfd);
	close(fd);
}

/*
 * The finish is part of the invalidation: read_begin() on the subscription
 * returns only after its finish is done (here it sleeps SLOW_MS).
 */
static void test_two_pass_read_begin_waits_finish(void)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(n);
	struct op_thread t = {
		.op = op_dontneed, .addr = p, .len = n * psz,
	};
	struct mni_test_log log;
	double fin_ms, t1;
	uint64_t id, seq;
	int ret;

	require_two_pass(fd);
	fill(p, n, 47);
	id = must_add(fd, p, n * psz, MNI_TEST_ADD_TWO_PASS);
	CHECK(mirror_slow(fd, id, SLOW_MS) == 0, "SLOW");
	op_start(&t);
	wait_for_call(fd, id);
	ret = mirror_seq_begin(fd, id, &seq);
	t1 = now_ms();
	CHECK(!ret, "SEQ_BEGIN: %s", strerror(-ret));
	op_join(&t);
	get_log(fd, id, false, &log);
	expect_one_pair(&log, "slow finish", MNI_TEST_EV_CLEAR, p, n * psz,
			MNI_TEST_LOG_BLOCKABLE);
	fin_ms = log.entry[1].time_ns / 1e6;
	tap_diag("read_begin returned %.0f ms after the finish began (which sleeps %d ms)",
		 t1 - fin_ms, SLOW_MS);
	CHECK(t1 + CLOCK_SLACK_MS >= fin_ms + SLOW_MS,
	      "read_begin returned while the finish was still running");
	CHECK(seq == log.entry[0].seq, "read_begin gave %#llx, the start set %#llx",
	      (unsigned long long)seq, (unsigned long long)log.entry[0].seq);
	close(fd);
}

static const struct tap_test tests[] = {
	TEST(two_pass_unmap_and_dontneed, 0),
	TEST(two_pass_order_across_subscriptions, 0),
	TEST(two_pass_mixed_with_classic, 0),
	TEST(two_pass_null_finish, 0),
	TEST(two_pass_exit_release, 0),
	TEST(two_pass_reap_refused, 0),
	TEST(two_pass_read_begin_waits_finish, 0),
};

const struct suite_list suite_two_pass = { tests, ARRAY_SIZE(tests) };
