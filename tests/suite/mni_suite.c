// SPDX-License-Identifier: GPL-2.0
/*
 * mni_suite.c - conformance tests for interval notifier engines
 *
 * usage: mni_suite DEVICE [TEST...]
 *
 * DEVICE is /dev/mni_test_mni (mmu_interval_notifier.ko) or
 * /dev/mni_test_kern (the kernel's own engine): the same driver source
 * built against each. Every test asserts on what the driver's invalidate
 * callback logged and on what the mirror holds, so an engine that calls
 * too much, too little, with the wrong range or event, or lets a mirror go
 * stale, fails here. The output is TAP; guest-check.sh compares the two
 * devices test by test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mirror.h"
#include "must.h"
#include "op_thread.h"
#include "tap.h"
#include "util.h"

static struct mni_test_info info;

/* ------------------------------------------------------------ helpers */

static bool engine_is_kern(void)
{
	return info.engine == MNI_TEST_ENGINE_KERN;
}

/* What READ returned for a range of a mirror. */
struct snap {
	size_t n;
	uint64_t mirrored;
	uint8_t *state;
	uint8_t *buf;
};

static void snap_free(struct snap *s)
{
	free(s->state);
	free(s->buf);
}

static struct snap must_read(int fd, uint64_t id, void *addr, size_t n)
{
	struct snap s = { .n = n };
	int ret;

	s.buf = malloc(n * psz);
	s.state = malloc(n);
	CHECK(s.buf && s.state, "out of memory");
	ret = mirror_read(fd, id, addr, n, s.buf, s.state, &s.mirrored);
	CHECK(!ret, "READ %p %zu pages: %s", addr, n, strerror(-ret));
	return s;
}

/* Is every byte of page i of the snapshot equal to b? */
static bool page_is(const struct snap *s, size_t i, uint8_t b)
{
	const uint8_t *p = s->buf + i * psz;
	size_t k;

	for (k = 0; k < psz; k++)
		if (p[k] != b)
			return false;
	return true;
}

/* Page i must be mirrored (any permission) and hold byte b throughout. */
static void check_mirrored(const struct snap *s, size_t i, uint8_t b)
{
	CHECK(s->state[i] != MNI_TEST_PAGE_ABSENT,
	      "page %zu is not mirrored", i);
	CHECK(page_is(s, i, b),
	      "page %zu: mirror shows %#x..., the CPU wrote %#x", i,
	      s->buf[i * psz], b);
}

static void check_absent(const struct snap *s, size_t i)
{
	CHECK(s->state[i] == MNI_TEST_PAGE_ABSENT,
	      "page %zu is still mirrored (state %u, first byte %#x)", i,
	      s->state[i], s->buf[i * psz]);
}

/*
 * Index of the first entry with this event whose range covers
 * [start, end) and whose flags include all of want_flags, or -1.
 */
static int log_find(const struct mni_test_log *log, uint64_t event,
		    const void *start, size_t len, uint64_t want_flags)
{
	uint64_t s = (uintptr_t)start, e = s + len;
	uint64_t i;

	for (i = 0; i < log->count; i++) {
		const struct mni_test_log_entry *x = &log->entry[i];

		if (x->event == event && x->start <= s && x->end >= e &&
		    (x->flags & want_flags) == want_flags)
			return (int)i;
	}
	return -1;
}

/* The log must hold such an entry; dumps it otherwise. */
static void expect_event(const struct mni_test_log *log, const char *who,
			 uint64_t event, const void *start, size_t len,
			 uint64_t want_flags)
{
	if (log_find(log, event, start, len, want_flags) >= 0)
		return;
	dump_log(who, log);
	FAIL("%s: no %s entry covering [%p, +%#zx) with flags %#llx", who,
	     mirror_event_name(event), start, len,
	     (unsigned long long)want_flags);
}

/*
 * The OOM reaper and process_mrelease(2) invalidate with UNMAP up to 6.x
 * and with CLEAR from 7.x (zap_vma_for_reaping()): either is a reap.
 */
static void expect_reap_event(const struct mni_test_log *log, const char *who,
			      const void *start, size_t len,
			      uint64_t want_flags)
{
	if (log_find(log, MNI_TEST_EV_CLEAR, start, len, want_flags) >= 0)
		return;
	expect_event(log, who, MNI_TEST_EV_UNMAP, start, len, want_flags);
}

/* The engine must only call a subscription for ranges that overlap it. */
static void expect_all_overlap(const struct mni_test_log *log,
			       const char *who, const void *start, size_t len)
{
	uint64_t s = (uintptr_t)start, e = s + len;
	uint64_t i;

	for (i = 0; i < log->count; i++) {
		if (log->entry[i].start < e && log->entry[i].end > s)
			continue;
		dump_log(who, log);
		FAIL("%s: entry %llu does not overlap the subscription [%p, +%#zx)",
		     who, (unsigned long long)i, start, len);
	}
}

static void expect_no_calls(int fd, uint64_t id, const char *who)
{
	struct mni_test_log log;

	get_log(fd, id, false, &log);
	if (log.count == 0 && log.overflow == 0)
		return;
	dump_log(who, &log);
	FAIL("%s: the subscription was called", who);
}

/*
 * A check the kernel's engine cannot survive: the kern flavour refuses it
 * with EOPNOTSUPP and the test is skipped there; mni must run it.
 */
static void skip_if_kern_refused(int ret)
{
	if (ret == -EOPNOTSUPP && engine_is_kern())
		tap_skip("the kernel's engine crashes or WARNs on this input");
	CHECK(ret != -EOPNOTSUPP, "mni flavour refused the check");
}

/* --------------------------------------------------------- /dev/kmsg */

static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	CHECK(fd >= 0, "open /dev/kmsg: %s", strerror(errno));
	lseek(fd, 0, SEEK_END);
	return fd;
}

/*
 * Read the records logged since kmsg_open() and count those from the
 * engine: containing "mni", but not printed by our own driver (whose
 * lines start with its module name, "mni_test_..."), and, unless NULL,
 * containing @needle as well (a caller's module name, say).
 */
static int kmsg_count_engine(int fd, const char *needle)
{
	char rec[2048];
	int found = 0;

	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		char *msg;

		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records, go on */
		if (n <= 0)
			break;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = '\0';
		if (strstr(msg, "mni") && strncmp(msg, "mni_test", 8) &&
		    (!needle || strstr(msg, needle))) {
			tap_diag("kernel log: %s", msg);
			found++;
		}
	}
	return found;
}

static int kmsg_count_mni(int fd)
{
	return kmsg_count_engine(fd, NULL);
}

/* ------------------------------------------------------------- tests */

/* hmm_range_fault() through a subscription mirrors exactly the CPU data. */
static void test_fault_mirrors_content(void)
{
	const size_t n = 40;	/* several driver chunks */
	int fd = open_dev();
	char *p = map_pages(n);
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
	close(fd);
}

/* The mirror holds the very pages the CPU uses, not copies. */
static void test_mirror_shares_pages(void)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(n);
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
	close(fd);
}

/* A CPU write to a read-faulted zero page replaces it: CLEAR. */
static void test_cow_of_zero_page_clears(void)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(n);
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
	close(fd);
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
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_pages(n);
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
	close(fd);
}

/* madvise(MADV_DONTNEED) is a CLEAR; the refault sees zeroes. */
static void test_madvise_dontneed_clear(void)
{
	const size_t n = 6;
	int fd = open_dev();
	char *p = map_pages(n);
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
	close(fd);
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

struct sub_desc {
	uint64_t id;
	uint64_t start;
	uint64_t len;
	uint64_t mirrored;	/* has a page table */
};

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

/*
 * read_begin() on a subscription while an invalidation that concerns it is
 * in flight must either wait for the end, or return a sequence that
 * collides once the invalidation is over. Upstream waits. The callback was
 * entered at cb_ms and sleeps SLOW_MS: returning before cb_ms + SLOW_MS is
 * returning during the invalidation.
 */
#define SLOW_MS	1000
/*
 * Under QEMU TCG the vCPUs' clocks drift apart by tens of milliseconds, so
 * a sleep of SLOW_MS measured across CPUs can look up to that much short.
 * Far below SLOW_MS: returning during the sleep still fails.
 */
#define CLOCK_SLACK_MS	50

/*
 * A race the test sets up around a sleeping callback is decided only if
 * the test thread gets to its part while the callback still runs; on a
 * loaded host it can be held up for a second (seen in CI). @attempt, an
 * expression, sets the race up once, judges it and is true if it was
 * decided, or says why not and is false: it is run again, at most
 * RACE_ATTEMPTS times, and the test fails if none was decided.
 */
#define RACE_ATTEMPTS	3
#define decide_race(attempt, what)					\
	do {								\
		int i_;							\
									\
		for (i_ = 0; i_ < RACE_ATTEMPTS; i_++)			\
			if (attempt)					\
				break;					\
		CHECK(i_ < RACE_ATTEMPTS, "in %d attempts %s",		\
		      RACE_ATTEMPTS, what);				\
	} while (0)

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

static int mirror_update(int fd, uint64_t id, void *addr, size_t len,
			 uint64_t flags)
{
	struct mni_test_update u = {
		.id = id, .addr = (uintptr_t)addr, .len = len, .flags = flags,
	};

	return ioctl(fd, MNI_TEST_IOC_UPDATE, &u) ? -errno : 0;
}

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

	fill(p, n, 32);
	if (ioctl(fd, MNI_TEST_IOC_CHECK, &c)) {
		skip_if_kern_refused(-errno);
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

/* mni's timed and killable read_begin(); the kernel's engine has neither. */
static bool seq_wait_supported(int fd, uint64_t id)
{
	int64_t r;
	uint64_t seq;
	int ret = mirror_seq_wait(fd, id, 0, &seq, &r);

	if (ret == -EOPNOTSUPP && engine_is_kern())
		return false;
	CHECK(!ret, "SEQ_WAIT: %s", strerror(-ret));
	CHECK(r == 0, "timed read_begin with nothing in flight gave %lld",
	      (long long)r);
	return true;
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
	if (!seq_wait_supported(fd, a))
		tap_skip("the kernel's engine has no timed read_begin");
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
	if (!seq_wait_supported(fd, a))
		tap_skip("the kernel's engine has no killable read_begin");
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

/* ---------------------------------------------- pre-registration */

#define MNI_DEBUGFS_MMS	MNI_DEBUGFS "/mms"

/*
 * The "pre_registrations:" line of this process's mm file in our debugfs,
 * or -1 once no file of this process is there. The files follow the
 * registry through a workqueue, so this waits up to 2 s for @want.
 */
static int debugfs_pins(int want)
{
	double t = now_ms() + 2000;
	char prefix[32], path[300], line[128];
	struct dirent *de;
	int pins;
	DIR *d;
	FILE *f;

	snprintf(prefix, sizeof(prefix), "%d-", (int)getpid());
	for (;;) {
		pins = -1;
		d = opendir(MNI_DEBUGFS_MMS);
		CHECK(d, "%s: %s", MNI_DEBUGFS_MMS, strerror(errno));
		while ((de = readdir(d)))
			if (!strncmp(de->d_name, prefix, strlen(prefix)))
				break;
		if (de) {
			snprintf(path, sizeof(path), "%s/%s", MNI_DEBUGFS_MMS,
				 de->d_name);
			f = fopen(path, "r");
			while (f && fgets(line, sizeof(line), f))
				if (sscanf(line, "pre_registrations: %d", &pins) == 1)
					break;
			if (f)
				fclose(f);
		}
		closedir(d);
		if (pins == want || now_ms() > t)
			return pins;
		usleep(10000);
	}
}

/* Insert with mmap_lock held for read; false if the flavour refuses. */
static bool add_read_locked(int fd, char *p, size_t len, uint64_t *id)
{
	struct mni_test_add add = {
		.addr = (uintptr_t)p, .len = len,
		.flags = MNI_TEST_ADD_READ_LOCKED,
	};

	if (ioctl(fd, MNI_TEST_IOC_ADD, &add)) {
		CHECK(errno == EOPNOTSUPP && engine_is_kern(),
		      "ADD under mmap_read_lock: %s", strerror(errno));
		return false;
	}
	*id = add.id;
	return true;
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

	fill(p, n, 21);
	CHECK(ioctl(fd, MNI_TEST_IOC_MM_GET) == 0, "MM_GET: %s",
	      strerror(errno));
	if (!add_read_locked(fd, p, n * psz, &id))
		tap_skip("the kernel's insert says might_lock(mmap_lock): lockdep reports the upstream workaround under the read lock");
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

	if (engine_is_kern())
		tap_skip("the kernel's engine keeps its per-mm state until exit: nothing to put");
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
	CHECK(add_read_locked(fd, p, n * psz, &id), "ADD under mmap_read_lock");
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

	if (engine_is_kern())
		tap_skip("the kernel's engine has no put of a pre-registration");
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
		if (!add_read_locked(cfd, p, n * psz, &id))
			_exit(77);
		must_del(cfd, id);
		CHECK(!pthread_create(&tid, NULL, dontneed_loop_fn, &l),
		      "pthread_create");
		for (i = 0; i < 200; i++) {
			CHECK(add_read_locked(cfd, p + (i % n) * psz, psz, &id),
			      "ADD under mmap_read_lock");
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
		if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
			tap_skip("the kernel's insert says might_lock(mmap_lock): lockdep reports the upstream workaround under the read lock");
		CHECK(WIFEXITED(status) && !WEXITSTATUS(status),
		      "child status %#x", status);
	}
	CHECK(ioctl(fd, MNI_TEST_IOC_MM_PUT) == 0, "MM_PUT: %s",
	      strerror(errno));
	close(fd);
}

/* ------------------------------------------------------------ put */

/* PUT of mirror id (0: none), with flags; returns the released count. */
static uint64_t mirror_put_ioc(int fd, uint64_t id, uint64_t flags)
{
	struct mni_test_put put = { .id = id, .flags = flags };

	CHECK(ioctl(fd, MNI_TEST_IOC_PUT, &put) == 0, "PUT %llu: %s",
	      (unsigned long long)id, strerror(errno));
	return put.released;
}

/* Wait up to 2 s for the released count to reach @want. */
static uint64_t wait_released(int fd, uint64_t want)
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
		skip_if_kern_refused(-errno);
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

/* ------------------------------------ freeing release (mni_test_fixa.c) */

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

	if (engine_is_kern())
		tap_skip("the kernel's engine has no put");
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

/* ---------------------------------------------------------- owner */

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

/* ------------------------------------------------------- bad inputs */

static int64_t must_check(int fd, uint64_t kind, uint64_t addr, uint64_t len)
{
	int64_t r = 0;
	int ret = mirror_check(fd, kind, addr, len, &r);

	skip_if_kern_refused(ret);
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
	int64_t r = must_check(fd, MNI_TEST_CHECK_NULL_OPS, 0x10000, 0x1000);

	CHECK(r == -EINVAL, "insert with NULL ops gave %lld", (long long)r);
	close(fd);
}

static void test_insert_null_invalidate(void)
{
	int fd = open_dev();
	int64_t r = must_check(fd, MNI_TEST_CHECK_NULL_INVALIDATE, 0x10000,
			       0x1000);

	CHECK(r == -EINVAL, "insert with NULL ->invalidate gave %lld",
	      (long long)r);
	close(fd);
}

/* Insert on an mm whose users are all gone (mmgrab only) is -EINVAL. */
static void test_insert_dead_mm(void)
{
	int fd = open_dev();
	int round;

	for (round = 0; round < 2; round++) {
		uint64_t id = 0;
		int pfd[2];
		pid_t pid;
		int64_t r;

		if (engine_is_kern()) {
			int64_t dummy;

			skip_if_kern_refused(mirror_check(fd, MNI_TEST_CHECK_DEAD_MM,
							  0x10000, 0x1000,
							  &dummy));
			FAIL("kern flavour ran the dead-mm check");
		}
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
	bad_remove(MNI_TEST_CHECK_FOREIGN_REMOVE, "foreign remove");
}

static void test_remove_twice(void)
{
	bad_remove(MNI_TEST_CHECK_DOUBLE_REMOVE, "double remove");
}

/* ---------------------------------------------------- two-pass ops */

/*
 * Two-pass ops (Linux 7.1+): the mirror's ->invalidate_start logs a START
 * entry and hands back a finish; ->invalidate_finish logs a FINISH entry
 * with the start's range, flags and sequence, and only it clears the
 * mirror (see mni_test.c). The mni flavour has mni's own two-pass ops on
 * every kernel; the kernel flavour refuses TWO_PASS before 7.1.
 */
static void require_two_pass(int fd)
{
	uint64_t id;
	int ret = mirror_add(fd, (void *)0x1000, 0x1000,
			     MNI_TEST_ADD_TWO_PASS | MNI_TEST_ADD_NOMIRROR, &id);

	if (ret == -EOPNOTSUPP && engine_is_kern())
		tap_skip("the kernel has no two-pass interval notifier ops before Linux 7.1");
	CHECK(!ret, "ADD TWO_PASS: %s", strerror(-ret));
	must_del(fd, id);
}

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

/* The kernel's ops with ->invalidate_start but no ->invalidate_finish are refused. */
static void test_two_pass_insert_start_without_finish(void)
{
	int fd = open_dev();
	int64_t r = 0;
	int ret;

	require_two_pass(fd);
	ret = mirror_check(fd, MNI_TEST_CHECK_START_NO_FINISH, 0x10000, 0x1000,
			   &r);
	/* mni's own two-pass ops run everywhere, the kernel's from 7.1. */
	if (ret == -EOPNOTSUPP && !engine_is_kern())
		tap_skip("the kernel has no two-pass interval notifier ops before Linux 7.1");
	skip_if_kern_refused(ret);
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

/* --------------------------------------------------------------- main */

/* Each test NAME is the function test_NAME. */
#define TEST(name, timeout)	{ #name, test_##name, timeout, false }
#define MANUAL(name, timeout)	{ #name, test_##name, timeout, true }

static const struct tap_test tests[] = {
	TEST(fault_mirrors_content, 0),
	TEST(mirror_shares_pages, 0),
	TEST(cow_of_zero_page_clears, 0),
	TEST(munmap_then_refault_fresh, 0),
	TEST(munmap_partial_exact_range, 0),
	TEST(unrelated_munmap_silent, 0),
	TEST(mprotect_protection_vma, 0),
	TEST(madvise_dontneed_clear, 0),
	TEST(mremap_move_unmaps, 0),
	TEST(fork_protects_child_exit_silent, 0),
	TEST(overlapping_dispatch, 0),
	TEST(insert_locked, 0),
	TEST(exit_releases_all, 0),
	TEST(exit_with_open_subscriptions, 0),
	TEST(close_removes_subscriptions, 0),
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
	TEST(nonblock_reap, 0),
	TEST(nonblock_reap_busy, 0),
	TEST(remove_from_release_during_reap, 30),
	TEST(dispatch_matches_reference, 120),
	TEST(fault_vs_invalidate_stress, 60),
	TEST(soft_dirty_reaches_all, 0),
	TEST(reinsert_after_last_remove, 0),
	TEST(two_processes_independent, 0),
	TEST(remove_races_exit, 60),
	TEST(insert_remove_vs_invalidate_stress, 60),
	MANUAL(mixed_engines_reap_busy, 30),
	TEST(insert_range_boundaries, 0),
	TEST(insert_null_ops, 0),
	TEST(insert_null_invalidate, 0),
	TEST(insert_dead_mm, 0),
	TEST(remove_foreign, 0),
	TEST(remove_twice, 0),
	TEST(two_pass_unmap_and_dontneed, 0),
	TEST(two_pass_order_across_subscriptions, 0),
	TEST(two_pass_mixed_with_classic, 0),
	TEST(two_pass_null_finish, 0),
	TEST(two_pass_exit_release, 0),
	TEST(two_pass_reap_refused, 0),
	TEST(two_pass_read_begin_waits_finish, 0),
	TEST(two_pass_insert_start_without_finish, 0),
	TEST(two_pass_insert_bad_ops, 0),
	TEST(prereg_insert_under_read_lock, 0),
	TEST(prereg_outlives_subscriptions, 0),
	TEST(prereg_put_unbalanced, 0),
	TEST(prereg_fault_path_inserts_vs_exit, 60),
	TEST(put_at_once, 0),
	TEST(put_in_unmap_and_release_callbacks, 60),
	TEST(put_frees_under_sleeping_reader, 30),
	TEST(put_frees_last_user_under_sleeping_reader, 30),
	TEST(owner_skips_own_migration, 0),
	TEST(update_away_during_invalidation, 0),
	TEST(update_into_invalidation, 0),
	TEST(update_away_during_munmap, 0),
	TEST(update_into_munmap, 0),
	TEST(update_bad_input, 0),
};

int main(int argc, char **argv)
{
	return suite_main(argc, argv, &info, tests, ARRAY_SIZE(tests));
}
