// SPDX-License-Identifier: GPL-2.0
/*
 * mni_scale.c - the engine at scale: many mms exiting at once, one mm
 * with a million subscriptions
 *
 * usage: mni_scale DEVICE [TEST...]
 *
 * DEVICE is /dev/mni_test_mni or /dev/mni_test_kern; tests/qemu/scale.sh
 * (make scale, not part of make check) runs both in one boot and writes
 * results/scale.md. The environment may shrink the run (a quick try):
 * MNI_SCALE_PROCS (default 1000), MNI_SCALE_SUBS (100), MNI_SCALE_MAX_K
 * (1000000).
 *
 *   exit_all_at_once  PROCS processes, each with its own fd on DEVICE
 *                     (opened by the parent, which keeps it), insert SUBS
 *                     one-page mirrors over their own memory, fault every
 *                     tenth, report and wait on a barrier pipe; the parent
 *                     closes the pipe and they all exit at once. Every
 *                     mirror's log must hold exactly one RELEASE (both
 *                     engines send one per subscription from the mm's
 *                     teardown), none may have lost entries, and once the
 *                     fds are closed the engine's summary (ours: mms,
 *                     subscriptions, in flight) and the kernel's slab are
 *                     back at their baseline.
 *   one_mm_1e6        in a fresh mm each, K = 1e3, 1e4, 1e5, 1e6 disjoint
 *                     one-page bare subscriptions (BENCH_ADD: no page
 *                     table, no log, 126 bytes each with the engine's
 *                     share, results/memory.csv), timed in the kernel; then
 *                     madvise(MADV_DONTNEED) of one page overlapping one
 *                     subscription and of one overlapping none, the
 *                     fastest of INV_ROUNDS x INV_BATCHES batches; then
 *                     the removes. The floor: the same madvise with no
 *                     subscription or one far away, before and after.
 *                     Each per-operation cost at K = 1e6 may be at most
 *                     LOG_BOUND times that at K = 1e3, see there.
 *
 * Prints TAP and "csv,scale,PART,ENGINE,N,METRIC,VALUE" lines, which
 * scale.sh turns into tables.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "must.h"
#include "tap.h"
#include "util.h"

#define MNI_DBG		"/sys/kernel/debug/mmu_interval_notifier"

static struct mni_test_info info;

static bool is_mni(void)
{
	return info.engine == MNI_TEST_ENGINE_MNI;
}

static const char *engine(void)
{
	return is_mni() ? "mni" : "kern";
}

static long env_long(const char *name, long def)
{
	const char *s = getenv(name);

	return s && *s ? atol(s) : def;
}

static void csv(const char *part, long n, const char *metric, double v)
{
	printf("csv,scale,%s,%s,%ld,%s,%.6g\n", part, engine(), n, metric, v);
	fflush(stdout);
}

/* ------------------------------------------------------------ readings */

/* ----------------------------------------------------- exit_all_at_once */

#define EXIT_SUBS_MAX		100
/* Every EXIT_FAULT_EVERY-th mirror is faulted before the exit. */
#define EXIT_FAULT_EVERY	10

struct exit_report {
	int32_t idx;
	int32_t err;		/* 0 or -errno of the first failed step */
	uint64_t id[EXIT_SUBS_MAX];
};

/*
 * Child @idx: SUBS one-page mirrors through @fd over every other page of
 * a private mapping, report them on @wfd, then sleep in read() on the
 * barrier until the parent closes it, and exit.
 */
static void exit_child(int fd, int idx, int subs, int wfd, int barrier)
{
	struct exit_report r = { .idx = idx };
	char *p, c;
	int j, ret = 0;

	p = mmap(NULL, 2 * subs * psz, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		ret = -errno;
	for (j = 0; j < subs && !ret; j++) {
		char *a = p + 2 * j * psz;

		ret = mirror_add(fd, a, psz, 0, &r.id[j]);
		if (!ret && !(j % EXIT_FAULT_EVERY)) {
			*a = (char)j;
			ret = mirror_fault(fd, r.id[j], a, 1, 0, NULL);
		}
	}
	r.err = ret;
	/* Below PIPE_BUF: one atomic write among the siblings' ones. */
	if (write(wfd, &r, sizeof(r)) != sizeof(r))
		_exit(1);
	while (read(barrier, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

/* The RELEASE entries of every mirror of @fd; false on a lost entry. */
static bool count_releases(int fd, const uint64_t *ids, int subs,
			   uint64_t *releases, uint64_t *entries)
{
	static struct mni_test_log log;
	uint64_t i;
	int j;

	for (j = 0; j < subs; j++) {
		get_log(fd, ids[j], false, &log);
		if (log.overflow)
			return false;
		*entries += log.count;
		for (i = 0; i < log.count; i++)
			if (log.entry[i].event == MNI_TEST_EV_RELEASE)
				releases[j]++;
	}
	return true;
}

static void raise_nofile(long need)
{
	struct rlimit rl;

	CHECK(!getrlimit(RLIMIT_NOFILE, &rl), "getrlimit: %s", strerror(errno));
	if ((long)rl.rlim_cur >= need)
		return;
	rl.rlim_cur = need;
	if ((long)rl.rlim_max < need)
		rl.rlim_max = need;
	CHECK(!setrlimit(RLIMIT_NOFILE, &rl), "RLIMIT_NOFILE %ld: %s", need,
	      strerror(errno));
}

static void test_exit_all_at_once(void)
{
	int procs = env_long("MNI_SCALE_PROCS", 1000);
	int subs = env_long("MNI_SCALE_SUBS", EXIT_SUBS_MAX);
	long long b0, b1, b2, total = (long long)procs * subs;
	struct engine_summary s0 = { 0 }, s1, s2;
	int ready[2], barrier[2], i, st, bad = 0;
	uint64_t *ids, *rel, entries = 0, once = 0;
	double t0, t_setup, t_exit, t_check, t_close;
	long long j;
	int *fds;

	CHECK(procs > 0 && subs > 0 && subs <= EXIT_SUBS_MAX,
	      "MNI_SCALE_PROCS %d, MNI_SCALE_SUBS %d", procs, subs);
	raise_nofile(procs + 64);
	fds = calloc(procs, sizeof(*fds));
	ids = calloc(total, sizeof(*ids));
	rel = calloc(total, sizeof(*rel));
	CHECK(fds && ids && rel, "calloc");
	if (is_mni())
		s0 = read_engine_summary();
	b0 = kernel_bytes();

	t0 = now_ms();
	CHECK(!pipe(ready) && !pipe(barrier), "pipe: %s", strerror(errno));
	for (i = 0; i < procs; i++) {
		pid_t pid;

		fds[i] = open_dev();
		pid = fork_child();
		if (!pid) {
			close(barrier[1]);
			close(ready[0]);
			exit_child(fds[i], i, subs, ready[1], barrier[0]);
		}
		CHECK(pid > 0, "fork %d: %s", i, strerror(errno));
	}
	close(ready[1]);
	close(barrier[0]);
	for (i = 0; i < procs; i++) {
		struct exit_report r;

		CHECK(read(ready[0], &r, sizeof(r)) == sizeof(r),
		      "%d of %d children reported", i, procs);
		CHECK(r.idx >= 0 && r.idx < procs, "report of child %d", r.idx);
		CHECK(!r.err, "child %d: %s", r.idx, strerror(-r.err));
		memcpy(ids + (long)r.idx * subs, r.id, subs * sizeof(*ids));
	}
	t_setup = now_ms() - t0;
	b1 = kernel_bytes();
	if (is_mni()) {
		s1 = read_engine_summary();
		tap_diag("ours, all set up: %llu mms, %llu subscriptions",
			 (unsigned long long)s1.mms, (unsigned long long)s1.subs);
		CHECK(s1.mms == s0.mms + procs && s1.subs == s0.subs + total,
		      "summary: %llu mms, %llu subscriptions, not %llu + %d, %llu + %lld",
		      (unsigned long long)s1.mms, (unsigned long long)s1.subs,
		      (unsigned long long)s0.mms, procs,
		      (unsigned long long)s0.subs, total);
	}

	/* All at once: every child sleeps in read() on the barrier. */
	t0 = now_ms();
	close(barrier[1]);
	for (i = 0; i < procs; i++) {
		CHECK(wait(&st) > 0, "wait: %s", strerror(errno));
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			bad++;
	}
	t_exit = now_ms() - t0;
	CHECK(!bad, "%d children did not exit with 0", bad);
	if (is_mni()) {
		s2 = read_engine_summary();
		CHECK(s2.in_flight == s0.in_flight,
		      "%llu invalidations in flight after the exits, %llu before",
		      (unsigned long long)s2.in_flight,
		      (unsigned long long)s0.in_flight);
	}

	t0 = now_ms();
	for (i = 0; i < procs; i++)
		CHECK(count_releases(fds[i], ids + (long)i * subs, subs,
				     rel + (long)i * subs, &entries),
		      "child %d: a mirror's log overflowed", i);
	for (j = 0; j < total; j++)
		once += rel[j] == 1;
	t_check = now_ms() - t0;
	tap_diag("%lld subscriptions, %llu with exactly one RELEASE, %llu log entries",
		 total, (unsigned long long)once, (unsigned long long)entries);
	for (j = 0; j < total && once != (uint64_t)total; j++)
		if (rel[j] != 1)
			FAIL("child %lld's mirror %llu: %llu RELEASEs",
			     j / subs, (unsigned long long)ids[j],
			     (unsigned long long)rel[j]);

	/* Closing the fds removes the mirrors: back to the baseline. */
	t0 = now_ms();
	for (i = 0; i < procs; i++)
		close(fds[i]);
	t_close = now_ms() - t0;
	b2 = kernel_bytes();
	if (is_mni()) {
		s2 = read_engine_summary();
		CHECK(s2.mms == s0.mms && s2.subs == s0.subs &&
		      s2.in_flight == s0.in_flight,
		      "summary after close: %llu mms, %llu subscriptions, %llu in flight; before: %llu, %llu, %llu",
		      (unsigned long long)s2.mms, (unsigned long long)s2.subs,
		      (unsigned long long)s2.in_flight,
		      (unsigned long long)s0.mms, (unsigned long long)s0.subs,
		      (unsigned long long)s0.in_flight);
	}
	tap_diag("%d processes x %d subscriptions: set-up %.0f ms, exit %.0f ms, log check %.0f ms, close %.0f ms",
		 procs, subs, t_setup, t_exit, t_check, t_close);
	tap_diag("kernel memory: %.1f MiB before, +%.1f MiB set up, %+.2f MiB after close",
		 b0 / 1048576.0, (b1 - b0) / 1048576.0, (b2 - b0) / 1048576.0);
	csv("exit", procs, "subs_per_proc", subs);
	csv("exit", procs, "setup_ms", t_setup);
	csv("exit", procs, "exit_ms", t_exit);
	csv("exit", procs, "check_ms", t_check);
	csv("exit", procs, "close_ms", t_close);
	csv("exit", procs, "releases_once", once);
	csv("exit", procs, "mem_setup_mib", (b1 - b0) / 1048576.0);
	csv("exit", procs, "mem_left_mib", (b2 - b0) / 1048576.0);
	/*
	 * What a leak of the mirrors would leave: all of the set-up's
	 * growth. Allow 5 % of it (at least 16 MiB) for slabs kept partial,
	 * page tables and the readings' noise.
	 */
	CHECK(b2 - b0 <= (b1 - b0) / 20 || b2 - b0 <= 16ll << 20,
	      "%.1f MiB of the %.1f MiB set up still allocated after close",
	      (b2 - b0) / 1048576.0, (b1 - b0) / 1048576.0);
	free(fds);
	free(ids);
	free(rel);
}

/* ------------------------------------------------------------ one_mm_1e6 */

/*
 * The bound on growth, K = 1e6 against K = 1e3. An engine that is
 * logarithmic in K costs a + b log K per operation, whose log term at
 * most doubles from K = 1e3 to 1e6 (log2: 10 to 20): the whole cost at
 * most doubles. A factor of 3 on top covers what an O() hides and the
 * machine adds: at 1e6 the tree (126 MB) has long outgrown the caches and
 * QEMU's software TLB, so each level of the descent costs more, and the
 * shared host's noise. Still, a linear engine (1000 times) or a square
 * root one (32 times) fails it by far.
 */
#define LOG_BOUND	(3 * log2(1e6) / log2(1e3))

#define INV_ITERS	128	/* madvise calls per batch */
#define INV_BATCHES	16	/* the fastest batch of a round counts */
#define INV_ROUNDS	4	/* rounds alternating the two pages */

enum { M_INSERT, M_REMOVE, M_INV_ONE, M_INV_NONE, M_FLOOR, NM };

static const char *const m_name[NM] = {
	"insert_ns", "remove_ns", "inval_one_ns", "inval_none_ns", "floor_ns",
};

/* madvise(MADV_DONTNEED) of @page: less than *@best ns per call? */
static void madvise_ns(char *page, double *best)
{
	int b, i;

	for (b = 0; b < INV_BATCHES; b++) {
		uint64_t t0 = now_ns();
		double ns;

		for (i = 0; i < INV_ITERS; i++)
			CHECK(!madvise(page, psz, MADV_DONTNEED), "madvise: %s",
			      strerror(errno));
		ns = (double)(now_ns() - t0) / INV_ITERS;
		if (ns < *best)
			*best = ns;
	}
}

/* The fastest batches of both pages, in rounds that alternate them. */
static void madvise_both(char *one, char *none, double *v_one, double *v_none)
{
	int r;

	for (r = 0; r < INV_ROUNDS; r++) {
		madvise_ns(one, v_one);
		if (none)
			madvise_ns(none, v_none);
	}
}

static void bench_set(int fd, unsigned long cmd, void *addr, long count,
		      struct mni_test_bench_set *set)
{
	*set = (struct mni_test_bench_set){
		.addr = (uintptr_t)addr, .len = psz, .stride = 2 * psz,
		.count = count,
	};
	CHECK(!ioctl(fd, cmd, set), "BENCH_%s %ld: %s",
	      cmd == MNI_TEST_IOC_BENCH_ADD ? "ADD" : "DEL", count,
	      strerror(errno));
}

/*
 * In a fresh mm: K subscriptions on the even pages of a PROT_NONE
 * reservation of 2K + 2 pages; the pages 2m (under subscription m) and
 * 2m + 1 (under none), m = K / 2 in the middle of the tree, mapped
 * read-write. A first subscription over the last page, through a file of
 * its own, registers the mm before the timed inserts, so they are all
 * the same kind. Writes the figures to @wfd.
 */
static void one_mm_child(long k, int wfd)
{
	struct mni_test_bench_set set;
	double v[NM] = { INFINITY, 0, INFINITY, INFINITY, INFINITY };
	int fd = open_dev(), fd_first = open_dev();
	char *resv, *one;

	resv = mmap(NULL, (2 * k + 2) * psz, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(resv != MAP_FAILED, "reserve %ld pages: %s", 2 * k + 2,
	      strerror(errno));
	one = resv + 2 * (k / 2) * psz;
	CHECK(mmap(one, 2 * psz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == one,
	      "map the test pages: %s", strerror(errno));
	one[0] = one[psz] = 1;

	madvise_both(one + psz, NULL, &v[M_FLOOR], NULL);
	bench_set(fd_first, MNI_TEST_IOC_BENCH_ADD, resv + (2 * k + 1) * psz,
		  1, &set);
	bench_set(fd, MNI_TEST_IOC_BENCH_ADD, resv, k, &set);
	v[M_INSERT] = (double)set.ns / k;
	madvise_both(one, one + psz, &v[M_INV_ONE], &v[M_INV_NONE]);
	bench_set(fd, MNI_TEST_IOC_BENCH_DEL, NULL, 0, &set);
	CHECK(set.count == (uint64_t)k, "BENCH_DEL removed %llu, not %ld",
	      (unsigned long long)set.count, k);
	v[M_REMOVE] = (double)set.ns / k;
	/* The floor again, the tree empty but for the first one. */
	madvise_both(one + psz, NULL, &v[M_FLOOR], NULL);
	CHECK(write(wfd, v, sizeof(v)) == sizeof(v), "write: %s",
	      strerror(errno));
	_exit(0);
}

static void test_one_mm_1e6(void)
{
	static const long ks[] = { 1000, 10000, 100000, 1000000 };
	long max_k = env_long("MNI_SCALE_MAX_K", 1000000);
	double v[ARRAY_SIZE(ks)][NM];
	unsigned int i, n = 0, m;
	int pfd[2], bad = 0;

	tap_diag("%s: | K | insert ns | remove ns | madvise, overlaps one, ns | overlaps none, ns | no subscription, ns |",
		 engine());
	for (i = 0; i < ARRAY_SIZE(ks) && ks[i] <= max_k; i++, n++) {
		uint64_t t0 = now_ns();
		pid_t pid;

		CHECK(!pipe(pfd), "pipe: %s", strerror(errno));
		pid = fork_child();
		if (!pid) {
			close(pfd[0]);
			one_mm_child(ks[i], pfd[1]);
		}
		close(pfd[1]);
		CHECK(read(pfd[0], v[i], sizeof(v[i])) == sizeof(v[i]),
		      "K=%ld: the child did not report", ks[i]);
		close(pfd[0]);
		wait_child_ok(pid);
		tap_diag("%s: | %ld | %.0f | %.0f | %.0f | %.0f | %.0f |  (%.1f s)",
			 engine(), ks[i], v[i][M_INSERT], v[i][M_REMOVE],
			 v[i][M_INV_ONE], v[i][M_INV_NONE], v[i][M_FLOOR],
			 (now_ns() - t0) / 1e9);
		for (m = 0; m < NM; m++)
			csv("onemm", ks[i], m_name[m], v[i][m]);
	}
	CHECK(n >= 2, "MNI_SCALE_MAX_K %ld: fewer than two K", max_k);
	for (m = 0; m < M_FLOOR; m++) {
		double g = v[n - 1][m] / v[0][m];

		tap_diag("%s: %s at K=%ld / at K=%ld: %.2f (bound %.1f)%s",
			 engine(), m_name[m], ks[n - 1], ks[0], g, LOG_BOUND,
			 g <= LOG_BOUND ? "" : "  EXCEEDED");
		csv("growth", ks[n - 1], m_name[m], g);
		bad += !(g <= LOG_BOUND);
	}
	CHECK(!bad, "%d per-operation costs grew faster than %.1f x from K=%ld to K=%ld",
	      bad, LOG_BOUND, ks[0], ks[n - 1]);
}

/* --------------------------------------------------------------- main */

#define TEST(id, secs)	{ .name = #id, .fn = test_##id, .timeout = secs }

static struct tap_test tests[] = {
	TEST(exit_all_at_once, 1200),
	TEST(one_mm_1e6, 1200),
};

int main(int argc, char **argv)
{
	return suite_main(argc, argv, &info, tests, ARRAY_SIZE(tests));
}
