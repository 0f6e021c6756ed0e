// SPDX-License-Identifier: GPL-2.0
/*
 * mni_triggers.c - every mm path that must invalidate a mirror, and a
 * stale-read torture test
 *
 * usage: mni_triggers DEVICE [TEST...]
 *        MNI_TORTURE_SECS=N   length of stale_read_torture (default 20;
 *                             stale_read_torture_storm runs half as long)
 *
 * DEVICE is /dev/mni_test_mni or /dev/mni_test_kern. Each test drives one
 * kernel path that changes CPU page tables (munmap, mremap, madvise, fork +
 * COW, truncate, THP split/collapse, KSM, migration, compaction,
 * userfaultfd, exec) and checks that every subscription overlapping it, and
 * no other, was called, and that afterwards the mirror holds no stale page:
 * a READ shows each page absent or equal to what the CPU sees, and a FAULT
 * then READ shows the CPU's current content. guest-check.sh runs this on
 * both flavours and compares them test by test: where the kernel gives no
 * guarantee (MADV_PAGEOUT without swap, compaction) the kernel flavour is
 * the oracle.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mirror.h"
#include "must.h"
#include "tap.h"
#include "util.h"

#ifndef MADV_COLD
#define MADV_COLD	20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT	21
#endif
#ifndef MPOL_MF_MOVE
#define MPOL_MF_MOVE	(1 << 1)
#endif

#define HPAGE		(2UL << 20)

static struct mni_test_info info;

/* ------------------------------------------------------------ helpers */

/* n pages at a 2 MiB aligned address (the rest of the reservation unmapped). */
static char *map_aligned(size_t len)
{
	char *r = mmap(NULL, len + HPAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p;

	CHECK(r != MAP_FAILED, "mmap: %s", strerror(errno));
	p = (char *)(((uintptr_t)r + HPAGE - 1) & ~(HPAGE - 1));
	if (p > r)
		munmap(r, p - r);
	munmap(p + len, r + len + HPAGE - (p + len));
	return p;
}

/* Clear a subscription's log (after its setup). */
static void clear_log(int fd, uint64_t id)
{
	struct mni_test_log log;

	get_log(fd, id, true, &log);
}

#define EVB(e)		(1u << (e))
#define EV_ANY		0xffu

/*
 * The log of a subscription: some entry with an event in evmask must cover
 * [start, start+len), and every entry must overlap the subscription
 * [sstart, sstart+slen).
 */
static void expect_called(int fd, uint64_t id, const char *who,
			  unsigned int evmask, const void *start, size_t len,
			  const void *sstart, size_t slen)
{
	uint64_t s = (uintptr_t)start, e = s + len;
	uint64_t ss = (uintptr_t)sstart, se = ss + slen;
	struct mni_test_log log;
	bool found = false;
	uint64_t i;

	get_log(fd, id, true, &log);
	for (i = 0; i < log.count; i++) {
		const struct mni_test_log_entry *x = &log.entry[i];

		if (!(x->start < se && x->end > ss)) {
			dump_log(who, &log);
			FAIL("%s: entry %llu does not overlap the subscription",
			     who, (unsigned long long)i);
		}
		if ((EVB(x->event) & evmask) && x->start <= s && x->end >= e)
			found = true;
	}
	if (!found) {
		dump_log(who, &log);
		FAIL("%s: no entry (event mask %#x) covering [%p, +%#zx)", who,
		     evmask, start, len);
	}
}

static void expect_silent(int fd, uint64_t id, const char *who)
{
	struct mni_test_log log;

	get_log(fd, id, true, &log);
	if (log.count == 0 && log.overflow == 0)
		return;
	dump_log(who, &log);
	FAIL("%s: a subscription that does not overlap was called", who);
}

static bool page_eq(const uint8_t *a, const char *b)
{
	return !memcmp(a, b, psz);
}

/*
 * READ [addr, +n pages) without faulting: each page must be absent or show
 * exactly what the CPU sees there now (unmapped[i] true: must be absent).
 * Returns how many pages were still mirrored.
 */
static size_t check_no_stale_mask(int fd, uint64_t id, char *addr, size_t n,
				  const bool *unmapped)
{
	uint8_t *buf = malloc(n * psz), *state = malloc(n);
	uint64_t mirrored;
	size_t i;
	int ret;

	CHECK(buf && state, "out of memory");
	ret = mirror_read(fd, id, addr, n, buf, state, &mirrored);
	CHECK(!ret, "READ: %s", strerror(-ret));
	for (i = 0; i < n; i++) {
		if (state[i] == MNI_TEST_PAGE_ABSENT)
			continue;
		CHECK(!(unmapped && unmapped[i]),
		      "page %zu of %p is unmapped but still mirrored", i, addr);
		CHECK(page_eq(buf + i * psz, addr + i * psz),
		      "page %zu of %p: stale mirror shows %#x, the CPU %#x", i,
		      addr, buf[i * psz], (uint8_t)addr[i * psz]);
	}
	free(buf);
	free(state);
	return mirrored;
}

static size_t check_no_stale(int fd, uint64_t id, char *addr, size_t n)
{
	return check_no_stale_mask(fd, id, addr, n, NULL);
}

/* FAULT then READ: the mirror must show the CPU's current content. */
static void check_fresh(int fd, uint64_t id, char *addr, size_t n)
{
	uint8_t *buf = malloc(n * psz), *state = malloc(n);
	uint64_t mirrored;
	size_t i;
	int ret;

	CHECK(buf && state, "out of memory");
	must_fault(fd, id, addr, n, 0);
	ret = mirror_read(fd, id, addr, n, buf, state, &mirrored);
	CHECK(!ret, "READ: %s", strerror(-ret));
	for (i = 0; i < n; i++) {
		CHECK(state[i] != MNI_TEST_PAGE_ABSENT,
		      "page %zu of %p not mirrored right after FAULT", i, addr);
		CHECK(page_eq(buf + i * psz, addr + i * psz),
		      "page %zu of %p: refaulted mirror shows %#x, the CPU %#x",
		      i, addr, buf[i * psz], (uint8_t)addr[i * psz]);
	}
	free(buf);
	free(state);
}

/* CPU writes new content, then no stale page, then refault shows it. */
static void rewrite_and_check(int fd, uint64_t id, char *addr, size_t n,
			      unsigned int salt)
{
	fill(addr, n, salt);
	check_no_stale(fd, id, addr, n);
	check_fresh(fd, id, addr, n);
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

static long read_long(const char *path)
{
	char b[64] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	return n > 0 ? strtol(b, NULL, 10) : -1;
}

/* kB of AnonHugePages in the smaps entry of the VMA holding addr. */
static long anon_huge_kb(const void *addr)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[512];
	bool in = false;
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx ", &s, &e) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = (uintptr_t)addr >= s && (uintptr_t)addr < e;
			continue;
		}
		if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

static void pipe_put(int fd)
{
	char c = 'x';

	CHECK(write(fd, &c, 1) == 1, "pipe write: %s", strerror(errno));
}

static void pipe_get(int fd)
{
	char c;

	CHECK(read(fd, &c, 1) == 1, "pipe read: %s", strerror(errno));
}

/* ------------------------------------------------------------- tests */

/* munmap of a hole in the middle splits the subscription's VMA. */
static void test_munmap_middle_hole(void)
{
	const size_t n = 16;
	int fd = open_dev();
	char *p = map_pages(n), *o = map_pages(4);
	uint64_t a, b, c, d;
	bool hole[16] = { 0 };
	size_t i;

	fill(p, n, 1);
	fill(o, 4, 2);
	a = must_add(fd, p, n * psz, 0);		/* all of it */
	b = must_add(fd, p + 6 * psz, 4 * psz, 0);	/* the hole */
	c = must_add(fd, p + 4 * psz, 4 * psz, 0);	/* straddles */
	d = must_add(fd, p, 4 * psz, 0);		/* beside it */
	must_fault(fd, a, p, n, 0);
	must_fault(fd, b, p + 6 * psz, 4, 0);
	must_fault(fd, c, p + 4 * psz, 4, 0);
	must_fault(fd, d, p, 4, 0);

	CHECK(munmap(p + 6 * psz, 4 * psz) == 0, "munmap: %s", strerror(errno));
	expect_called(fd, a, "whole", EVB(MNI_TEST_EV_UNMAP), p + 6 * psz,
		      4 * psz, p, n * psz);
	expect_called(fd, b, "hole", EVB(MNI_TEST_EV_UNMAP), p + 6 * psz,
		      4 * psz, p + 6 * psz, 4 * psz);
	expect_called(fd, c, "straddling", EVB(MNI_TEST_EV_UNMAP), p + 6 * psz,
		      2 * psz, p + 4 * psz, 4 * psz);
	expect_silent(fd, d, "beside");

	for (i = 6; i < 10; i++)
		hole[i] = true;
	check_no_stale_mask(fd, a, p, n, hole);
	CHECK(check_no_stale_mask(fd, b, p + 6 * psz, 4, hole + 6) == 0,
	      "the hole is still mirrored");
	check_no_stale_mask(fd, c, p + 4 * psz, 4, hole + 4);
	fill(p, 6, 3);
	fill(p + 10 * psz, 6, 4);
	check_no_stale_mask(fd, a, p, n, hole);
	check_fresh(fd, a, p, 6);
	check_fresh(fd, a, p + 10 * psz, 6);
	check_fresh(fd, d, p, 4);
	close(fd);
}

static void test_mremap_shrink(void)
{
	const size_t n = 8;
	int fd = open_dev();
	char *p = map_pages(n), *q;
	uint64_t a, t, o;
	bool gone[8] = { 0, 0, 0, 0, 1, 1, 1, 1 };

	fill(p, n, 5);
	a = must_add(fd, p, n * psz, 0);
	t = must_add(fd, p + 6 * psz, 2 * psz, 0);
	o = must_add(fd, p, 4 * psz, 0);
	must_fault(fd, a, p, n, 0);
	must_fault(fd, t, p + 6 * psz, 2, 0);
	must_fault(fd, o, p, 4, 0);

	q = mremap(p, n * psz, 4 * psz, 0);
	CHECK(q == p, "mremap shrink: %s", strerror(errno));
	expect_called(fd, a, "whole", EVB(MNI_TEST_EV_UNMAP), p + 4 * psz,
		      4 * psz, p, n * psz);
	expect_called(fd, t, "tail", EVB(MNI_TEST_EV_UNMAP), p + 6 * psz,
		      2 * psz, p + 6 * psz, 2 * psz);
	expect_silent(fd, o, "kept part");
	check_no_stale_mask(fd, a, p, n, gone);
	rewrite_and_check(fd, a, p, 4, 6);
	close(fd);
}

/* Growing in place moves no page: nothing to invalidate, nothing stale. */
static void test_mremap_grow_in_place(void)
{
	int fd = open_dev();
	char *p = map_pages(16), *q;
	uint64_t a, t;

	CHECK(munmap(p + 8 * psz, 8 * psz) == 0, "munmap: %s", strerror(errno));
	fill(p, 8, 7);
	a = must_add(fd, p, 8 * psz, 0);
	t = must_add(fd, p + 8 * psz, 8 * psz, 0);
	must_fault(fd, a, p, 8, 0);

	q = mremap(p, 8 * psz, 16 * psz, 0);
	if (q == MAP_FAILED)
		tap_skip("the hole above was taken, cannot grow in place: %s",
			 strerror(errno));
	CHECK(q == p, "mremap moved without MAYMOVE");
	expect_silent(fd, a, "grown mapping");
	expect_silent(fd, t, "new tail");
	CHECK(check_no_stale(fd, a, p, 8) == 8, "grow in place dropped pages");
	fill(p + 8 * psz, 8, 8);
	rewrite_and_check(fd, a, p, 8, 9);
	check_fresh(fd, t, p + 8 * psz, 8);
	close(fd);
}

/* Growing where there is no room moves the mapping: UNMAP of the old one. */
static void test_mremap_grow_move(void)
{
	int fd = open_dev();
	char *p = map_pages(9), *q;
	bool all[8] = { 1, 1, 1, 1, 1, 1, 1, 1 };
	uint64_t a, g, b;

	/* page 8 stays mapped with other protections: a wall to grow into */
	CHECK(mprotect(p + 8 * psz, psz, PROT_READ) == 0, "mprotect: %s",
	      strerror(errno));
	fill(p, 8, 10);
	a = must_add(fd, p, 8 * psz, 0);
	g = must_add(fd, p + 8 * psz, psz, 0);
	b = must_add(fd, p + 2 * psz, 2 * psz, 0);
	must_fault(fd, a, p, 8, 0);
	must_fault(fd, b, p + 2 * psz, 2, 0);

	q = mremap(p, 8 * psz, 32 * psz, MREMAP_MAYMOVE);
	CHECK(q != MAP_FAILED, "mremap grow: %s", strerror(errno));
	CHECK(q != p, "mremap grew through the wall");
	expect_called(fd, a, "old place", EVB(MNI_TEST_EV_UNMAP), p, 8 * psz,
		      p, 8 * psz);
	expect_called(fd, b, "part of old place", EVB(MNI_TEST_EV_UNMAP),
		      p + 2 * psz, 2 * psz, p + 2 * psz, 2 * psz);
	expect_silent(fd, g, "wall");
	CHECK(check_no_stale_mask(fd, a, p, 8, all) == 0,
	      "old place still mirrored");
	{
		uint64_t n = must_add(fd, q, 32 * psz, 0);

		fill(q + 8 * psz, 24, 11);
		check_fresh(fd, n, q, 32);
		rewrite_and_check(fd, n, q, 32, 12);
	}
	close(fd);
}

static void test_madvise_free(void)
{
	const size_t n = 8;
	int fd = open_dev();
	char *p = map_pages(n), *o = map_pages(2);
	uint64_t a, h, x;

	fill(p, n, 13);
	fill(o, 2, 1);
	a = must_add(fd, p, n * psz, 0);
	h = must_add(fd, p + 2 * psz, 2 * psz, 0);
	x = must_add(fd, o, 2 * psz, 0);
	must_fault(fd, a, p, n, MNI_TEST_FAULT_WRITE);
	must_fault(fd, x, o, 2, 0);

	CHECK(madvise(p + 2 * psz, 4 * psz, MADV_FREE) == 0,
	      "MADV_FREE: %s", strerror(errno));
	expect_called(fd, a, "whole", EVB(MNI_TEST_EV_CLEAR), p + 2 * psz,
		      4 * psz, p, n * psz);
	expect_called(fd, h, "inside", EVB(MNI_TEST_EV_CLEAR), p + 2 * psz,
		      2 * psz, p + 2 * psz, 2 * psz);
	expect_silent(fd, x, "elsewhere");
	/* The pages may be gone (zero) or kept: either way no stale view. */
	check_no_stale(fd, a, p, n);
	check_fresh(fd, a, p, n);
	rewrite_and_check(fd, a, p, n, 14);
	close(fd);
}

static char *map_memfd(int *mfd, size_t n)
{
	char *p;

	*mfd = memfd_create("mni_triggers", MFD_CLOEXEC);
	CHECK(*mfd >= 0, "memfd_create: %s", strerror(errno));
	CHECK(ftruncate(*mfd, n * psz) == 0, "ftruncate: %s", strerror(errno));
	p = mmap(NULL, n * psz, PROT_READ | PROT_WRITE, MAP_SHARED, *mfd, 0);
	CHECK(p != MAP_FAILED, "mmap memfd: %s", strerror(errno));
	madvise(p, n * psz, MADV_NOHUGEPAGE);
	return p;
}

static void test_madvise_remove(void)
{
	const size_t n = 8;
	int fd = open_dev(), mfd;
	char *p = map_memfd(&mfd, n), *o = map_pages(2);
	uint64_t a, h, x;
	size_t i;

	fill(p, n, 15);
	a = must_add(fd, p, n * psz, 0);
	h = must_add(fd, p + 3 * psz, psz, 0);
	x = must_add(fd, o, 2 * psz, 0);
	must_fault(fd, a, p, n, MNI_TEST_FAULT_WRITE);
	must_fault(fd, h, p + 3 * psz, 1, 0);
	fill(o, 2, 1);
	must_fault(fd, x, o, 2, 0);

	CHECK(madvise(p + 2 * psz, 3 * psz, MADV_REMOVE) == 0,
	      "MADV_REMOVE: %s", strerror(errno));
	expect_called(fd, a, "whole", EVB(MNI_TEST_EV_CLEAR), p + 2 * psz, 3 * psz, p,
		      n * psz);
	expect_called(fd, h, "inside", EVB(MNI_TEST_EV_CLEAR), p + 3 * psz, psz, p + 3 * psz,
		      psz);
	expect_silent(fd, x, "elsewhere");
	/* The hole must not be mirrored with its old data. */
	{
		uint8_t *buf = malloc(n * psz), *state = malloc(n);
		uint64_t m;

		CHECK(!mirror_read(fd, a, p, n, buf, state, &m), "READ");
		for (i = 2; i < 5; i++)
			CHECK(state[i] == MNI_TEST_PAGE_ABSENT,
			      "punched page %zu still mirrored (%#x)", i,
			      buf[i * psz]);
		free(buf);
		free(state);
	}
	check_no_stale(fd, a, p, n);
	for (i = 2; i < 5; i++)
		CHECK(p[i * psz] == 0, "MADV_REMOVE left data in page %zu", i);
	check_fresh(fd, a, p, n);
	rewrite_and_check(fd, a, p, n, 16);
	close(mfd);
	close(fd);
}

/* Without swap this is usually a no-op: the kernel flavour is the oracle. */
static void test_madvise_pageout(void)
{
	const size_t n = 16;
	int fd = open_dev(), mfd;
	char *p = map_pages(n), *s = map_memfd(&mfd, n), *o = map_pages(2);
	struct mni_test_log log;
	uint64_t a, b, x;

	fill(p, n, 17);
	fill(s, n, 18);
	fill(o, 2, 1);
	a = must_add(fd, p, n * psz, 0);
	b = must_add(fd, s, n * psz, 0);
	x = must_add(fd, o, 2 * psz, 0);
	must_fault(fd, a, p, n, 0);
	must_fault(fd, b, s, n, 0);
	must_fault(fd, x, o, 2, 0);

	if (madvise(p, n * psz, MADV_PAGEOUT) && errno == EINVAL)
		tap_skip("MADV_PAGEOUT not supported");
	madvise(s, n * psz, MADV_PAGEOUT);
	get_log(fd, a, false, &log);
	tap_diag("anon: %llu invalidations, %zu pages still mirrored",
		 (unsigned long long)log.count, check_no_stale(fd, a, p, n));
	get_log(fd, b, false, &log);
	tap_diag("shmem: %llu invalidations, %zu pages still mirrored",
		 (unsigned long long)log.count, check_no_stale(fd, b, s, n));
	expect_silent(fd, x, "elsewhere");
	/* Whatever was paged out comes back with the same data. */
	check_fresh(fd, a, p, n);
	check_fresh(fd, b, s, n);
	rewrite_and_check(fd, a, p, n, 19);
	rewrite_and_check(fd, b, s, n, 20);
	close(mfd);
	close(fd);
}

/*
 * fork write-protects both sides; then the parent writes page 0 and the
 * child page 1: each side's mirror must be invalidated for exactly its own
 * write and refault its new private page.
 */
static void test_fork_cow_both_sides(void)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(n);
	int c2p[2], p2c[2];
	uint64_t a;
	pid_t pid;

	fill(p, n, 21);
	a = must_add(fd, p, n * psz, 0);
	must_fault(fd, a, p, n, MNI_TEST_FAULT_WRITE);
	CHECK(pipe(c2p) == 0 && pipe(p2c) == 0, "pipe");

	pid = fork_child();
	if (pid == 0) {
		uint64_t c = must_add(fd, p, n * psz, 0);

		must_fault(fd, c, p, n, 0);
		clear_log(fd, c);
		pipe_put(c2p[1]);
		pipe_get(p2c[0]);	/* the parent wrote page 0 */
		/* the child still sees the original page 0 */
		CHECK((uint8_t)p[0] == pat(21, 0), "parent's write leaked");
		expect_silent(fd, c, "child, after the parent's write");
		memset(p + psz, 0x5a, psz);
		expect_called(fd, c, "child write", EVB(MNI_TEST_EV_CLEAR), p + psz, psz, p + psz,
			      psz);
		check_no_stale(fd, c, p, n);
		check_fresh(fd, c, p, n);
		must_del(fd, c);
		_exit(0);
	}
	expect_called(fd, a, "parent at fork", EVB(MNI_TEST_EV_PROTECTION_PAGE), p, n * psz, p, n * psz);
	/* the fork's write protection must have dropped write access */
	pipe_get(c2p[0]);
	clear_log(fd, a);
	memset(p, 0xa5, psz);
	{
		struct mni_test_log log;
		uint64_t i;

		get_log(fd, a, false, &log);
		for (i = 0; i < log.count; i++)
			CHECK(log.entry[i].start < (uintptr_t)p + psz,
			      "parent's write of page 0 invalidated beyond it");
	}
	expect_called(fd, a, "parent write", EVB(MNI_TEST_EV_CLEAR), p, psz, p, n * psz);
	check_no_stale(fd, a, p, n);
	check_fresh(fd, a, p, n);
	pipe_put(p2c[1]);
	wait_child_ok(pid);
	/* the child's write is not the parent's business */
	expect_silent(fd, a, "parent, after the child's write");
	CHECK((uint8_t)p[psz] == pat(21, 1), "child's write leaked");
	check_no_stale(fd, a, p, n);
	check_fresh(fd, a, p, n);
	close(fd);
}

/*
 * A shared memfd mirrored in a child; the parent truncates or punches it:
 * the child's mirror must lose the pages.
 */
static void shmem_other_process(bool punch)
{
	const size_t n = 8;
	int fd = open_dev(), mfd, c2p[2], p2c[2];
	char *p = map_memfd(&mfd, n);
	pid_t pid;

	fill(p, n, 22);
	CHECK(pipe(c2p) == 0 && pipe(p2c) == 0, "pipe");
	pid = fork_child();
	if (pid == 0) {
		char *q = mmap(NULL, n * psz, PROT_READ | PROT_WRITE,
			       MAP_SHARED, mfd, 0);
		bool gone[8] = { 0, 0, 0, 0, 0, 1, 1, 1 };
		uint64_t c, t, h;

		CHECK(q != MAP_FAILED, "mmap: %s", strerror(errno));
		c = must_add(fd, q, n * psz, 0);
		t = must_add(fd, q + 5 * psz, 3 * psz, 0);
		h = must_add(fd, q, 2 * psz, 0);
		must_fault(fd, c, q, n, MNI_TEST_FAULT_WRITE);
		must_fault(fd, t, q + 5 * psz, 3, 0);
		must_fault(fd, h, q, 2, 0);
		pipe_put(c2p[1]);
		pipe_get(p2c[0]);
		expect_called(fd, c, "whole", EVB(MNI_TEST_EV_CLEAR), q + 5 * psz, 3 * psz, q,
			      n * psz);
		expect_called(fd, t, "cut part", EVB(MNI_TEST_EV_CLEAR), q + 5 * psz, 3 * psz,
			      q + 5 * psz, 3 * psz);
		expect_silent(fd, h, "head");
		if (!punch) {
			struct mni_test_fault f = { 0 };

			CHECK(check_no_stale_mask(fd, c, q, n, gone) == 5,
			      "truncate dropped more than the cut");
			CHECK(mirror_fault(fd, t, q + 5 * psz, 3, 0, &f) ==
			      -EFAULT, "FAULT beyond EOF did not fail");
			check_fresh(fd, c, q, 5);
		} else {
			CHECK(check_no_stale_mask(fd, t, q + 5 * psz, 3,
						  gone + 5) == 0,
			      "punched pages still mirrored");
			/* the parent filled the hole with new data */
			CHECK((uint8_t)q[5 * psz] == 0x77, "no new data");
			check_no_stale(fd, c, q, n);
			check_fresh(fd, c, q, n);
		}
		_exit(0);
	}
	pipe_get(c2p[0]);
	if (punch) {
		CHECK(fallocate(mfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				5 * psz, 3 * psz) == 0,
		      "fallocate: %s", strerror(errno));
		memset(p + 5 * psz, 0x77, 3 * psz);
	} else {
		CHECK(ftruncate(mfd, 5 * psz) == 0, "ftruncate: %s",
		      strerror(errno));
	}
	pipe_put(p2c[1]);
	wait_child_ok(pid);
	close(mfd);
	close(fd);
}

static void test_truncate_other_process(void)
{
	shmem_other_process(false);
}

static void test_punch_hole_other_process(void)
{
	shmem_other_process(true);
}

/* Punch the whole of a memfd, over and over, until told to stop. */
struct puncher {
	pthread_t tid;
	int mfd;
	size_t len;
	atomic_bool *stop;
	unsigned long punches;
};

static void *puncher_main(void *arg)
{
	struct puncher *pu = arg;

	while (!atomic_load(pu->stop)) {
		if (fallocate(pu->mfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      0, pu->len))
			break;
		pu->punches++;
	}
	return NULL;
}

#define RELEASE_WINDOW_PARAM \
	"/sys/module/mmu_interval_notifier/parameters/debug_release_window_ms"

/* Set the debug-build release window; false when the module has none. */
static bool set_release_window(unsigned int ms)
{
	FILE *f = fopen(RELEASE_WINDOW_PARAM, "w");

	if (!f)
		return false;
	fprintf(f, "%u\n", ms);
	CHECK(fclose(f) == 0, "%s: %s", RELEASE_WINDOW_PARAM, strerror(errno));
	return true;
}

/* When the first callback of @event on @id began, in ms; polls for 10 s. */
static double wait_for_event(int fd, uint64_t id, uint64_t event)
{
	struct mni_test_log log;
	double t0 = now_ms();
	uint64_t i;

	for (;;) {
		get_log(fd, id, false, &log);
		for (i = 0; i < log.count; i++)
			if (log.entry[i].event == event)
				return log.entry[i].time_ns / 1e6;
		CHECK(now_ms() - t0 < 10000, "no %s callback in 10 s",
		      mirror_event_name(event));
		usleep(1000);
	}
}

/*
 * Teardown at exit against reverse-map invalidations. A child mirrors two
 * shared memfds, with a subscription S whose callback sleeps over the
 * first, and exits while two threads of this process punch holes in both
 * files: invalidations of the child's mm run beside its release, one of
 * them asleep in S's callback while others start and end. This process
 * then removes S, which the driver frees at once, while such a callback
 * may still run. MNI_DEBUG_HOOKS builds (the debug lane) pause release
 * between unhooking its start and its end notifier for 400 ms, where an
 * end whose start was missed used to drop another invalidation's count:
 * remove() returned, and KASAN caught the sleeping callback touching the
 * freed subscription. remove() must instead wait for that callback.
 */
static void test_exit_vs_punch_hole(void)
{
	const size_t n = 4;
	const unsigned int slow = 300, window = 400;
	int fd = open_dev(), ma, mb, c2p[2], p2c[2];
	char *pa = map_memfd(&ma, n), *pb = map_memfd(&mb, n);
	atomic_bool stop = false;
	struct puncher pu[2] = {
		{ .mfd = ma, .len = n * psz, .stop = &stop },
		{ .mfd = mb, .len = n * psz, .stop = &stop },
	};
	double released, t0, t1;
	bool hooked;
	uint64_t s;
	pid_t pid;
	int i;

	fill(pa, n, 40);
	fill(pb, n, 41);
	CHECK(pipe(c2p) == 0 && pipe(p2c) == 0, "pipe");
	pid = fork_child();
	if (pid == 0) {
		char *qa = mmap(NULL, n * psz, PROT_READ | PROT_WRITE,
				MAP_SHARED, ma, 0);
		char *qb = mmap(NULL, n * psz, PROT_READ | PROT_WRITE,
				MAP_SHARED, mb, 0);

		CHECK(qa != MAP_FAILED && qb != MAP_FAILED, "mmap: %s",
		      strerror(errno));
		s = must_add(fd, qa, n * psz, 0);
		must_fault(fd, s, qa, n, 0);
		for (i = 0; i < (int)n; i++)
			qb[i * psz] = 1;
		CHECK(mirror_slow(fd, s, slow) == 0, "SLOW");
		CHECK(write(c2p[1], &s, sizeof(s)) == sizeof(s), "write");
		pipe_get(p2c[0]);
		_exit(0);
	}
	CHECK(read(c2p[0], &s, sizeof(s)) == sizeof(s),
	      "child did not report its subscription");
	hooked = set_release_window(window);
	for (i = 0; i < 2; i++)
		CHECK(!pthread_create(&pu[i].tid, NULL, puncher_main, &pu[i]),
		      "pthread_create");
	usleep(50 * 1000);
	pipe_put(p2c[1]);

	/* Release's own callback sleeps too; then comes the window. */
	released = wait_for_event(fd, s, MNI_TEST_EV_RELEASE);
	while (now_ms() < released + slow + window / 2)
		usleep(5000);
	t0 = now_ms();
	must_del(fd, s);
	t1 = now_ms();

	atomic_store(&stop, true);
	for (i = 0; i < 2; i++)
		pthread_join(pu[i].tid, NULL);
	wait_child_ok(pid);
	if (hooked)
		set_release_window(0);
	tap_diag("%s: remove took %.0f ms, %.0f ms after RELEASE began; %lu and %lu punches",
		 hooked ? "release window 400 ms" : "no debug hook",
		 t1 - t0, t0 - released, pu[0].punches, pu[1].punches);
	CHECK(pu[0].punches && pu[1].punches, "a puncher never punched");
	close(ma);
	close(mb);
	close(fd);
}

static bool thp_enabled(void)
{
	char b[128] = "";
	int f = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY);

	if (f < 0)
		return false;
	if (read(f, b, sizeof(b) - 1) < 0)
		b[0] = 0;
	close(f);
	return !strstr(b, "[never]");
}

/* One THP (mapped by a PMD), split by an mprotect and an munmap inside. */
static void test_thp_split(void)
{
	const size_t n = HPAGE / 4096;
	int fd, k = 100;
	char *p, *o;
	uint64_t a, b, c, x;
	bool gone[512] = { 0 };

	if (!thp_enabled())
		tap_skip("THP disabled");
	CHECK(psz == 4096, "page size");
	fd = open_dev();
	p = map_aligned(HPAGE);
	o = map_pages(2);
	CHECK(madvise(p, HPAGE, MADV_HUGEPAGE) == 0, "MADV_HUGEPAGE: %s",
	      strerror(errno));
	fill(p, n, 23);
	if (anon_huge_kb(p) < 2048)
		tap_skip("no THP allocated (AnonHugePages %ld kB)",
			 anon_huge_kb(p));
	a = must_add(fd, p, HPAGE, 0);
	b = must_add(fd, p + k * psz, psz, 0);
	c = must_add(fd, p + 300 * psz, psz, 0);
	x = must_add(fd, o, 2 * psz, 0);
	fill(o, 2, 1);
	must_fault(fd, a, p, n, MNI_TEST_FAULT_WRITE);
	must_fault(fd, b, p + k * psz, 1, MNI_TEST_FAULT_WRITE);
	must_fault(fd, c, p + 300 * psz, 1, 0);
	must_fault(fd, x, o, 2, 0);

	CHECK(mprotect(p + k * psz, psz, PROT_READ) == 0, "mprotect: %s",
	      strerror(errno));
	expect_called(fd, a, "huge", EVB(MNI_TEST_EV_PROTECTION_VMA), p + k * psz, psz, p, HPAGE);
	expect_called(fd, b, "mprotected page", EVB(MNI_TEST_EV_PROTECTION_VMA), p + k * psz, psz,
		      p + k * psz, psz);
	expect_silent(fd, x, "elsewhere");
	{
		uint8_t buf[4096], st;
		uint64_t m;

		CHECK(!mirror_read(fd, b, p + k * psz, 1, buf, &st, &m), "READ");
		CHECK(st != MNI_TEST_PAGE_WRITE,
		      "read-only page still mirrored writable");
	}
	tap_diag("after split: AnonHugePages %ld kB, %zu pages mirrored",
		 anon_huge_kb(p), check_no_stale(fd, a, p, n));
	check_fresh(fd, a, p, n);

	/* munmap of one 4K page in the (split) former THP */
	CHECK(munmap(p + 300 * psz, psz) == 0, "munmap: %s", strerror(errno));
	gone[300] = true;
	expect_called(fd, a, "huge, munmap", EVB(MNI_TEST_EV_UNMAP),
		      p + 300 * psz, psz, p, HPAGE);
	expect_called(fd, c, "unmapped page", EVB(MNI_TEST_EV_UNMAP),
		      p + 300 * psz, psz, p + 300 * psz, psz);
	check_no_stale_mask(fd, a, p, n, gone);
	fill(p, k, 24);
	fill(p + (k + 1) * psz, 300 - k - 1, 25);
	fill(p + 301 * psz, n - 301, 26);
	check_no_stale_mask(fd, a, p, n, gone);
	check_fresh(fd, a, p, 300);
	check_fresh(fd, a, p + 301 * psz, n - 301);
	close(fd);
}

/* Same, with the PMD split by munmap first (no mprotect). */
static void test_thp_split_munmap(void)
{
	const size_t n = HPAGE / 4096;
	bool gone[512] = { 0 };
	uint64_t a, b;
	char *p;
	int fd;

	if (!thp_enabled())
		tap_skip("THP disabled");
	fd = open_dev();
	p = map_aligned(HPAGE);
	CHECK(madvise(p, HPAGE, MADV_HUGEPAGE) == 0, "MADV_HUGEPAGE: %s",
	      strerror(errno));
	fill(p, n, 27);
	if (anon_huge_kb(p) < 2048)
		tap_skip("no THP allocated");
	a = must_add(fd, p, HPAGE, 0);
	b = must_add(fd, p + 256 * psz, 256 * psz, 0);
	must_fault(fd, a, p, n, MNI_TEST_FAULT_WRITE);
	must_fault(fd, b, p + 256 * psz, 256, 0);
	CHECK(munmap(p + 17 * psz, psz) == 0, "munmap: %s", strerror(errno));
	gone[17] = true;
	expect_called(fd, a, "huge", EVB(MNI_TEST_EV_UNMAP), p + 17 * psz, psz,
		      p, HPAGE);
	/* b overlaps the split (whole PMD), not the unmapped page: kernel
	 * flavour decides whether it is called at all; it may only see
	 * ranges overlapping it. */
	{
		struct mni_test_log log;

		get_log(fd, b, true, &log);
		tap_diag("upper half: %llu calls from the split",
			 (unsigned long long)log.count);
		for (uint64_t i = 0; i < log.count; i++)
			CHECK(log.entry[i].end > (uintptr_t)p + 256 * psz,
			      "upper half called for a range below it");
	}
	check_no_stale_mask(fd, a, p, n, gone);
	fill(p, 17, 28);
	fill(p + 18 * psz, n - 18, 29);
	check_no_stale_mask(fd, a, p, n, gone);
	check_fresh(fd, a, p, 17);
	check_fresh(fd, a, p + 18 * psz, n - 18);
	close(fd);
}

#define KHP "/sys/kernel/mm/transparent_hugepage/khugepaged/"

static void test_khugepaged_collapse(void)
{
	const size_t n = HPAGE / 4096;
	struct mni_test_log log;
	uint64_t a;
	double t0;
	long kb;
	char *p;
	int fd;

	if (!thp_enabled() || access(KHP "pages_to_scan", W_OK))
		tap_skip("THP/khugepaged not available");
	fd = open_dev();
	p = map_aligned(HPAGE);
	madvise(p, HPAGE, MADV_NOHUGEPAGE);
	fill(p, n, 30);
	CHECK(anon_huge_kb(p) == 0, "THP despite MADV_NOHUGEPAGE");
	a = must_add(fd, p, HPAGE, 0);
	must_fault(fd, a, p, n, 0);
	write_file(KHP "scan_sleep_millisecs", "10");
	write_file(KHP "alloc_sleep_millisecs", "10");
	write_file(KHP "pages_to_scan", "65536");
	write_file(KHP "max_ptes_none", "511");
	CHECK(madvise(p, HPAGE, MADV_HUGEPAGE) == 0, "MADV_HUGEPAGE: %s",
	      strerror(errno));
	t0 = now_ms();
	while ((kb = anon_huge_kb(p)) < 2048 && now_ms() - t0 < 10000)
		usleep(20000);
	write_file(KHP "scan_sleep_millisecs", "10000");
	write_file(KHP "alloc_sleep_millisecs", "60000");
	if (kb < 2048)
		tap_skip("khugepaged did not collapse within 10 s (%ld kB)", kb);
	tap_diag("collapsed after %.0f ms", now_ms() - t0);
	get_log(fd, a, false, &log);
	expect_called(fd, a, "collapse", EVB(MNI_TEST_EV_CLEAR), p, HPAGE, p, HPAGE);
	/* The 4K pages were freed: a stale mirror would show old data. */
	rewrite_and_check(fd, a, p, n, 31);
	close(fd);
}

#define KSM "/sys/kernel/mm/ksm/"

static void test_ksm_merge(void)
{
	const size_t n = 16;
	struct mni_test_log log;
	long sharing = 0;
	uint64_t a;
	double t0;
	char *p;
	int fd;

	if (access(KSM "run", W_OK))
		tap_skip("no KSM (%s)", strerror(errno));
	fd = open_dev();
	p = map_pages(n);
	memset(p, 0x3c, n * psz);	/* all alike: KSM merges them */
	if (madvise(p, n * psz, MADV_MERGEABLE))
		tap_skip("MADV_MERGEABLE: %s", strerror(errno));
	a = must_add(fd, p, n * psz, 0);
	must_fault(fd, a, p, n, MNI_TEST_FAULT_WRITE);
	write_file(KSM "pages_to_scan", "10000");
	write_file(KSM "sleep_millisecs", "1");
	CHECK(write_file(KSM "run", "1") == 0, "ksm run");
	t0 = now_ms();
	while ((sharing = read_long(KSM "pages_sharing")) < (long)n - 1 &&
	       now_ms() - t0 < 15000)
		usleep(20000);
	write_file(KSM "run", "0");
	if (sharing <= 0)
		tap_skip("KSM merged nothing in 15 s");
	tap_diag("pages_sharing %ld after %.0f ms", sharing, now_ms() - t0);
	get_log(fd, a, false, &log);
	expect_called(fd, a, "ksm", EVB(MNI_TEST_EV_CLEAR), p, psz, p, n * psz);
	{
		uint8_t *buf = malloc(n * psz), *st = malloc(n);
		uint64_t m;
		size_t i;

		CHECK(!mirror_read(fd, a, p, n, buf, st, &m), "READ");
		for (i = 0; i < n; i++)
			CHECK(st[i] != MNI_TEST_PAGE_WRITE,
			      "merged page %zu still mirrored writable", i);
		free(buf);
		free(st);
	}
	/* writes break the merge into new private pages */
	rewrite_and_check(fd, a, p, n, 32);
	write_file(KSM "run", "2");
	close(fd);
}

static long sys_move_pages(unsigned long count, void **pages,
			   const int *nodes, int *status, int flags)
{
	return syscall(__NR_move_pages, 0, count, pages, nodes, status, flags);
}

static void test_numa_migrate(void)
{
	const size_t n = 8;
	void *pages[8];
	int nodes[8], status[8];
	struct mni_test_log log;
	uint64_t a, x;
	char *p, *o;
	size_t i;
	int fd;

	if (access("/sys/devices/system/node/node1", F_OK))
		tap_skip("one NUMA node (boot with numa=fake=2)");
	fd = open_dev();
	p = map_pages(n);
	o = map_pages(2);
	fill(p, n, 33);
	fill(o, 2, 1);
	a = must_add(fd, p, n * psz, 0);
	x = must_add(fd, o, 2 * psz, 0);
	must_fault(fd, a, p, n, MNI_TEST_FAULT_WRITE);
	must_fault(fd, x, o, 2, 0);
	for (i = 0; i < n; i++)
		pages[i] = p + i * psz;
	CHECK(sys_move_pages(n, pages, NULL, status, 0) == 0,
	      "move_pages query: %s", strerror(errno));
	for (i = 0; i < n; i++)
		nodes[i] = status[i] == 0 ? 1 : 0;
	CHECK(sys_move_pages(n, pages, nodes, status, MPOL_MF_MOVE) >= 0,
	      "move_pages: %s", strerror(errno));
	for (i = 0; i < n; i++)
		CHECK(status[i] == nodes[i], "page %zu: status %d, wanted %d",
		      i, status[i], nodes[i]);
	get_log(fd, a, false, &log);
	tap_diag("%llu invalidations, first %s",
		 (unsigned long long)log.count,
		 log.count ? mirror_event_name(log.entry[0].event) : "-");
	expect_called(fd, a, "migrated", EVB(MNI_TEST_EV_CLEAR)|EVB(MNI_TEST_EV_MIGRATE), p, psz, p, n * psz);
	expect_silent(fd, x, "elsewhere");
	CHECK(check_no_stale(fd, a, p, n) == 0,
	      "migrated pages still mirrored");
	check_fresh(fd, a, p, n);
	rewrite_and_check(fd, a, p, n, 34);
	close(fd);
}

/*
 * Compaction migrates movable pages out of partly used pageblocks. Our
 * mirrored pages are allocated interleaved with filler pages that are
 * then freed, so their pageblocks are half empty: good candidates. Any
 * page it moved must have been invalidated (no stale mirror); whether it
 * moves any is up to the kernel (reported, and compared between flavours
 * only through pass/fail).
 */
static void test_compaction(void)
{
	const size_t n = 4096;
	struct mni_test_log log;
	size_t i, still;
	char *p, *f;
	uint64_t a;
	int fd;

	if (access("/proc/sys/vm/compact_memory", W_OK))
		tap_skip("no /proc/sys/vm/compact_memory");
	fd = open_dev();
	f = map_pages(n);
	p = map_pages(n);
	for (i = 0; i < n; i++) {
		memset(p + i * psz, pat(35, i), psz);
		f[i * psz] = 1;
	}
	CHECK(madvise(f, n * psz, MADV_DONTNEED) == 0, "DONTNEED");
	a = must_add(fd, p, n * psz, 0);
	must_fault(fd, a, p, n, MNI_TEST_FAULT_WRITE);
	CHECK(write_file("/proc/sys/vm/compact_memory", "1") == 0,
	      "compact_memory");
	get_log(fd, a, false, &log);
	still = check_no_stale(fd, a, p, n);
	tap_diag("%llu invalidations (%llu calls), %zu of %zu pages still mirrored",
		 (unsigned long long)log.count, (unsigned long long)log.calls,
		 still, n);
	check_fresh(fd, a, p, n);
	rewrite_and_check(fd, a, p, n, 36);
	close(fd);
}

/* ------------------------------------------------------ userfaultfd */

struct uffd_srv {
	int uffd;
	char *src;		/* a page of content for UFFDIO_COPY */
	int zero_first;		/* first missing fault: ZEROPAGE */
	int served;
	volatile int stop;
};

static void *uffd_main(void *arg)
{
	struct uffd_srv *s = arg;

	while (!s->stop) {
		struct pollfd pfd = { .fd = s->uffd, .events = POLLIN };
		struct uffd_msg msg;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		if (read(s->uffd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		if (msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP) {
			struct uffdio_writeprotect wp = {
				.range.start = msg.arg.pagefault.address &
					       ~(psz - 1),
				.range.len = psz,
				.mode = 0,
			};

			ioctl(s->uffd, UFFDIO_WRITEPROTECT, &wp);
		} else if (s->zero_first) {
			struct uffdio_zeropage z = {
				.range.start = msg.arg.pagefault.address &
					       ~(psz - 1),
				.range.len = psz,
			};

			s->zero_first = 0;
			ioctl(s->uffd, UFFDIO_ZEROPAGE, &z);
		} else {
			struct uffdio_copy c = {
				.dst = msg.arg.pagefault.address & ~(psz - 1),
				.src = (uintptr_t)s->src,
				.len = psz,
			};

			ioctl(s->uffd, UFFDIO_COPY, &c);
		}
		__atomic_add_fetch(&s->served, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

static void touch_pages(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		(void)*(volatile const char *)(p + i * psz);
}

static void test_userfaultfd(void)
{
	const size_t n = 4;
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { 0 };
	struct uffd_srv s = { 0 };
	pthread_t tid;
	uint64_t a;
	char *p;
	int fd;
	bool wp;

	s.uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (s.uffd < 0)
		tap_skip("userfaultfd: %s", strerror(errno));
	CHECK(ioctl(s.uffd, UFFDIO_API, &api) == 0, "UFFDIO_API: %s",
	      strerror(errno));
	wp = api.features & UFFD_FEATURE_PAGEFAULT_FLAG_WP;
	fd = open_dev();
	p = map_pages(n);
	s.src = map_pages(1);
	memset(s.src, 0x6b, psz);
	s.zero_first = 1;
	reg.range.start = (uintptr_t)p;
	reg.range.len = n * psz;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING |
		   (wp ? UFFDIO_REGISTER_MODE_WP : 0);
	if (ioctl(s.uffd, UFFDIO_REGISTER, &reg)) {
		if (!wp)
			FAIL("UFFDIO_REGISTER: %s", strerror(errno));
		wp = false;
		reg.mode = UFFDIO_REGISTER_MODE_MISSING;
		CHECK(ioctl(s.uffd, UFFDIO_REGISTER, &reg) == 0,
		      "UFFDIO_REGISTER: %s", strerror(errno));
	}
	CHECK(!pthread_create(&tid, NULL, uffd_main, &s), "pthread_create");
	a = must_add(fd, p, n * psz, 0);

	/*
	 * The CPU takes the userfaults (hmm_range_fault() has no
	 * FAULT_FLAG_ALLOW_RETRY: a userfault there is SIGBUS, and a
	 * warning with a stack dump under DEBUG_VM). Then the device maps.
	 */
	touch_pages(p, n);			/* ZEROPAGE, then COPY */
	must_fault(fd, a, p, n, 0);
	CHECK(s.served >= 2, "only %d userfaults served", s.served);
	CHECK(p[0] == 0 && (uint8_t)p[psz] == 0x6b, "uffd content wrong");
	check_no_stale(fd, a, p, n);
	check_fresh(fd, a, p, n);
	clear_log(fd, a);

	/* DONTNEED makes them missing again: invalidate, refault via uffd */
	CHECK(madvise(p, n * psz, MADV_DONTNEED) == 0, "DONTNEED");
	expect_called(fd, a, "dontneed", EVB(MNI_TEST_EV_CLEAR), p, n * psz, p,
		      n * psz);
	CHECK(check_no_stale(fd, a, p, n) == 0, "dropped pages still mirrored");
	memset(s.src, 0x2d, psz);
	touch_pages(p, n);
	check_fresh(fd, a, p, n);
	CHECK((uint8_t)p[0] == 0x2d, "refault did not come from UFFDIO_COPY");

	if (wp) {
		struct uffdio_writeprotect w = {
			.range.start = (uintptr_t)p,
			.range.len = n * psz,
			.mode = UFFDIO_WRITEPROTECT_MODE_WP,
		};
		uint8_t buf[4 * 4096], st[4];
		uint64_t m;
		size_t i;

		memset(p, 0x22, n * psz);	/* dirty, writable PTEs */
		must_fault(fd, a, p, n, MNI_TEST_FAULT_WRITE);
		clear_log(fd, a);
		CHECK(ioctl(s.uffd, UFFDIO_WRITEPROTECT, &w) == 0,
		      "UFFDIO_WRITEPROTECT: %s", strerror(errno));
		expect_called(fd, a, "writeprotect", EVB(MNI_TEST_EV_PROTECTION_VMA), p, n * psz, p,
			      n * psz);
		CHECK(!mirror_read(fd, a, p, n, buf, st, &m), "READ");
		for (i = 0; i < n; i++)
			CHECK(st[i] != MNI_TEST_PAGE_WRITE,
			      "write-protected page %zu mirrored writable", i);
		/* a CPU write resolves through the handler (un-protect) */
		memset(p, 0x11, psz);
		check_no_stale(fd, a, p, n);
		check_fresh(fd, a, p, n);
	} else {
		tap_diag("UFFDIO_WRITEPROTECT not available: not tested");
	}
	s.stop = 1;
	pthread_join(tid, NULL);
	close(s.uffd);
	close(fd);
}

/* -------------------------------------------------------------- exec */

static void exec_child_main(int argc, char **argv)
{
	int w, r;
	char c;

	if (argc < 4)
		_exit(3);
	w = atoi(argv[2]);
	r = atoi(argv[3]);
	/* the new image: tell the parent, wait for its go, exit */
	if (write(w, "e", 1) != 1 || read(r, &c, 1) != 1)
		_exit(4);
	_exit(0);
}

static void test_exec_releases(void)
{
	int fd = open_dev(), c2p[2], p2c[2], idp[2];
	struct mni_test_log log;
	uint64_t ids[2];
	pid_t pid;

	CHECK(pipe(c2p) == 0 && pipe(p2c) == 0 && pipe(idp) == 0, "pipe");
	pid = fork_child();
	if (pid == 0) {
		char *p = map_pages(4);
		char a1[16], a2[16];

		fill(p, 4, 40);
		ids[0] = must_add(fd, p, 4 * psz, 0);
		ids[1] = must_add(fd, p + psz, psz, 0);
		must_fault(fd, ids[0], p, 4, 0);
		CHECK(write(idp[1], ids, sizeof(ids)) == sizeof(ids), "write");
		snprintf(a1, sizeof(a1), "%d", c2p[1]);
		snprintf(a2, sizeof(a2), "%d", p2c[0]);
		execl("/proc/self/exe", "mni_triggers", "--exec-child", a1, a2,
		      (char *)NULL);
		_exit(5);
	}
	CHECK(read(idp[0], ids, sizeof(ids)) == sizeof(ids), "read ids");
	pipe_get(c2p[0]);	/* the child runs its new image */
	get_log(fd, ids[0], false, &log);
	expect_called(fd, ids[0], "old mm", EVB(MNI_TEST_EV_RELEASE), 0, 1,
		      0, ~0ULL);
	{
		bool full = false;

		for (uint64_t i = 0; i < log.count; i++)
			if (log.entry[i].event == MNI_TEST_EV_RELEASE &&
			    log.entry[i].start == 0 &&
			    log.entry[i].end == ~0ULL)
				full = true;
		if (!full)
			dump_log("old mm", &log);
		CHECK(full, "no RELEASE of [0, ULONG_MAX)");
	}
	expect_called(fd, ids[1], "old mm, 2nd", EVB(MNI_TEST_EV_RELEASE), 0,
		      1, 0, ~0ULL);
	/* removal after release, while the process lives on in a new mm */
	must_del(fd, ids[0]);
	must_del(fd, ids[1]);
	pipe_put(p2c[1]);
	wait_child_ok(pid);
	close(fd);
}

/* --------------------------------------------------- stale torture */

/*
 * Oracle. The region has NSLOT pages; slot i is owned by writer thread
 * i % NWRITER, which alone replaces it: it writes {MAGIC, i, gen} into a
 * fresh scratch page and mremap()s that page over slot i (which unmaps the
 * old page: an UNMAP invalidation that completes before mremap returns),
 * then publishes min_gen[i] = gen. Pages are never written through the
 * region, so every page ever mapped at slot i carries the slot's tag and
 * a generation, and generations of slot i only grow. Hence a READ issued
 * after a reader saw min_gen[i] == g must not show slot i mirrored with a
 * generation below g: that page was unmapped and its invalidation finished
 * before g was published. Other threads mprotect and MADV_COLD/PAGEOUT the
 * region (contents unchanged) and ADD/DEL transient mirrors.
 *
 * Storm mode adds a second region with a subscription whose callback
 * sleeps STORM_MS, which NSTORM threads invalidate without pause
 * (MADV_DONTNEED, under mmap_lock for read): the mirrored region is
 * faulted, inserted into and removed from while unrelated invalidations
 * are always in flight, and the oracle must still hold.
 */
#define NSLOT		64
#define NWRITER		2
#define NREADER		2
#define MAGIC		0x4d4e4954ULL
#define NSTORM		2
#define STORM_PAGES	16
#define STORM_MS	2

struct torture {
	int fd;
	char *region;
	uint64_t id;			/* long-lived mirror of the region */
	_Atomic uint64_t min_gen[NSLOT];
	_Atomic int stop;
	_Atomic int failed;
	char why[256];
	double end;
	_Atomic uint64_t reads, faults, retries, absent, efault, replaces,
		mprotects, madvises, adds, raced;
	char *storm;			/* storm mode: the stormed region */
	_Atomic uint64_t storms;	/* invalidations of it */
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void torture_fail(struct torture *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void torture_fail(struct torture *t, const char *fmt, ...)
{
	va_list ap;

	if (atomic_exchange(&t->failed, 1))
		return;
	va_start(ap, fmt);
	vsnprintf(t->why, sizeof(t->why), fmt, ap);
	va_end(ap);
	t->stop = 1;
}

static void *torture_writer(void *arg)
{
	struct torture *t = ((void **)arg)[0];
	int w = (int)(uintptr_t)((void **)arg)[1];
	uint64_t gen = 1;

	while (!t->stop) {
		for (int i = w; i < NSLOT && !t->stop; i += NWRITER) {
			uint64_t *s = mmap(NULL, psz, PROT_READ | PROT_WRITE,
					   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			void *q;

			if (s == MAP_FAILED) {
				torture_fail(t, "scratch mmap: %s",
					     strerror(errno));
				break;
			}
			gen++;
			for (size_t k = 0; k < psz / 8; k += 3) {
				s[k] = MAGIC;
				s[k + 1] = i;
				if (k + 2 < psz / 8)
					s[k + 2] = gen;
			}
			q = mremap(s, psz, psz, MREMAP_MAYMOVE | MREMAP_FIXED,
				   t->region + i * psz);
			if (q == MAP_FAILED) {
				torture_fail(t, "mremap over slot %d: %s", i,
					     strerror(errno));
				break;
			}
			atomic_store(&t->min_gen[i], gen);
			t->replaces++;
		}
	}
	return NULL;
}

static void *torture_mm(void *arg)
{
	struct torture *t = arg;
	uint64_t seed = 0x9e3779b97f4a7c15ULL ^ (uintptr_t)&seed;

	while (!t->stop) {
		uint64_t r = rnd(&seed);
		size_t i = r % NSLOT, k = 1 + (r >> 8) % 8;

		if (i + k > NSLOT)
			k = NSLOT - i;
		switch ((r >> 16) % 3) {
		case 0:
			mprotect(t->region + i * psz, k * psz, PROT_READ);
			mprotect(t->region + i * psz, k * psz,
				 PROT_READ | PROT_WRITE);
			t->mprotects++;
			break;
		case 1:
			madvise(t->region + i * psz, k * psz, MADV_COLD);
			t->madvises++;
			break;
		default:
			madvise(t->region + i * psz, k * psz, MADV_PAGEOUT);
			t->madvises++;
			break;
		}
	}
	return NULL;
}

/* FAULT + READ [i, i+k) of mirror id and check the oracle. */
static void torture_probe(struct torture *t, uint64_t id, size_t i, size_t k,
			  uint8_t *buf, uint8_t *st)
{
	struct mni_test_fault f = { 0 };
	uint64_t lo[NSLOT], m;
	int ret;

	ret = mirror_fault(t->fd, id, t->region + i * psz, k, 0, &f);
	t->faults++;
	t->retries += f.retries;
	if (ret == -EFAULT || ret == -EBUSY)
		t->efault++;
	else if (ret) {
		torture_fail(t, "FAULT: %s", strerror(-ret));
		return;
	}
	for (size_t j = 0; j < k; j++)
		lo[j] = atomic_load(&t->min_gen[i + j]);
	ret = mirror_read(t->fd, id, t->region + i * psz, k, buf, st, &m);
	t->reads++;
	if (ret) {
		torture_fail(t, "READ: %s", strerror(-ret));
		return;
	}
	for (size_t j = 0; j < k; j++) {
		const uint64_t *w = (const uint64_t *)(buf + j * psz);

		if (st[j] == MNI_TEST_PAGE_ABSENT) {
			t->absent++;
			continue;
		}
		if (w[0] != MAGIC || w[1] != i + j) {
			torture_fail(t, "slot %zu mirrored a foreign page (%#llx %#llx %#llx)",
				     i + j, (unsigned long long)w[0],
				     (unsigned long long)w[1],
				     (unsigned long long)w[2]);
			return;
		}
		if (w[2] < lo[j]) {
			torture_fail(t, "slot %zu: READ shows generation %llu, "
				     "but %llu was mapped and the old page's "
				     "invalidation done before the READ",
				     i + j, (unsigned long long)w[2],
				     (unsigned long long)lo[j]);
			return;
		}
		if (w[2] < atomic_load(&t->min_gen[i + j]))
			t->raced++;	/* replaced while we read: fine */
	}
}

static void *torture_reader(void *arg)
{
	struct torture *t = arg;
	uint64_t seed = 0x2545f4914f6cdd1dULL ^ (uintptr_t)&seed;
	uint8_t *buf = malloc(8 * psz), st[8];

	while (!t->stop && buf) {
		uint64_t r = rnd(&seed);
		size_t i = r % NSLOT, k = 1 + (r >> 8) % 8;

		if (i + k > NSLOT)
			k = NSLOT - i;
		torture_probe(t, t->id, i, k, buf, st);
	}
	free(buf);
	return NULL;
}

static void *torture_storm(void *arg)
{
	struct torture *t = arg;

	while (!t->stop) {
		if (madvise(t->storm, STORM_PAGES * psz, MADV_DONTNEED)) {
			torture_fail(t, "storm madvise: %s", strerror(errno));
			break;
		}
		t->storms++;
	}
	return NULL;
}

static void *torture_adder(void *arg)
{
	struct torture *t = arg;
	uint64_t seed = 0x853c49e6748fea9bULL ^ (uintptr_t)&seed;
	uint8_t *buf = malloc(8 * psz), st[8];

	while (!t->stop && buf) {
		uint64_t r = rnd(&seed), id;
		size_t i = r % NSLOT, k = 1 + (r >> 8) % 8;
		int ret;

		if (i + k > NSLOT)
			k = NSLOT - i;
		ret = mirror_add(t->fd, t->region + i * psz, k * psz, 0, &id);
		if (ret) {
			torture_fail(t, "ADD: %s", strerror(-ret));
			break;
		}
		t->adds++;
		torture_probe(t, id, i, k, buf, st);
		if (r & (1 << 20))
			torture_probe(t, id, i, k, buf, st);
		ret = mirror_del(t->fd, id);
		if (ret) {
			torture_fail(t, "DEL: %s", strerror(-ret));
			break;
		}
	}
	free(buf);
	return NULL;
}

static unsigned int torture_secs(void)
{
	const char *e = getenv("MNI_TORTURE_SECS");
	unsigned int s = e ? (unsigned int)atoi(e) : 0;

	return s ? s : 20;
}

static void stale_read_torture(bool storm)
{
	static struct torture t;
	pthread_t th[NWRITER + NREADER + NSTORM + 2];
	void *warg[NWRITER][2];
	/* The storm runs half as long: it is a second lap of the same oracle. */
	unsigned int secs = storm ? (torture_secs() + 1) / 2 : torture_secs();
	unsigned int nth = 0;
	uint64_t storm_id = 0;
	double t0 = now_ms();

	memset(&t, 0, sizeof(t));
	t.fd = open_dev();
	if (storm) {
		t.storm = map_pages(STORM_PAGES);
		fill(t.storm, STORM_PAGES, 42);
		storm_id = must_add(t.fd, t.storm, STORM_PAGES * psz, 0);
		CHECK(mirror_slow(t.fd, storm_id, STORM_MS) == 0, "SLOW");
	}
	t.region = map_pages(NSLOT);
	for (int i = 0; i < NSLOT; i++) {
		uint64_t *w = (uint64_t *)(t.region + i * psz);

		for (size_t k = 0; k + 2 < psz / 8; k += 3) {
			w[k] = MAGIC;
			w[k + 1] = i;
			w[k + 2] = 1;
		}
		t.min_gen[i] = 1;
	}
	t.id = must_add(t.fd, t.region, NSLOT * psz, 0);
	for (int w = 0; w < NWRITER; w++) {
		warg[w][0] = &t;
		warg[w][1] = (void *)(uintptr_t)w;
		CHECK(!pthread_create(&th[nth++], NULL, torture_writer,
				      warg[w]), "pthread_create");
	}
	for (int r = 0; r < NREADER; r++)
		CHECK(!pthread_create(&th[nth++], NULL, torture_reader, &t),
		      "pthread_create");
	CHECK(!pthread_create(&th[nth++], NULL, torture_mm, &t),
	      "pthread_create");
	CHECK(!pthread_create(&th[nth++], NULL, torture_adder, &t),
	      "pthread_create");
	for (int i = 0; storm && i < NSTORM; i++)
		CHECK(!pthread_create(&th[nth++], NULL, torture_storm, &t),
		      "pthread_create");
	while (!t.stop && now_ms() - t0 < secs * 1000.0)
		usleep(50000);
	t.stop = 1;
	for (unsigned int i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	tap_diag("torture %.1f s: %llu replaces, %llu faults (%llu retries, "
		 "%llu EFAULT/EBUSY), %llu reads (%llu absent pages, %llu "
		 "raced with a replacement), %llu mprotect, %llu madvise, "
		 "%llu ADD/DEL",
		 (now_ms() - t0) / 1000,
		 (unsigned long long)t.replaces, (unsigned long long)t.faults,
		 (unsigned long long)t.retries, (unsigned long long)t.efault,
		 (unsigned long long)t.reads, (unsigned long long)t.absent,
		 (unsigned long long)t.raced, (unsigned long long)t.mprotects,
		 (unsigned long long)t.madvises, (unsigned long long)t.adds);
	if (storm)
		tap_diag("storm: %llu invalidations of the other region, each with a %d ms callback",
			 (unsigned long long)t.storms, STORM_MS);
	CHECK(!t.failed, "%s", t.why);
	CHECK(t.replaces && t.reads && t.adds, "the torture did nothing");
	CHECK(!storm || t.storms, "the storm did nothing");
	must_del(t.fd, t.id);
	if (storm)
		must_del(t.fd, storm_id);
	close(t.fd);
}

static void test_stale_read_torture(void)
{
	stale_read_torture(false);
}

static void test_stale_read_torture_storm(void)
{
	stale_read_torture(true);
}

/*
 * A small multi-process workload for the load/unload loop of
 * guest-lifecycle.sh: children mirror, fault, munmap, and exit with
 * subscriptions still inserted; the file is closed with some left too.
 */
static void test_lifecycle_workload(void)
{
	int fd = open_dev();
	pid_t pids[4];

	for (int c = 0; c < 4; c++) {
		pids[c] = fork_child();
		if (pids[c] == 0) {
			char *p = map_pages(8);

			fill(p, 8, c);
			uint64_t a = must_add(fd, p, 8 * psz, 0);

			must_add(fd, p + 2 * psz, 2 * psz, 0);
			must_fault(fd, a, p, 8, 0);
			munmap(p + 4 * psz, psz);
			if (c & 1)
				must_del(fd, a);
			_exit(0);	/* the rest stays inserted */
		}
	}
	for (int c = 0; c < 4; c++)
		wait_child_ok(pids[c]);
	{
		char *p = map_pages(4);

		fill(p, 4, 9);
		must_fault(fd, must_add(fd, p, 4 * psz, 0), p, 4, 0);
	}
	close(fd);	/* removes everything left */
}

/* --------------------------------------------------------------- main */

#define TEST(id, secs)	{ .name = #id, .fn = test_##id, .timeout = secs }
#define MANUAL(id, secs)	{ .name = #id, .fn = test_##id, .timeout = secs, \
				  .manual = true }

static struct tap_test tests[] = {
	TEST(munmap_middle_hole, 0),
	TEST(mremap_shrink, 0),
	TEST(mremap_grow_in_place, 0),
	TEST(mremap_grow_move, 0),
	TEST(madvise_free, 0),
	TEST(madvise_remove, 0),
	TEST(madvise_pageout, 0),
	TEST(fork_cow_both_sides, 0),
	TEST(truncate_other_process, 0),
	TEST(punch_hole_other_process, 0),
	TEST(thp_split, 0),
	TEST(thp_split_munmap, 0),
	TEST(khugepaged_collapse, 0),
	TEST(ksm_merge, 0),
	TEST(numa_migrate, 0),
	TEST(compaction, 60),
	TEST(userfaultfd, 0),
	TEST(exec_releases, 0),
	TEST(exit_vs_punch_hole, 0),
	TEST(stale_read_torture, 0),	/* timeout set in main */
	TEST(stale_read_torture_storm, 0),	/* timeout set in main */
	MANUAL(lifecycle_workload, 0),
};

int main(int argc, char **argv)
{
	unsigned int i;

	if (argc >= 2 && !strcmp(argv[1], "--exec-child"))
		exec_child_main(argc, argv);
	for (i = 0; i < ARRAY_SIZE(tests); i++)
		if (tests[i].fn == test_stale_read_torture ||
		    tests[i].fn == test_stale_read_torture_storm)
			tests[i].timeout = torture_secs() + 60;
	return suite_main(argc, argv, &info, tests, ARRAY_SIZE(tests));
}
