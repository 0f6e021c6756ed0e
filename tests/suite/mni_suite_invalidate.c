// SPDX-License-Identifier: GPL-2.0
/*
 * mni_suite_invalidate.c - conformance tests: invalidation semantics
 *
 * What an engine calls, and with what: faults mirror the
 * content, each mm operation (munmap, mprotect, MADV_DONTNEED, mremap, fork,
 * soft-dirty) invalidates exactly the ranges it touches with the right
 * event, overlapping subscriptions each get theirs, and a random program
 * matches a reference model of the dispatch.
 */
#define _GNU_SOURCE
#include "mni_suite.h"

/* hmm_range_fault() through a subscription mirrors exactly the CPU data. */
static void test_fault_mirrors_content(void)
{
	const size_t n = dp.n;
	int fd = dp.fd;
	char *p = dp.p;
	struct mni_test_fault f;
	struct mni_test_log log;
	struct snap s;
	uint64_t id;
	size_t i;

	fill(p, n, 1);
	id = must_add(fd, p, n * psz, 0);

	f = must_fault(fd, id, p, 10, 0);
	s = must_read(fd, id, p, n);
	CHECK(s.mirrored == 10, "%llu pages mirrored after faulting 10",
	      (unsigned long long)s.mirrored);
	for (i = 0; i < n; i++) {
		if (i < 10)
			check_mirrored(&s, i, pat(1, i));
		else
			check_absent(&s, i);
	}
	snap_free(&s);

	f = must_fault(fd, id, p, n, 0);
	CHECK(f.writable == n, "only %llu of %zu written pages mirrored writable",
	      (unsigned long long)f.writable, n);
	s = must_read(fd, id, p, n);
	for (i = 0; i < n; i++) {
		check_mirrored(&s, i, pat(1, i));
		CHECK(s.state[i] == MNI_TEST_PAGE_WRITE, "page %zu not writable", i);
	}
	snap_free(&s);

	/* Faulting present pages invalidates nothing. */
	get_log(fd, id, false, &log);
	CHECK(log.count == 0, "faulting caused %llu invalidations",
	      (unsigned long long)log.count);
}

/* The mirror holds the very pages the CPU uses, not copies. */
static void test_mirror_shares_pages(void)
{
	const size_t n = dp.n;
	int fd = dp.fd;
	char *p = dp.p;
	struct mni_test_fault f;
	struct snap s;
	uint64_t id;
	size_t i;

	id = must_add(fd, p, n * psz, 0);
	f = must_fault(fd, id, p, n, MNI_TEST_FAULT_WRITE);
	CHECK(f.writable == n, "write fault mirrored %llu writable pages",
	      (unsigned long long)f.writable);
	s = must_read(fd, id, p, n);
	for (i = 0; i < n; i++)
		check_mirrored(&s, i, 0);
	snap_free(&s);

	/* Writes to writable, present pages need no invalidation. */
	fill(p, n, 2);
	expect_no_calls(fd, id, "after CPU writes");
	s = must_read(fd, id, p, n);
	for (i = 0; i < n; i++)
		check_mirrored(&s, i, pat(2, i));
	snap_free(&s);
}

/* A CPU write to a read-faulted zero page replaces it: CLEAR. */
static void test_cow_of_zero_page_clears(void)
{
	const size_t n = dp.n;
	int fd = dp.fd;
	char *p = dp.p;
	struct mni_test_log log;
	struct snap s;
	uint64_t id;
	size_t i;

	id = must_add(fd, p, n * psz, 0);
	must_fault(fd, id, p, n, 0);
	s = must_read(fd, id, p, n);
	for (i = 0; i < n; i++) {
		check_mirrored(&s, i, 0);
		CHECK(s.state[i] == MNI_TEST_PAGE_READ,
		      "zero page %zu mirrored writable", i);
	}
	snap_free(&s);

	memset(p + psz, 0x5a, psz);
	get_log(fd, id, true, &log);
	expect_event(&log, "after the write", MNI_TEST_EV_CLEAR, p + psz, psz,
		     MNI_TEST_LOG_BLOCKABLE);
	expect_all_overlap(&log, "after the write", p, n * psz);

	s = must_read(fd, id, p, n);
	check_absent(&s, 1);
	check_mirrored(&s, 0, 0);
	check_mirrored(&s, 2, 0);
	snap_free(&s);

	must_fault(fd, id, p, n, 0);
	s = must_read(fd, id, p, n);
	check_mirrored(&s, 1, 0x5a);
	snap_free(&s);
}

/* munmap tears the mirror down; new memory at the same address is new. */
static void test_munmap_then_refault_fresh(void)
{
	const size_t n = 8;
	int fd = open_dev();
	char *p = map_pages(n), *q;
	struct mni_test_fault f = { 0 };
	struct mni_test_log log;
	struct snap s;
	uint64_t id;
	size_t i;
	int ret;

	fill(p, n, 3);
	id = must_add(fd, p, n * psz, 0);
	must_fault(fd, id, p, n, 0);

	CHECK(munmap(p, n * psz) == 0, "munmap: %s", strerror(errno));
	get_log(fd, id, true, &log);
	expect_event(&log, "after munmap", MNI_TEST_EV_UNMAP, p, n * psz,
		     MNI_TEST_LOG_BLOCKABLE);
	expect_all_overlap(&log, "after munmap", p, n * psz);

	s = must_read(fd, id, p, n);
	CHECK(s.mirrored == 0, "%llu pages still mirrored after munmap",
	      (unsigned long long)s.mirrored);
	snap_free(&s);

	/* Nothing is mapped there: the fault must fail, not mirror. */
	ret = mirror_fault(fd, id, p, n, 0, &f);
	CHECK(ret == -EFAULT, "FAULT on unmapped range gave %d (%s)", ret,
	      strerror(-ret));

	q = mmap(p, n * psz, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(q == p, "re-mmap at %p: %s", p, strerror(errno));
	fill(p, n, 4);

	/* Until refaulted the mirror shows nothing, never the old data. */
	s = must_read(fd, id, p, n);
	CHECK(s.mirrored == 0, "%llu pages mirrored before the refault",
	      (unsigned long long)s.mirrored);
	snap_free(&s);

	must_fault(fd, id, p, n, 0);
	s = must_read(fd, id, p, n);
	for (i = 0; i < n; i++)
		check_mirrored(&s, i, pat(4, i));
	snap_free(&s);
	close(fd);
}

/* A partial munmap reports exactly its range and drops only those pages. */
static void test_munmap_partial_exact_range(void)
{
	const size_t n = 8;
	int fd = open_dev();
	char *p = map_pages(n);
	struct mni_test_log log;
	struct snap s;
	uint64_t id;
	size_t i;

	fill(p, n, 5);
	id = must_add(fd, p, n * psz, 0);
	must_fault(fd, id, p, n, 0);

	CHECK(munmap(p + 2 * psz, 2 * psz) == 0, "munmap: %s", strerror(errno));
	get_log(fd, id, true, &log);
	if (log.count != 1 || log.entry[0].event != MNI_TEST_EV_UNMAP ||
	    log.entry[0].start != (uintptr_t)(p + 2 * psz) ||
	    log.entry[0].end != (uintptr_t)(p + 4 * psz)) {
		dump_log("after munmap of pages 2-3", &log);
		FAIL("expected exactly one UNMAP [%p, %p)", p + 2 * psz,
		     p + 4 * psz);
	}

	s = must_read(fd, id, p, n);
	for (i = 0; i < n; i++) {
		if (i == 2 || i == 3)
			check_absent(&s, i);
		else
			check_mirrored(&s, i, pat(5, i));
	}
	snap_free(&s);
	close(fd);
}

/* An munmap outside the subscription does not call it. */
static void test_unrelated_munmap_silent(void)
{
	const size_t n = 12;
	int fd = open_dev();
	char *p = map_pages(n);
	struct mni_test_log log;
	struct snap s;
	uint64_t id;
	size_t i;

	fill(p, n, 6);
	/* Three separate mappings: [0,4) subscribed, [4,8) hole, [8,12). */
	CHECK(munmap(p + 4 * psz, 4 * psz) == 0, "munmap: %s", strerror(errno));
	id = must_add(fd, p, 4 * psz, 0);
	must_fault(fd, id, p, 4, 0);

	CHECK(munmap(p + 8 * psz, 4 * psz) == 0, "munmap: %s", strerror(errno));
	expect_no_calls(fd, id, "after the unrelated munmap");
	s = must_read(fd, id, p, 4);
	for (i = 0; i < 4; i++)
		check_mirrored(&s, i, pat(6, i));
	snap_free(&s);

	/* Control: our own range is seen. */
	CHECK(munmap(p, 4 * psz) == 0, "munmap: %s", strerror(errno));
	get_log(fd, id, false, &log);
	expect_event(&log, "after our munmap", MNI_TEST_EV_UNMAP, p, 4 * psz,
		     MNI_TEST_LOG_BLOCKABLE);
	close(fd);
}

/* mprotect: PROTECTION_VMA; the refault follows the new protection. */
static void test_mprotect_protection_vma(void)
{
	const size_t n = dp.n;
	int fd = dp.fd;
	char *p = dp.p;
	struct mni_test_fault f = { 0 };
	struct mni_test_log log;
	struct snap s;
	uint64_t id;
	size_t i;
	int ret;

	fill(p, n, 7);
	id = must_add(fd, p, n * psz, 0);
	must_fault(fd, id, p, n, MNI_TEST_FAULT_WRITE);

	CHECK(mprotect(p, n * psz, PROT_READ) == 0, "mprotect: %s",
	      strerror(errno));
	get_log(fd, id, true, &log);
	expect_event(&log, "after mprotect(PROT_READ)",
		     MNI_TEST_EV_PROTECTION_VMA, p, n * psz,
		     MNI_TEST_LOG_BLOCKABLE);
	expect_all_overlap(&log, "after mprotect", p, n * psz);

	s = must_read(fd, id, p, n);
	CHECK(s.mirrored == 0, "%llu pages still mirrored after mprotect",
	      (unsigned long long)s.mirrored);
	snap_free(&s);

	ret = mirror_fault(fd, id, p, n, MNI_TEST_FAULT_WRITE, &f);
	CHECK(ret == -EPERM, "write FAULT of a read-only range gave %d", ret);
	must_fault(fd, id, p, n, 0);
	s = must_read(fd, id, p, n);
	for (i = 0; i < n; i++) {
		check_mirrored(&s, i, pat(7, i));
		CHECK(s.state[i] == MNI_TEST_PAGE_READ,
		      "page %zu mirrored writable after PROT_READ", i);
	}
	snap_free(&s);
}

/* madvise(MADV_DONTNEED) is a CLEAR; the refault sees zeroes. */
static void test_madvise_dontneed_clear(void)
{
	const size_t n = dp.n;
	int fd = dp.fd;
	char *p = dp.p;
	struct mni_test_log log;
	struct snap s;
	uint64_t id;
	size_t i;

	fill(p, n, 8);
	id = must_add(fd, p, n * psz, 0);
	must_fault(fd, id, p, n, 0);

	CHECK(madvise(p + psz, 3 * psz, MADV_DONTNEED) == 0, "madvise: %s",
	      strerror(errno));
	get_log(fd, id, true, &log);
	expect_event(&log, "after MADV_DONTNEED", MNI_TEST_EV_CLEAR, p + psz,
		     3 * psz, MNI_TEST_LOG_BLOCKABLE);
	expect_all_overlap(&log, "after MADV_DONTNEED", p, n * psz);

	s = must_read(fd, id, p, n);
	for (i = 1; i < 4; i++)
		check_absent(&s, i);
	check_mirrored(&s, 0, pat(8, 0));
	check_mirrored(&s, 5, pat(8, 5));
	snap_free(&s);

	must_fault(fd, id, p, n, 0);
	s = must_read(fd, id, p, n);
	for (i = 0; i < n; i++)
		check_mirrored(&s, i, i >= 1 && i < 4 ? 0 : pat(8, i));
	snap_free(&s);
}

/* mremap moving the pages away unmaps the old range. */
static void test_mremap_move_unmaps(void)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(n), *dst = map_pages(n), *q;
	struct mni_test_log log;
	struct snap s;
	uint64_t id;
	size_t i;

	fill(p, n, 9);
	id = must_add(fd, p, n * psz, 0);
	must_fault(fd, id, p, n, 0);

	q = mremap(p, n * psz, n * psz, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	CHECK(q == dst, "mremap: %s", strerror(errno));
	get_log(fd, id, true, &log);
	expect_event(&log, "after mremap", MNI_TEST_EV_UNMAP, p, n * psz,
		     MNI_TEST_LOG_BLOCKABLE);
	expect_all_overlap(&log, "after mremap", p, n * psz);
	s = must_read(fd, id, p, n);
	CHECK(s.mirrored == 0, "%llu pages mirrored after the move",
	      (unsigned long long)s.mirrored);
	snap_free(&s);
	for (i = 0; i < n; i++)
		CHECK((uint8_t)dst[i * psz] == pat(9, i), "moved data lost");
	close(fd);
}

/*
 * fork write-protects the parent's private pages (PROTECTION_PAGE); the
 * child's own exit is none of the parent's subscription's business.
 */
static void test_fork_protects_child_exit_silent(void)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(n);
	struct mni_test_log log;
	int go[2];
	struct snap s;
	uint64_t id;
	pid_t pid;
	size_t i;
	char c = 0;

	fill(p, n, 10);
	id = must_add(fd, p, n * psz, 0);
	must_fault(fd, id, p, n, MNI_TEST_FAULT_WRITE);
	CHECK(pipe(go) == 0, "pipe: %s", strerror(errno));

	pid = fork_child();
	if (!pid) {
		/* Touch the shared pages, then wait to be told to exit. */
		p[0] = p[0];
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	get_log(fd, id, true, &log);
	expect_event(&log, "after fork", MNI_TEST_EV_PROTECTION_PAGE, p,
		     n * psz, MNI_TEST_LOG_BLOCKABLE);
	expect_all_overlap(&log, "after fork", p, n * psz);

	s = must_read(fd, id, p, n);
	CHECK(s.mirrored == 0, "%llu pages mirrored after fork",
	      (unsigned long long)s.mirrored);
	snap_free(&s);
	must_fault(fd, id, p, n, 0);
	s = must_read(fd, id, p, n);
	for (i = 0; i < n; i++)
		check_mirrored(&s, i, pat(10, i));
	snap_free(&s);

	CHECK(write(go[1], &c, 1) == 1, "write: %s", strerror(errno));
	wait_child_ok(pid);
	expect_no_calls(fd, id, "after the child exited");
	close(fd);
}

/* Overlapping subscriptions: each event reaches exactly the ones it hits. */
static void test_overlapping_dispatch(void)
{
	const size_t n = 8;
	int fd = open_dev();
	char *p = map_pages(n);
	struct mni_test_log la, lb, lc;
	uint64_t a, b, c;

	fill(p, n, 11);
	a = must_add(fd, p, 4 * psz, 0);		/* pages 0-3 */
	b = must_add(fd, p + 2 * psz, 4 * psz, 0);	/* pages 2-5 */
	c = must_add(fd, p + 6 * psz, 2 * psz, 0);	/* pages 6-7 */

	CHECK(munmap(p + 4 * psz, psz) == 0, "munmap: %s", strerror(errno));
	get_log(fd, a, true, &la);
	get_log(fd, b, true, &lb);
	get_log(fd, c, true, &lc);
	CHECK(la.count == 0 && lc.count == 0,
	      "munmap of page 4 called a (%llu) or c (%llu)",
	      (unsigned long long)la.count, (unsigned long long)lc.count);
	expect_event(&lb, "b after munmap of page 4", MNI_TEST_EV_UNMAP,
		     p + 4 * psz, psz, MNI_TEST_LOG_BLOCKABLE);
	expect_all_overlap(&lb, "b", p + 2 * psz, 4 * psz);

	CHECK(mprotect(p, psz, PROT_READ) == 0, "mprotect: %s", strerror(errno));
	get_log(fd, a, true, &la);
	get_log(fd, b, true, &lb);
	get_log(fd, c, true, &lc);
	CHECK(lb.count == 0 && lc.count == 0,
	      "mprotect of page 0 called b (%llu) or c (%llu)",
	      (unsigned long long)lb.count, (unsigned long long)lc.count);
	expect_event(&la, "a after mprotect of page 0",
		     MNI_TEST_EV_PROTECTION_VMA, p, psz, MNI_TEST_LOG_BLOCKABLE);
	expect_all_overlap(&la, "a", p, 4 * psz);

	CHECK(madvise(p + 5 * psz, 2 * psz, MADV_DONTNEED) == 0,
	      "madvise: %s", strerror(errno));
	get_log(fd, a, true, &la);
	get_log(fd, b, true, &lb);
	get_log(fd, c, true, &lc);
	CHECK(la.count == 0, "DONTNEED of pages 5-6 called a (%llu)",
	      (unsigned long long)la.count);
	expect_event(&lb, "b after DONTNEED 5-6", MNI_TEST_EV_CLEAR,
		     p + 5 * psz, psz, MNI_TEST_LOG_BLOCKABLE);
	expect_event(&lc, "c after DONTNEED 5-6", MNI_TEST_EV_CLEAR,
		     p + 6 * psz, psz, MNI_TEST_LOG_BLOCKABLE);

	CHECK(madvise(p + 3 * psz, psz, MADV_DONTNEED) == 0,
	      "madvise: %s", strerror(errno));
	get_log(fd, a, true, &la);
	get_log(fd, b, true, &lb);
	get_log(fd, c, true, &lc);
	CHECK(lc.count == 0, "DONTNEED of page 3 called c (%llu)",
	      (unsigned long long)lc.count);
	expect_event(&la, "a after DONTNEED 3", MNI_TEST_EV_CLEAR,
		     p + 3 * psz, psz, MNI_TEST_LOG_BLOCKABLE);
	expect_event(&lb, "b after DONTNEED 3", MNI_TEST_EV_CLEAR,
		     p + 3 * psz, psz, MNI_TEST_LOG_BLOCKABLE);
	close(fd);
}

/*
 * NUMA balancing (on in the guest: numa=fake=2) changes the protection of
 * whole VMAs now and then, an invalidation no test asked for: drop those
 * entries (PROTECTION_VMA) from @log.
 */
static void drop_numa_hinting(struct mni_test_log *log)
{
	unsigned int i, n = 0;

	for (i = 0; i < log->count; i++)
		if (log->entry[i].event != MNI_TEST_EV_PROTECTION_VMA)
			log->entry[n++] = log->entry[i];
	log->count = n;
}

/*
 * Dispatch against a naive reference: random subscriptions, random
 * MADV_DONTNEED ranges; a subscription must see exactly one CLEAR of
 * exactly the range when it overlaps, and nothing otherwise.
 */
static void test_dispatch_matches_reference(void)
{
	enum { NPAGES = 256, NSUBS = 48, NOPS = 40 };
	int fd = open_dev();
	char *p = map_pages(NPAGES);
	struct sub_desc subs[NSUBS];
	struct mni_test_log log;
	unsigned int seed = 12345;
	int i, k;

	fill(p, NPAGES, 24);
	for (i = 0; i < NSUBS; i++) {
		size_t first = rand_r(&seed) % NPAGES;
		size_t len = 1 + rand_r(&seed) % 32;

		if (first + len > NPAGES)
			len = NPAGES - first;
		subs[i].start = (uintptr_t)(p + first * psz);
		subs[i].len = len * psz;
		subs[i].id = must_add(fd, p + first * psz, len * psz,
				      i % 3 == 0 ? MNI_TEST_ADD_NOMIRROR : 0);
	}
	for (k = 0; k < NOPS; k++) {
		size_t a = rand_r(&seed) % NPAGES;
		size_t b = a + 1 + rand_r(&seed) % 24;
		uint64_t s, e;

		if (b > NPAGES)
			b = NPAGES;
		s = (uintptr_t)(p + a * psz);
		e = (uintptr_t)(p + b * psz);
		CHECK(madvise(p + a * psz, (b - a) * psz, MADV_DONTNEED) == 0,
		      "madvise: %s", strerror(errno));
		for (i = 0; i < NSUBS; i++) {
			bool hit = subs[i].start < e &&
				   subs[i].start + subs[i].len > s;

			get_log(fd, subs[i].id, true, &log);
			drop_numa_hinting(&log);
			if (hit && log.count == 1 &&
			    log.entry[0].event == MNI_TEST_EV_CLEAR &&
			    log.entry[0].start == s && log.entry[0].end == e)
				continue;
			if (!hit && log.count == 0)
				continue;
			dump_log("subscription", &log);
			FAIL("op %d: DONTNEED [%#llx, %#llx), subscription %d [%#llx, +%#llx): expected %s",
			     k, (unsigned long long)s, (unsigned long long)e, i,
			     (unsigned long long)subs[i].start,
			     (unsigned long long)subs[i].len,
			     hit ? "one CLEAR of exactly that range" : "no call");
		}
	}
	close(fd);
}

/* Writing 4 to /proc/self/clear_refs is a SOFT_DIRTY over everything. */
static void test_soft_dirty_reaches_all(void)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(n), *q = map_pages(n);
	struct mni_test_log log;
	uint64_t a, b, c;
	struct snap s;
	int cfd;

	fill(p, n, 27);
	fill(q, n, 28);
	a = must_add(fd, p, n * psz, 0);
	b = must_add(fd, q + psz, psz, 0);
	c = must_add(fd, (void *)(uintptr_t)(1ULL << 44), 1ULL << 30,
		     MNI_TEST_ADD_NOMIRROR);
	must_fault(fd, a, p, n, 0);
	must_fault(fd, b, q + psz, 1, 0);

	cfd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	if (cfd < 0 && errno == ENOENT)
		tap_skip("no /proc/self/clear_refs");
	CHECK(cfd >= 0, "open clear_refs: %s", strerror(errno));
	CHECK(write(cfd, "4", 1) == 1, "write clear_refs: %s", strerror(errno));
	close(cfd);

	get_log(fd, a, true, &log);
	expect_event(&log, "a", MNI_TEST_EV_SOFT_DIRTY, p, n * psz,
		     MNI_TEST_LOG_BLOCKABLE);
	get_log(fd, b, true, &log);
	expect_event(&log, "b", MNI_TEST_EV_SOFT_DIRTY, q + psz, psz,
		     MNI_TEST_LOG_BLOCKABLE);
	get_log(fd, c, true, &log);
	expect_event(&log, "c (nothing mapped)", MNI_TEST_EV_SOFT_DIRTY,
		     (void *)(uintptr_t)(1ULL << 44), 1ULL << 30,
		     MNI_TEST_LOG_BLOCKABLE);
	s = must_read(fd, a, p, n);
	CHECK(s.mirrored == 0, "%llu pages mirrored after SOFT_DIRTY",
	      (unsigned long long)s.mirrored);
	snap_free(&s);
	close(fd);
}

static const struct tap_test tests[] = {
	TEST_PAGES(fault_mirrors_content, 40, 0),	/* several driver chunks */
	TEST_PAGES(mirror_shares_pages, 4, 0),
	TEST_PAGES(cow_of_zero_page_clears, 4, 0),
	TEST(munmap_then_refault_fresh, 0),
	TEST(munmap_partial_exact_range, 0),
	TEST(unrelated_munmap_silent, 0),
	TEST_PAGES(mprotect_protection_vma, 4, 0),
	TEST_PAGES(madvise_dontneed_clear, 6, 0),
	TEST(mremap_move_unmaps, 0),
	TEST(fork_protects_child_exit_silent, 0),
	TEST(overlapping_dispatch, 0),
	TEST(dispatch_matches_reference, 120),
	TEST(soft_dirty_reaches_all, 0),
};

const struct suite_list suite_invalidate = { tests, ARRAY_SIZE(tests) };
