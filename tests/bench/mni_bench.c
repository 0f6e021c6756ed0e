// SPDX-License-Identifier: GPL-2.0
/*
 * mni_bench.c - the kernel's interval notifier engine against
 * mmu_interval_notifier.ko, side by side in one boot
 *
 * usage: mni_bench [--smoke] [--reps N] [--only FIGURE]...
 *                  [--storm-samples N] [--storm-think-us N]
 *
 * Three configurations, each in a worker process of its own (its own mm):
 *   floor  no subscription in the mm at all
 *   kern   the mni_test driver against the kernel's engine (/dev/mni_test_kern)
 *   mni    the same driver against ours (/dev/mni_test_mni)
 * For every repetition of a case the three workers build the same address
 * space afresh and run one after the other, the order rotating from one
 * repetition to the next, so drift and noise of the (shared, emulated)
 * machine fall on all three alike; a warm-up round precedes the first.
 * All loops run on the first vCPU. A loop's repetition is a series of short
 * batches (about 2 ms each) and reports its fastest batch: the host stops
 * our vCPU for milliseconds at a time while the guest clock runs on.
 *
 * Figures (FIGURE names for --only):
 *   inval    madvise(MADV_DONTNEED), and munmap+mmap, of one 4 KiB page with
 *            K subscriptions in the mm, the page overlapping none or one
 *   wide     mprotect of a range that overlaps N one-page subscriptions
 *   read     read_begin + lock + read_retry, looped in the kernel
 *   insrem   insert + remove of one subscription with K present, in-kernel
 *   first    the first insert (and last remove) in a fresh mm: a forked
 *            child each, timed in the kernel around the one call
 *   contend  one thread (SCHED_FIFO, first vCPU) faulting its page through
 *            the driver after invalidating it, while two threads (second
 *            vCPU) invalidate unrelated pages, each under a subscription of
 *            its own; fault time in userspace
 *   storm    two threads (second vCPU) invalidate a stormed subscription
 *            whose callback sleeps STORM_SLOW_MS with its lock held, with
 *            random pauses; on the first vCPU, each ioctl timed in
 *            userspace: read_begin of a subscription just invalidated
 *            itself (its own, quick, invalidation over), insert of a new
 *            disjoint subscription with its first fault, and the remove of
 *            that subscription. No floor: the figure compares the engines'
 *            waits, one sample at a time (DESIGN.md 3.11)
 *   parallel two processes (each its own mm with K subscriptions, one per
 *            vCPU) insert + remove one subscription in the in-kernel loop
 *            at the same time; a batch is timed from the start of both to
 *            the end of the later one, and the aggregate throughput is
 *            both processes' operations over that time
 * The floor of the in-kernel loops is the same loop with the engine's calls
 * left out; the floor of contend's fault side is a CPU fault of the page.
 *
 * Output, on stdout: "meta,KEY,VALUE" lines, then one line per measurement
 *   csv,FIGURE,CASE,K,CONFIG,REP,METRIC,VALUE,ITERS
 * and "# ..." progress lines. tests/bench/report.py makes the table. The
 * storm also prints every sample, as METRIC "<op>_sample_ns" with the
 * sample's index in ITERS, so that the report can pool the repetitions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mirror.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

enum cfg { CFG_FLOOR, CFG_KERN, CFG_MNI, NCFG };

static const char *const cfg_name[NCFG] = { "floor", "kern", "mni" };

/* The floor opens a device too (for the in-kernel loops) but adds nothing. */
static const char *const cfg_dev[NCFG] = {
	"/dev/mni_test_kern", "/dev/mni_test_kern", "/dev/mni_test_mni",
};

enum setup { S_INVAL, S_WIDE, S_READ, S_INSREM, S_FRESH, S_CONTEND,
	     S_STORM, S_PAR, S_DEVICE };
enum run { R_MADVISE, R_MUNMAP, R_MPROTECT, R_READ, R_INSREM, R_FIRST,
	   R_CONTEND, R_STORM, R_PAR, R_UPDATE, R_FIRST_PREREG };

enum op { OP_SETUP, OP_RUN, OP_TEARDOWN, OP_EXIT };

struct cmd {
	int op;
	int setup;		/* enum setup */
	int run;		/* enum run */
	int overlap;		/* S_INVAL: the page overlaps one subscription */
	long k;			/* subscriptions */
	uint64_t iters;		/* loops: per batch, R_FIRST: children,
				 * R_STORM: samples of each operation
				 */
	uint64_t batches;	/* loops: batches per repetition */
	double secs;		/* R_CONTEND; R_STORM: the storm's limit */
	int rep;		/* R_STORM: printed with the samples; -1:
				 * warm-up, samples not printed
				 */
};

#define NVAL 13

struct reply {
	int err;		/* 0 or -errno */
	double v[NVAL];		/* R_CONTEND: p50, p99, fault/s, inval/s;
				 * R_FIRST: insert ns, remove ns (medians);
				 * R_STORM: see run_storm();
				 * loops: ns per operation of the fastest
				 * batch, and of all batches
				 */
};

/* ---------------------------------------------------------------- utils */

static size_t psz;
static bool smoke;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stdout, "# mni_bench[%d]: ", getpid());
	vfprintf(stdout, fmt, ap);
	fprintf(stdout, "\n");
	va_end(ap);
	fflush(stdout);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static uint64_t pct_u64(const uint64_t *v, size_t n, double p)
{
	size_t i = (size_t)(p / 100.0 * n + 0.999999);

	if (i < 1)
		i = 1;
	if (i > n)
		i = n;
	return v[i - 1];
}

/*
 * Pin the calling thread to the first CPU. The loops of all three
 * configurations run on one vCPU, so that whatever else the host runs on
 * the core under that vCPU falls on them alike.
 */
static void pin_first_cpu(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static int bench_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

/* ------------------------------------------------------------- workers */

struct worker {
	enum cfg cfg;
	int fd;
	/* S_INVAL, S_INSREM: a PROT_NONE reservation, subscriptions on its
	 * even pages, the test page (S_INVAL) or insert page (S_INSREM) on an
	 * odd page in the middle, so lookups descend the whole tree.
	 */
	char *resv;
	size_t resv_len;
	char *page;
	/* S_WIDE */
	char *area;
	size_t area_len;
	bool bench_set;		/* BENCH_ADD done */
	uint64_t id[3];		/* mirrors */
	int nid;
	/* S_CONTEND: the fault page and the two invalidators' pages */
	char *cpage[3];
	/* S_STORM: see setup_storm() */
	char *sarea;
	/* S_PAR: the two loop processes, their command pipes, one reply pipe */
	pid_t par_pid[2];
	int par_go[2];
	int par_done;
};

static char *map_anon(void *at, size_t len, int prot, int flags)
{
	char *p = mmap(at, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | flags,
		       -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (prot != PROT_NONE)
		madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

/* The simulated device of S_DEVICE: its teardown takes this long. */
#define DEVICE_NS	20000

static int bench_add_device(struct worker *w, void *addr, size_t len,
			    size_t stride, long count, uint64_t device_ns)
{
	struct mni_test_bench_set arg = {
		.addr = (uintptr_t)addr, .len = len, .stride = stride,
		.count = count, .device_ns = device_ns,
	};
	int ret;

	if (w->cfg == CFG_FLOOR || !count)
		return 0;
	ret = bench_ioctl(w->fd, MNI_TEST_IOC_BENCH_ADD, &arg);
	if (!ret)
		w->bench_set = true;
	return ret;
}

static int bench_add(struct worker *w, void *addr, size_t len, size_t stride,
		     long count)
{
	return bench_add_device(w, addr, len, stride, count, 0);
}

static int add_mirror(struct worker *w, void *addr, uint64_t flags)
{
	if (w->cfg == CFG_FLOOR)
		return 0;
	return mirror_add(w->fd, addr, psz, flags, &w->id[w->nid++]);
}

/* A reservation of 2k + 2 pages; @page gets the odd page in the middle. */
static int setup_resv(struct worker *w, long k, long nsubs, bool map_page)
{
	w->resv_len = (2 * k + 2) * psz;
	w->resv = map_anon(NULL, w->resv_len, PROT_NONE, MAP_NORESERVE);
	if (!w->resv)
		return -errno;
	w->page = w->resv + (2 * (k / 2) + 1) * psz;
	if (map_page) {
		if (!map_anon(w->page, psz, PROT_READ | PROT_WRITE, MAP_FIXED))
			return -errno;
		w->page[0] = 1;
	}
	return bench_add(w, w->resv, psz, 2 * psz, nsubs);
}

static int setup_contend(struct worker *w)
{
	int i, ret;

	for (i = 0; i < 3; i++) {
		/* A guard page apart, so no two share a VMA. */
		w->cpage[i] = map_anon(NULL, 2 * psz, PROT_READ | PROT_WRITE, 0);
		if (!w->cpage[i])
			return -errno;
		mprotect(w->cpage[i] + psz, psz, PROT_NONE);
		w->cpage[i][0] = 1;
		ret = add_mirror(w, w->cpage[i], i ? MNI_TEST_ADD_NOMIRROR : 0);
		if (ret)
			return ret;
	}
	return 0;
}

/* S_STORM: the pages of the storm's area, each a guard page apart. */
#define STORM_PG_S		0	/* 2 pages, one per storm thread */
#define STORM_PG_M		3	/* the measured subscription */
#define STORM_PG_C		5	/* the subscription inserted, removed */
#define STORM_PAGES		6
/* The stormed subscription's callback sleeps this long (SLOW). */
#define STORM_SLOW_MS		2
#define STORM_ID_S		0	/* worker.id[] of the stormed one */
#define STORM_ID_M		1	/* and of the measured one */

/*
 * The storm's mm: the stormed subscription S over pages 0-1, whose
 * blockable invalidations sleep STORM_SLOW_MS with its lock held; the
 * measured subscription M, a mirror of page 3, faulted once; page 5
 * populated for the subscription C that each sample inserts, faults and
 * removes.
 */
static int setup_storm(struct worker *w)
{
	int i, ret;

	if (w->cfg == CFG_FLOOR)
		return 0;
	w->sarea = map_anon(NULL, STORM_PAGES * psz, PROT_READ | PROT_WRITE,
			    0);
	if (!w->sarea)
		return -errno;
	for (i = 0; i < STORM_PAGES; i++)
		w->sarea[i * psz] = 1;
	ret = mirror_add(w->fd, w->sarea + STORM_PG_S * psz, 2 * psz,
			 MNI_TEST_ADD_NOMIRROR, &w->id[STORM_ID_S]);
	if (ret)
		return ret;
	w->nid++;
	ret = mirror_slow(w->fd, w->id[STORM_ID_S], STORM_SLOW_MS);
	if (ret)
		return ret;
	ret = mirror_add(w->fd, w->sarea + STORM_PG_M * psz, psz, 0,
			 &w->id[STORM_ID_M]);
	if (ret)
		return ret;
	w->nid++;
	return mirror_fault(w->fd, w->id[STORM_ID_M],
			    w->sarea + STORM_PG_M * psz, 1, 0, NULL);
}

static int run_loop(struct worker *w, unsigned long cmd, uint64_t iters,
		    uint64_t *ns);

/*
 * S_PAR, in loop process @i (a child of the worker, so an mm of its own):
 * on vCPU @i, a file of its own and @k subscriptions as S_INSREM sets
 * them up; then, for each iteration count read from @go, the in-kernel
 * insert + remove loop, its result on @done. EOF on @go ends it, and the
 * exit removes the subscriptions.
 */
static void par_main(struct worker *w, int i, long k, int go, int done)
{
	uint64_t iters, ns;
	cpu_set_t set;
	int ret;

	CPU_ZERO(&set);
	CPU_SET(sysconf(_SC_NPROCESSORS_ONLN) > 1 ? i : 0, &set);
	sched_setaffinity(0, sizeof(set), &set);
	close(w->fd);
	w->bench_set = false;
	w->fd = open(cfg_dev[w->cfg], O_RDWR | O_CLOEXEC);
	ret = w->fd < 0 ? -errno : setup_resv(w, k, k, false);
	while (read(go, &iters, sizeof(iters)) == sizeof(iters)) {
		ns = 0;
		if (!ret)
			ret = run_loop(w, MNI_TEST_IOC_BENCH_INSERT, iters, &ns);
		if (ret)
			ns = UINT64_MAX;
		if (write(done, &ns, sizeof(ns)) != sizeof(ns))
			break;
	}
	_exit(ret ? 1 : 0);
}

static int setup_par(struct worker *w, long k)
{
	int i, go[2], done[2];

	if (pipe(done))
		return -errno;
	w->par_done = done[0];
	for (i = 0; i < 2; i++) {
		/* Cloexec: the second must not hold the first's command pipe. */
		if (pipe2(go, O_CLOEXEC))
			return -errno;
		fflush(stdout);
		w->par_pid[i] = fork();
		if (w->par_pid[i] < 0)
			return -errno;
		if (!w->par_pid[i]) {
			close(go[1]);
			close(done[0]);
			if (i)
				close(w->par_go[0]);
			par_main(w, i, k, go[0], done[1]);
		}
		close(go[0]);
		w->par_go[i] = go[1];
	}
	close(done[1]);
	return 0;
}

/* Close the command pipes: the loop processes exit; 0 if both did so. */
static int teardown_par(struct worker *w)
{
	int i, st, ret = 0;

	for (i = 0; i < 2; i++)
		if (w->par_go[i] > 0)
			close(w->par_go[i]);
	for (i = 0; i < 2; i++) {
		if (w->par_pid[i] > 0 &&
		    (waitpid(w->par_pid[i], &st, 0) != w->par_pid[i] ||
		     !WIFEXITED(st) || WEXITSTATUS(st)))
			ret = -ECHILD;
	}
	if (w->par_done > 0)
		close(w->par_done);
	return ret;
}

static int do_setup(struct worker *w, const struct cmd *c)
{
	long i;
	int ret;

	switch (c->setup) {
	case S_INVAL:
		ret = setup_resv(w, c->k, c->overlap ? c->k - 1 : c->k, true);
		if (!ret && c->overlap)
			ret = add_mirror(w, w->page, 0);
		return ret;
	case S_WIDE:
	case S_DEVICE:
		w->area_len = c->k * psz;
		w->area = map_anon(NULL, w->area_len, PROT_READ | PROT_WRITE, 0);
		if (!w->area)
			return -errno;
		for (i = 0; i < c->k; i++)
			w->area[i * psz] = 1;
		return bench_add_device(w, w->area, psz, psz, c->k,
					c->setup == S_DEVICE ? DEVICE_NS : 0);
	case S_READ:
		w->page = map_anon(NULL, psz, PROT_READ | PROT_WRITE, 0);
		if (!w->page)
			return -errno;
		w->page[0] = 1;
		ret = add_mirror(w, w->page, 0);
		if (!ret && w->cfg != CFG_FLOOR)
			ret = mirror_fault(w->fd, w->id[0], w->page, 1, 0, NULL);
		return ret;
	case S_INSREM:
		return setup_resv(w, c->k, c->k, false);
	case S_FRESH:
		return 0;
	case S_CONTEND:
		return setup_contend(w);
	case S_STORM:
		return setup_storm(w);
	case S_PAR:
		return setup_par(w, c->k);
	}
	return -EINVAL;
}

static int do_teardown(struct worker *w)
{
	struct mni_test_bench_set set = { 0 };
	int i, ret = 0;

	/* The stormed subscription's SLOW would only slow the munmap. */
	if (w->sarea && w->nid)
		ret = mirror_slow(w->fd, w->id[STORM_ID_S], 0);
	for (i = 0; i < w->nid; i++)
		ret = ret ?: mirror_del(w->fd, w->id[i]);
	if (w->bench_set)
		ret = ret ?: bench_ioctl(w->fd, MNI_TEST_IOC_BENCH_DEL, &set);
	if (w->resv)
		munmap(w->resv, w->resv_len);
	if (w->area)
		munmap(w->area, w->area_len);
	for (i = 0; i < 3; i++)
		if (w->cpage[i])
			munmap(w->cpage[i], 2 * psz);
	if (!w->resv && w->page)
		munmap(w->page, psz);
	if (w->sarea)
		munmap(w->sarea, STORM_PAGES * psz);
	if (w->par_pid[0])
		ret = ret ?: teardown_par(w);
	memset(&w->resv, 0, sizeof(*w) - offsetof(struct worker, resv));
	return ret;
}

/*
 * One batch of each loop: @iters operations, their time in *ns.
 * do_run() strings batches together, see there.
 */
static int run_madvise(struct worker *w, uint64_t iters, uint64_t *ns)
{
	uint64_t i, t0 = now_ns();

	for (i = 0; i < iters; i++)
		if (madvise(w->page, psz, MADV_DONTNEED))
			return -errno;
	*ns = now_ns() - t0;
	return 0;
}

static int run_munmap(struct worker *w, uint64_t iters, uint64_t *ns)
{
	uint64_t i, t0 = now_ns();

	for (i = 0; i < iters; i++) {
		if (munmap(w->page, psz))
			return -errno;
		if (mmap(w->page, psz, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) !=
		    w->page)
			return -errno;
	}
	*ns = now_ns() - t0;
	return 0;
}

/* An even count, so each batch does as many RW->R as R->RW. */
static int run_mprotect(struct worker *w, uint64_t iters, uint64_t *ns)
{
	uint64_t i, t0 = now_ns();

	for (i = 0; i < iters; i++) {
		int prot = i & 1 ? PROT_READ | PROT_WRITE : PROT_READ;

		if (mprotect(w->area, w->area_len, prot))
			return -errno;
	}
	*ns = now_ns() - t0;
	return 0;
}

/* An in-kernel loop: the driver times it. */
static int run_loop(struct worker *w, unsigned long cmd, uint64_t iters,
		    uint64_t *ns)
{
	struct mni_test_bench_loop arg = {
		.id = w->nid ? w->id[0] : 0,
		.addr = (uintptr_t)w->page,
		.len = psz,
		.iters = iters,
		.flags = w->cfg == CFG_FLOOR ? MNI_TEST_BENCH_FLOOR : 0,
	};
	int ret = bench_ioctl(w->fd, cmd, &arg);

	*ns = arg.ns;
	return ret;
}

/*
 * @iters moves of one subscription over the insert page: ours updates it
 * in place, the kernel's flavour removes and inserts it (the upstream way).
 */
static int run_update(struct worker *w, uint64_t iters, uint64_t *ns)
{
	struct mni_test_bench_loop arg = {
		.addr = (uintptr_t)w->page,
		.len = psz,
		.iters = iters,
		.flags = w->cfg == CFG_FLOOR ? MNI_TEST_BENCH_FLOOR :
					       MNI_TEST_BENCH_UPDATE,
	};
	int ret = bench_ioctl(w->fd, MNI_TEST_IOC_BENCH_INSERT, &arg);

	*ns = arg.ns;
	return ret;
}

/*
 * Both loop processes run @iters insert + remove each; *ns from the
 * command to the later one's reply.
 */
static int run_par(struct worker *w, uint64_t iters, uint64_t *ns)
{
	uint64_t t0 = now_ns(), r;
	int i;

	for (i = 0; i < 2; i++)
		if (write(w->par_go[i], &iters, sizeof(iters)) != sizeof(iters))
			return -EPIPE;
	for (i = 0; i < 2; i++)
		if (read(w->par_done, &r, sizeof(r)) != sizeof(r) ||
		    r == UINT64_MAX)
			return -EIO;
	*ns = now_ns() - t0;
	return 0;
}

static int run_batch(struct worker *w, int run, uint64_t iters, uint64_t *ns)
{
	switch (run) {
	case R_MADVISE:
		return run_madvise(w, iters, ns);
	case R_MUNMAP:
		return run_munmap(w, iters, ns);
	case R_MPROTECT:
		return run_mprotect(w, iters, ns);
	case R_READ:
		return run_loop(w, MNI_TEST_IOC_BENCH_READ, iters, ns);
	case R_INSREM:
		return run_loop(w, MNI_TEST_IOC_BENCH_INSERT, iters, ns);
	case R_PAR:
		return run_par(w, iters, ns);
	case R_UPDATE:
		return run_update(w, iters, ns);
	}
	return -EINVAL;
}

/*
 * One repetition of a loop: @batches batches of @iters operations.
 * v[0] is the fastest batch's ns per operation, v[1] the mean over all.
 * The host runs other work on its two cores, which stops our vCPU for
 * milliseconds at a time while the guest's clock runs on; batches of a
 * millisecond or two, and the fastest of them, see past that.
 */
static int run_batches(struct worker *w, const struct cmd *c,
		       struct reply *r)
{
	uint64_t b, ns, total = 0, best = UINT64_MAX;
	int ret;

	for (b = 0; b < c->batches; b++) {
		ret = run_batch(w, c->run, c->iters, &ns);
		if (ret)
			return ret;
		total += ns;
		if (ns < best)
			best = ns;
	}
	r->v[0] = (double)best / c->iters;
	r->v[1] = (double)total / (c->iters * c->batches);
	return 0;
}

/* A page for the children of run_first() to subscribe to. */
static char first_page[1 << 16] __attribute__((aligned(1 << 16)));

/*
 * @prereg: the mm is pre-registered first, untimed, on a file of the
 * child's own (MM_GET pins one mm per file): ours mni_mm_get(), the
 * kernel's flavour UVM's __mmu_notifier_register(NULL).
 */
static int first_child(struct worker *w, int wfd, bool prereg)
{
	struct mni_test_bench_loop arg = {
		.addr = (uintptr_t)first_page,
		.len = psz,
		.iters = 1,
		.flags = MNI_TEST_BENCH_SPLIT |
			 (w->cfg == CFG_FLOOR ? MNI_TEST_BENCH_FLOOR : 0),
	};
	bool pin = prereg && w->cfg != CFG_FLOOR;
	int fd = w->fd, ret = 0;
	uint64_t out[2];

	if (prereg) {
		fd = open(cfg_dev[w->cfg], O_RDWR | O_CLOEXEC);
		if (fd < 0)
			ret = -errno;
	}
	if (!ret && pin && ioctl(fd, MNI_TEST_IOC_MM_GET))
		ret = -errno;
	if (!ret)
		ret = bench_ioctl(fd, MNI_TEST_IOC_BENCH_INSERT, &arg);
	if (!ret && pin && ioctl(fd, MNI_TEST_IOC_MM_PUT))
		ret = -errno;
	out[0] = ret ? UINT64_MAX : arg.ns;
	out[1] = ret ? UINT64_MAX : arg.ns2;
	return write(wfd, out, sizeof(out)) == sizeof(out) && !ret ? 0 : 1;
}

static int run_first(struct worker *w, uint64_t children, struct reply *r,
		     bool prereg)
{
	uint64_t *ins = calloc(children, sizeof(*ins));
	uint64_t *rem = calloc(children, sizeof(*rem));
	uint64_t i, out[2];
	int pfd[2], st, ret = 0;
	pid_t pid;

	if (!ins || !rem || pipe(pfd))
		return -ENOMEM;
	for (i = 0; i < children && !ret; i++) {
		pid = fork();
		if (pid < 0) {
			ret = -errno;
			break;
		}
		if (!pid)
			_exit(first_child(w, pfd[1], prereg));
		if (read(pfd[0], out, sizeof(out)) != sizeof(out) ||
		    out[0] == UINT64_MAX)
			ret = -EIO;
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
		    WEXITSTATUS(st))
			ret = ret ?: -ECHILD;
		ins[i] = out[0];
		rem[i] = out[1];
	}
	close(pfd[0]);
	close(pfd[1]);
	if (!ret) {
		qsort(ins, children, sizeof(*ins), cmp_u64);
		qsort(rem, children, sizeof(*rem), cmp_u64);
		r->v[0] = pct_u64(ins, children, 50);
		r->v[1] = pct_u64(rem, children, 50);
	}
	free(ins);
	free(rem);
	return ret;
}

/* ------------------------------------------------------------ contend */

/* An invalidator's pause between two invalidations, see inval_main(). */
#define INVAL_THINK_NS		10000

/* Run the calling thread on the second vCPU (the only one on a 1-CPU guest). */
static void pin_to_second_cpu(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(sysconf(_SC_NPROCESSORS_ONLN) > 1, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

struct inval_thread {
	pthread_t tid;
	char *page;
	volatile int *stop;
	pthread_barrier_t *go;
	uint64_t ops;
	int err;
};

static void *inval_main(void *p)
{
	struct inval_thread *t = p;

	/* The fault thread keeps the first vCPU; these share the second. */
	pin_to_second_cpu();
	pthread_barrier_wait(t->go);
	while (!__atomic_load_n(t->stop, __ATOMIC_RELAXED)) {
		uint64_t t0;

		if (madvise(t->page, psz, MADV_DONTNEED)) {
			t->err = -errno;
			break;
		}
		t->ops++;
		/*
		 * Think time in userspace. Without it the two threads, which
		 * share a vCPU, are nearly always switched at a preemption
		 * point inside an invalidation (cond_resched() in the zap),
		 * the other thread's invalidations overlap it, and the mm's
		 * invalidation epoch stays open for seconds: both engines
		 * then starve the fault thread (the weakness DESIGN.md 3.11
		 * describes), and p99 measures that luck, not the engines.
		 */
		t0 = now_ns();
		while (now_ns() - t0 < INVAL_THINK_NS)
			;
	}
	return NULL;
}

#define CONTEND_MAX_SAMPLES	(1u << 21)

static uint64_t contend_samples[CONTEND_MAX_SAMPLES];

/* One fault of the page after an invalidation of it; its time in ns. */
static int contend_fault(struct worker *w, uint64_t *ns)
{
	uint64_t t0;
	int ret = 0;

	if (madvise(w->cpage[0], psz, MADV_DONTNEED))
		return -errno;
	t0 = now_ns();
	if (w->cfg == CFG_FLOOR)
		*(volatile char *)w->cpage[0] = 1;
	else
		ret = mirror_fault(w->fd, w->id[0], w->cpage[0], 1,
				   MNI_TEST_FAULT_WRITE, NULL);
	*ns = now_ns() - t0;
	return ret;
}

static int run_contend(struct worker *w, double secs, struct reply *r)
{
	struct sched_param rt = { .sched_priority = 1 }, other = { 0 };
	struct inval_thread th[2];
	volatile int stop = 0;
	bool fifo;
	pthread_barrier_t go;
	uint64_t t0, end, n = 0, elapsed;
	int i, ret = 0;

	pthread_barrier_init(&go, NULL, 3);
	for (i = 0; i < 2; i++) {
		th[i] = (struct inval_thread){
			.page = w->cpage[i + 1], .stop = &stop, .go = &go,
		};
		if (pthread_create(&th[i].tid, NULL, inval_main, &th[i]))
			die("pthread_create failed");
	}
	pthread_barrier_wait(&go);
	/* After the invalidators are created, which would inherit it. */
	fifo = !pthread_setschedparam(pthread_self(), SCHED_FIFO, &rt);
	t0 = now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	while (n < CONTEND_MAX_SAMPLES) {
		ret = contend_fault(w, &contend_samples[n]);
		if (ret)
			break;
		n++;
		if (now_ns() >= end)
			break;
	}
	elapsed = now_ns() - t0;
	if (fifo)
		pthread_setschedparam(pthread_self(), SCHED_OTHER, &other);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 2; i++) {
		pthread_join(th[i].tid, NULL);
		ret = ret ?: th[i].err;
	}
	pthread_barrier_destroy(&go);
	if (ret || !n)
		return ret ?: -EIO;

	qsort(contend_samples, n, sizeof(*contend_samples), cmp_u64);
	r->v[0] = pct_u64(contend_samples, n, 50);
	r->v[1] = pct_u64(contend_samples, n, 99);
	r->v[2] = n / (elapsed / 1e9);
	r->v[3] = (th[0].ops + th[1].ops) / (elapsed / 1e9);
	if (!fifo)
		printf("# contend: no SCHED_FIFO for the fault thread\n");
	return 0;
}

/* -------------------------------------------------------------- storm */

/* A storm thread's mean pause between invalidations, see storm_main(). */
static long storm_think_us = 10000;
/* Between two timed operations: a random pause of up to this long. */
#define STORM_PAUSE_MAX_US	4000
/* The storm runs at least this long before the first sample. */
#define STORM_LEAD_MS		50

struct storm_thread {
	pthread_t tid;
	char *page;		/* its page of the stormed range */
	volatile int *stop;
	uint64_t deadline;	/* stops then even if not told to */
	pthread_barrier_t *go;
	uint64_t ops;		/* invalidations */
	uint64_t busy_ns;	/* time spent in them */
	uint64_t rng;		/* its pauses */
	int err;
};

/* xorshift64: the pauses, the same sequences for both engines of a rep. */
static uint64_t storm_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, us % 1000000 * 1000 };

	while (us > 0 && clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

/*
 * One storm thread: invalidate its page of the stormed range over and
 * over. Each invalidation is blockable (MADV_DONTNEED), so the stormed
 * subscription's callback sleeps STORM_SLOW_MS with the subscription's
 * lock held, and the two threads take turns behind that lock.
 *
 * Between two invalidations a thread pauses for a random time, uniform
 * in [0, 2 * storm_think_us]. Without pauses one of the two threads is
 * always in flight: the kernel's engine then never closes its epoch, and
 * its read_begin() waits for the whole storm (run_storm()'s time limit).
 * With them its epoch closes at irregular intervals, the storm a driver
 * meets from an application that unmaps parts of a buffer from two
 * threads as it works.
 */
static void *storm_main(void *p)
{
	struct storm_thread *t = p;

	/* The measuring thread keeps the first vCPU; these share the second. */
	pin_to_second_cpu();
	pthread_barrier_wait(t->go);
	while (!__atomic_load_n(t->stop, __ATOMIC_RELAXED)) {
		uint64_t t0 = now_ns();

		if (t0 >= t->deadline)
			break;
		if (madvise(t->page, psz, MADV_DONTNEED)) {
			t->err = -errno;
			break;
		}
		t->busy_ns += now_ns() - t0;
		t->ops++;
		sleep_us(storm_rand(&t->rng) % (2 * storm_think_us + 1));
	}
	return NULL;
}

/*
 * A random pause before each timed operation, so that the operations
 * land at random points of the storm's cycle rather than right after the
 * previous one returned (on the kernel's engine: right after the epoch
 * closed, when the next operation would not wait).
 */
static void storm_pause(uint64_t *rng)
{
	sleep_us(storm_rand(rng) % STORM_PAUSE_MAX_US);
}

enum { ST_READ, ST_INSERT, ST_REMOVE, NST };

static const char *const storm_op[NST] = {
	"read_begin", "insert_fault", "remove",
};

#define STORM_MAX_SAMPLES	4096

static uint64_t storm_samples[NST][STORM_MAX_SAMPLES];

/* One sample of each operation; *late when one ended after @deadline. */
static int storm_sample(struct worker *w, uint64_t i, uint64_t *rng,
			uint64_t deadline, bool *late)
{
	char *mpage = w->sarea + STORM_PG_M * psz;
	char *cpage = w->sarea + STORM_PG_C * psz;
	struct mni_test_fault f = { 0 };
	uint64_t mid = w->id[STORM_ID_M], cid, seq, t0, t1;
	int ret;

	/* M's own invalidation, over before its read_begin. */
	storm_pause(rng);
	if (madvise(mpage, psz, MADV_DONTNEED))
		return -errno;
	t0 = now_ns();
	ret = mirror_seq_begin(w->fd, mid, &seq);
	t1 = now_ns();
	if (ret)
		return ret;
	storm_samples[ST_READ][i] = t1 - t0;

	storm_pause(rng);
	t0 = now_ns();
	ret = mirror_add(w->fd, cpage, psz, 0, &cid);
	if (ret)
		return ret;
	ret = mirror_fault(w->fd, cid, cpage, 1, MNI_TEST_FAULT_WRITE, &f);
	t1 = now_ns();
	if (!ret && f.pages != 1)
		ret = -EIO;
	if (ret) {
		mirror_del(w->fd, cid);
		return ret;
	}
	storm_samples[ST_INSERT][i] = t1 - t0;

	storm_pause(rng);
	t0 = now_ns();
	ret = mirror_del(w->fd, cid);
	t1 = now_ns();
	if (ret)
		return ret;
	storm_samples[ST_REMOVE][i] = t1 - t0;
	*late = t1 >= deadline;
	return 0;
}

/*
 * The storm figure, one repetition: c->iters samples of each operation
 * while two threads storm the stormed subscription. Prints the samples
 * (unless a warm-up) and replies, per operation, p50, p90 and max in ns
 * (v[0..8], read_begin, insert_fault, remove), then the storm's mean
 * invalidation time in ns and its invalidations per second (v[9], v[10]),
 * the samples taken (v[11]) and 1 if the storm's time limit cut the run
 * short (v[12]). The limit (c->secs) bounds a run on an engine whose
 * waits never end while the storm goes on: the run stops at the first
 * sample that ended after it, which is kept (a wait cut short).
 */
static int run_storm(struct worker *w, const struct cmd *c, struct reply *r)
{
	struct storm_thread th[2];
	volatile int stop = 0;
	pthread_barrier_t go;
	uint64_t rng = 0x9e3779b97f4a7c15ull * (uint64_t)(c->rep + 2);
	uint64_t t0, elapsed, deadline, n = 0, late_n = 0, ops = 0, busy = 0;
	uint64_t iters = c->iters < STORM_MAX_SAMPLES ? c->iters :
			 STORM_MAX_SAMPLES;
	int i, j, ret = 0;

	pthread_barrier_init(&go, NULL, 3);
	t0 = now_ns();
	deadline = t0 + (uint64_t)(c->secs * 1e9);
	for (i = 0; i < 2; i++) {
		th[i] = (struct storm_thread){
			.page = w->sarea + (STORM_PG_S + i) * psz,
			.stop = &stop, .deadline = deadline, .go = &go,
			.rng = rng + i + 1,
		};
		if (pthread_create(&th[i].tid, NULL, storm_main, &th[i]))
			die("pthread_create failed");
	}
	pthread_barrier_wait(&go);
	sleep_us(STORM_LEAD_MS * 1000);
	while (n < iters) {
		bool late = false;

		ret = storm_sample(w, n, &rng, deadline, &late);
		if (ret)
			break;
		n++;
		if (late) {
			late_n++;
			break;
		}
	}
	elapsed = now_ns() - t0;
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 2; i++) {
		pthread_join(th[i].tid, NULL);
		ret = ret ?: th[i].err;
		ops += th[i].ops;
		busy += th[i].busy_ns;
	}
	pthread_barrier_destroy(&go);
	if (ret || !n || !ops)
		return ret ?: -EIO;

	for (j = 0; j < NST; j++) {
		if (c->rep >= 0)
			for (i = 0; i < (int)n; i++)
				printf("csv,storm,%s,1,%s,%d,%s_sample_ns,%llu,%d\n",
				       "2-slow-invalidators", cfg_name[w->cfg],
				       c->rep, storm_op[j],
				       (unsigned long long)storm_samples[j][i],
				       i);
		qsort(storm_samples[j], n, sizeof(**storm_samples), cmp_u64);
		r->v[3 * j] = pct_u64(storm_samples[j], n, 50);
		r->v[3 * j + 1] = pct_u64(storm_samples[j], n, 90);
		r->v[3 * j + 2] = storm_samples[j][n - 1];
	}
	if (n < iters)
		printf("# storm %s: %llu of %llu samples within the %.0f s limit\n",
		       cfg_name[w->cfg], (unsigned long long)n,
		       (unsigned long long)iters, c->secs);
	/* Before the reply: the worker leaves through _exit(). */
	fflush(stdout);
	r->v[9] = (double)busy / ops;
	r->v[10] = ops / (elapsed / 1e9);
	r->v[11] = n;
	r->v[12] = late_n;
	return 0;
}

static int do_run(struct worker *w, const struct cmd *c, struct reply *r)
{
	int ret;

	switch (c->run) {
	case R_FIRST:
		return run_first(w, c->iters, r, false);
	case R_FIRST_PREREG:
		return run_first(w, c->iters, r, true);
	case R_CONTEND:
		return run_contend(w, c->secs, r);
	case R_STORM:
		return run_storm(w, c, r);
	case R_PAR:
		/* Aggregate: both processes' operations in a batch's time. */
		ret = run_batches(w, c, r);
		r->v[0] /= 2;
		r->v[1] /= 2;
		r->v[2] = 1e9 / r->v[0];
		return ret;
	}
	return run_batches(w, c, r);
}

static void worker_main(enum cfg cfg, int rfd, int wfd)
{
	struct worker w = { .cfg = cfg };
	struct reply r;
	struct cmd c;

	pin_first_cpu();
	w.fd = open(cfg_dev[cfg], O_RDWR | O_CLOEXEC);
	if (w.fd < 0)
		die("open %s: %s", cfg_dev[cfg], strerror(errno));
	while (read(rfd, &c, sizeof(c)) == sizeof(c)) {
		memset(&r, 0, sizeof(r));
		switch (c.op) {
		case OP_SETUP:
			r.err = do_setup(&w, &c);
			break;
		case OP_RUN:
			r.err = do_run(&w, &c, &r);
			break;
		case OP_TEARDOWN:
			r.err = do_teardown(&w);
			break;
		case OP_EXIT:
			_exit(0);
		}
		if (write(wfd, &r, sizeof(r)) != sizeof(r))
			_exit(1);
	}
	_exit(0);
}

/* -------------------------------------------------------------- parent */

struct worker_link {
	pid_t pid;
	int cmd_fd;
	int reply_fd;
};

static struct worker_link links[NCFG];

static void spawn_workers(void)
{
	int c, to[2], from[2];

	fflush(stdout);
	for (c = 0; c < NCFG; c++) {
		if (pipe(to) || pipe(from))
			die("pipe: %s", strerror(errno));
		links[c].pid = fork();
		if (links[c].pid < 0)
			die("fork: %s", strerror(errno));
		if (!links[c].pid) {
			close(to[1]);
			close(from[0]);
			worker_main(c, to[0], from[1]);
		}
		close(to[0]);
		close(from[1]);
		links[c].cmd_fd = to[1];
		links[c].reply_fd = from[0];
	}
}

static void stop_workers(void)
{
	struct cmd c = { .op = OP_EXIT };
	int i;

	for (i = 0; i < NCFG; i++) {
		if (write(links[i].cmd_fd, &c, sizeof(c)) != sizeof(c))
			die("worker %s gone", cfg_name[i]);
		waitpid(links[i].pid, NULL, 0);
		/* Each repetition spawns anew: keep no pipe of this one. */
		close(links[i].cmd_fd);
		close(links[i].reply_fd);
	}
}

static struct reply ask(enum cfg cfg, const struct cmd *c)
{
	struct reply r;

	if (write(links[cfg].cmd_fd, c, sizeof(*c)) != sizeof(*c) ||
	    read(links[cfg].reply_fd, &r, sizeof(r)) != sizeof(r))
		die("worker %s gone", cfg_name[cfg]);
	if (r.err)
		die("worker %s: op %d setup %d run %d k %ld: %s", cfg_name[cfg],
		    c->op, c->setup, c->run, c->k, strerror(-r.err));
	return r;
}

static void ask_all(struct cmd c)
{
	int i;

	for (i = 0; i < NCFG; i++)
		ask(i, &c);
}

struct bench_case {
	const char *figure;
	const char *name;
	int setup;
	int run;
	int overlap;
	long k;
	uint64_t iters0;	/* first guess; 0: fixed @iters0 below */
	const char *metrics[NVAL];
};

/* The storm compares the engines' waits: it has no floor. */
static bool has_floor(const struct bench_case *bc)
{
	return bc->run != R_STORM;
}

static int reps = 7;
static double batch_ms = 2;		/* one batch of a loop */
static uint64_t batches = 40;		/* batches per repetition */
static uint64_t first_children = 40;
static double contend_secs = 2.0;
static uint64_t storm_iters = 40;	/* samples per repetition */
static double storm_secs = 30;		/* the storm's limit, see run_storm() */

/*
 * Find the loop length that makes one batch last batch_ms: double it until
 * the fastest of three batches takes a quarter of that, then scale. Even,
 * for run_mprotect().
 */
static uint64_t calibrate(const struct bench_case *bc)
{
	struct cmd c = { .op = OP_RUN, .setup = bc->setup, .run = bc->run,
			 .overlap = bc->overlap, .k = bc->k,
			 .iters = bc->iters0, .batches = 3 };
	struct reply r;
	double iters;

	for (;;) {
		r = ask(CFG_KERN, &c);
		if (r.v[0] * c.iters >= batch_ms * 1e6 / 4 || c.iters >= 1e8)
			break;
		c.iters *= 2;
	}
	iters = batch_ms * 1e6 / (r.v[0] > 0 ? r.v[0] : 1);
	if (iters < bc->iters0)
		iters = bc->iters0;
	if (iters > 1e8)
		iters = 1e8;
	return ((uint64_t)iters + 1) & ~1ull;
}

static void emit(const struct bench_case *bc, enum cfg cfg, int rep,
		 const struct reply *r, uint64_t iters)
{
	int i;

	for (i = 0; i < NVAL; i++) {
		if (!bc->metrics[i])
			continue;
		printf("csv,%s,%s,%ld,%s,%d,%s,%.6g,%llu\n", bc->figure,
		       bc->name, bc->k, cfg_name[cfg], rep, bc->metrics[i],
		       r->v[i], (unsigned long long)iters);
	}
	fflush(stdout);
}

/* The command that runs one repetition of @bc; calibrates loops. */
static struct cmd case_cmd(const struct bench_case *bc)
{
	struct cmd c = { .op = OP_RUN, .setup = bc->setup, .run = bc->run,
			 .overlap = bc->overlap, .k = bc->k };

	if (bc->run == R_FIRST || bc->run == R_FIRST_PREREG) {
		c.iters = first_children;
	} else if (bc->run == R_CONTEND) {
		c.secs = contend_secs;
	} else if (bc->run == R_STORM) {
		c.iters = storm_iters;
		c.secs = storm_secs;
	} else {
		c.iters = calibrate(bc);
		c.batches = batches;
	}
	return c;
}

/* One repetition of @bc: each configuration once, in rotating order. */
static void run_rep(const struct bench_case *bc, const struct cmd *c, int rep)
{
	struct cmd rc = *c;
	struct reply r;
	int i;

	rc.rep = rep;
	for (i = 0; i < NCFG; i++) {
		enum cfg cfg = (rep + i) % NCFG;

		if (cfg == CFG_FLOOR && !has_floor(bc))
			continue;
		r = ask(cfg, &rc);
		emit(bc, cfg, rep, &r, c->iters * (c->batches ? c->batches : 1));
	}
}

#define NS_OP { "ns_per_op", "ns_per_op_mean" }

static const long ks[] = { 1, 1000, 100000 };
static const long par_ks[] = { 1, 1000 };
static const long wides[] = { 1, 64, 4096 };

static bool wanted(const char *figure, char **only, int nonly)
{
	int i;

	if (!nonly)
		return true;
	for (i = 0; i < nonly; i++)
		if (!strcmp(only[i], figure))
			return true;
	return false;
}

/*
 * Every repetition starts new worker processes and builds their address
 * spaces afresh: under TCG a few percent of an operation's cost depends on
 * where its objects landed (kernel stack, mm, page tables, subscriptions;
 * QEMU's software TLB is direct mapped), which would otherwise be fixed for
 * the whole boot and tilt a figure one way. A warm-up round of every
 * configuration precedes the first repetition.
 */
static void run_setup(struct cmd setup, const struct bench_case *cases,
		      int ncases)
{
	struct cmd c[8];
	uint64_t t0 = now_ns();
	int i, rep, cfg;

	for (rep = 0; rep < reps; rep++) {
		spawn_workers();
		setup.op = OP_SETUP;
		ask_all(setup);
		for (i = 0; i < ncases; i++) {
			if (!rep) {
				struct cmd warm;

				c[i] = case_cmd(&cases[i]);
				warm = c[i];
				warm.rep = -1;
				if (warm.run == R_STORM)
					warm.iters = (warm.iters + 3) / 4;
				for (cfg = 0; cfg < NCFG; cfg++)
					if (cfg != CFG_FLOOR || has_floor(&cases[i]))
						ask(cfg, &warm);
			}
			run_rep(&cases[i], &c[i], rep);
		}
		setup.op = OP_TEARDOWN;
		ask_all(setup);
		stop_workers();
	}
	for (i = 0; i < ncases; i++)
		printf("# %s/%s k=%ld: %d x %llu x %llu iterations\n",
		       cases[i].figure, cases[i].name, cases[i].k, reps,
		       (unsigned long long)c[i].batches,
		       (unsigned long long)c[i].iters);
	printf("# set-up %d k=%ld overlap=%d: %.1f s\n", setup.setup, setup.k,
	       setup.overlap, (now_ns() - t0) / 1e9);
	fflush(stdout);
}

static void bench_inval(void)
{
	unsigned int i;
	int ov;

	for (i = 0; i < ARRAY_SIZE(ks); i++) {
		for (ov = 0; ov < 2; ov++) {
			struct bench_case cases[] = {
				{ "inval", ov ? "madvise-one" : "madvise-none",
				  S_INVAL, R_MADVISE, ov, ks[i], 64, NS_OP },
				{ "inval", ov ? "munmap-one" : "munmap-none",
				  S_INVAL, R_MUNMAP, ov, ks[i], 32, NS_OP },
			};
			struct cmd s = { .setup = S_INVAL, .overlap = ov,
					 .k = ks[i] };

			run_setup(s, cases, ARRAY_SIZE(cases));
		}
	}
}

static void bench_wide(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(wides); i++) {
		struct bench_case bc = { "wide", "mprotect", S_WIDE,
					 R_MPROTECT, 0, wides[i], 8, NS_OP };
		struct cmd s = { .setup = S_WIDE, .k = wides[i] };

		run_setup(s, &bc, 1);
	}
}

static void bench_read(void)
{
	struct bench_case bc = { "read", "read_begin+retry", S_READ, R_READ,
				 0, 1, 4096, NS_OP };
	struct cmd s = { .setup = S_READ, .k = 1 };

	run_setup(s, &bc, 1);
}

static void bench_insrem(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ks); i++) {
		struct bench_case bc = { "insrem", "insert+remove", S_INSREM,
					 R_INSREM, 0, ks[i], 1024, NS_OP };
		struct cmd s = { .setup = S_INSREM, .k = ks[i] };

		run_setup(s, &bc, 1);
	}
}

/*
 * mprotect over K subscriptions whose simulated device takes DEVICE_NS to
 * tear down: ours with mni's two-pass ops (every start, then the finishes
 * wait: about one device time), the kernel's flavour with one pass, each
 * callback waiting in turn (K device times), as drivers do before 7.1.
 */
static void bench_twopass(void)
{
	static const long dks[] = { 1, 16, 64 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(dks); i++) {
		struct bench_case bc = { "twopass", "mprotect-device", S_DEVICE,
					 R_MPROTECT, 0, dks[i], 8, NS_OP };
		struct cmd s = { .setup = S_DEVICE, .k = dks[i] };

		run_setup(s, &bc, 1);
	}
}

static void bench_update(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ks); i++) {
		struct bench_case bc = { "update", "update", S_INSREM,
					 R_UPDATE, 0, ks[i], 1024, NS_OP };
		struct cmd s = { .setup = S_INSREM, .k = ks[i] };

		run_setup(s, &bc, 1);
	}
}

static void bench_first(void)
{
	struct bench_case bc = { "first", "first-insert", S_FRESH, R_FIRST,
				 0, 0, 0, { "insert_ns", "remove_ns" } };
	struct cmd s = { .setup = S_FRESH };

	run_setup(s, &bc, 1);
}

static void bench_first_prereg(void)
{
	struct bench_case bc = { "first-prereg", "first-insert-prereg",
				 S_FRESH, R_FIRST_PREREG, 0, 0, 0,
				 { "insert_ns", "remove_ns" } };
	struct cmd s = { .setup = S_FRESH };

	run_setup(s, &bc, 1);
}

static void bench_contend(void)
{
	struct bench_case bc = {
		"contend", "fault-vs-2-invalidators", S_CONTEND, R_CONTEND, 0,
		1, 0,
		{ "fault_p50_ns", "fault_p99_ns", "fault_ops_s",
		  "inval_ops_s" },
	};
	struct cmd s = { .setup = S_CONTEND, .k = 1 };

	run_setup(s, &bc, 1);
}

static void bench_storm(void)
{
	struct bench_case bc = {
		"storm", "2-slow-invalidators", S_STORM, R_STORM, 0, 1, 0,
		{ "read_begin_p50_ns", "read_begin_p90_ns", "read_begin_max_ns",
		  "insert_fault_p50_ns", "insert_fault_p90_ns",
		  "insert_fault_max_ns", "remove_p50_ns", "remove_p90_ns",
		  "remove_max_ns", "storm_inval_ns", "storm_inval_ops_s",
		  "samples", "limit_hit" },
	};
	struct cmd s = { .setup = S_STORM, .k = 1 };

	run_setup(s, &bc, 1);
}

static void bench_parallel(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(par_ks); i++) {
		struct bench_case bc = { "parallel", "2proc-insert+remove",
					 S_PAR, R_PAR, 0, par_ks[i], 1024,
					 { "ns_per_op", "ns_per_op_mean",
					   "ops_s" } };
		struct cmd s = { .setup = S_PAR, .k = par_ks[i] };

		run_setup(s, &bc, 1);
	}
}

static const struct {
	const char *name;
	void (*fn)(void);
} figures[] = {
	{ "inval", bench_inval },
	{ "wide", bench_wide },
	{ "read", bench_read },
	{ "insrem", bench_insrem },
	{ "first", bench_first },
	{ "contend", bench_contend },
	{ "storm", bench_storm },
	{ "parallel", bench_parallel },
	{ "update", bench_update },
	{ "first-prereg", bench_first_prereg },
	{ "twopass", bench_twopass },
};

static void usage(void)
{
	fprintf(stderr, "usage: mni_bench [--smoke] [--reps N] [--only FIGURE]...\n"
		"                 [--storm-samples N] [--storm-think-us N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	char *only[ARRAY_SIZE(figures)];
	struct utsname u;
	uint64_t t0 = now_ns();
	long storm_iters_arg = 0;
	unsigned int i;
	int nonly = 0;

	for (i = 1; i < (unsigned int)argc; i++) {
		if (!strcmp(argv[i], "--smoke")) {
			smoke = true;
		} else if (!strcmp(argv[i], "--reps") && i + 1 < (unsigned int)argc) {
			reps = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--only") && i + 1 < (unsigned int)argc &&
			   nonly < (int)ARRAY_SIZE(only)) {
			only[nonly++] = argv[++i];
		} else if (!strcmp(argv[i], "--storm-samples") && i + 1 < (unsigned int)argc) {
			storm_iters_arg = atol(argv[++i]);
		} else if (!strcmp(argv[i], "--storm-think-us") && i + 1 < (unsigned int)argc) {
			storm_think_us = atol(argv[++i]);
		} else {
			usage();
		}
	}
	if (smoke) {
		reps = 2;
		batch_ms = 0.5;
		batches = 3;
		first_children = 4;
		contend_secs = 0.2;
		storm_iters = 8;
		storm_secs = 10;
	}
	if (storm_iters_arg > 0)
		storm_iters = storm_iters_arg;
	if (reps < 1 || storm_iters > STORM_MAX_SAMPLES || storm_think_us < 0 ||
	    storm_think_us > 1000000)
		usage();
	psz = sysconf(_SC_PAGESIZE);
	signal(SIGPIPE, SIG_IGN);

	uname(&u);
	printf("meta,kernel,%s\n", u.release);
	printf("meta,cpus,%ld\n", sysconf(_SC_NPROCESSORS_ONLN));
	printf("meta,reps,%d\n", reps);
	printf("meta,mode,%s\n", smoke ? "smoke" : "full");
	printf("meta,batch_ms,%g\n", batch_ms);
	printf("meta,batches,%llu\n", (unsigned long long)batches);
	printf("meta,storm_samples,%llu\n", (unsigned long long)storm_iters);
	printf("meta,storm_slow_ms,%d\n", STORM_SLOW_MS);
	printf("meta,storm_think_us,%ld\n", storm_think_us);
	printf("meta,storm_pause_max_us,%d\n", STORM_PAUSE_MAX_US);
	fflush(stdout);

	for (i = 0; i < ARRAY_SIZE(figures); i++)
		if (wanted(figures[i].name, only, nonly))
			figures[i].fn();
	printf("# mni_bench: done in %.1f s\n", (now_ns() - t0) / 1e9);
	return 0;
}
