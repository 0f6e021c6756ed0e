// SPDX-License-Identifier: GPL-2.0
/*
 * mni_faults.c - allocation failures and real OOM kills
 *
 * usage: mni_faults DEVICE [TEST...]
 *
 * DEVICE is /dev/mni_test_mni or /dev/mni_test_kern; guest-check.sh runs
 * both and compares them test by test. Needs root, debugfs and, for the
 * oom_* tests, a kernel with cgroup v2 and the memory controller.
 *
 * Allocation failures (alloc_*) use the kernel's fault injection
 * (CONFIG_FAILSLAB, tests/qemu/debug.config); on a kernel without it (the
 * stock lane) they skip. 6.1 has no FAULT_INJECTION_STACKTRACE_FILTER on
 * x86_64 (its Kconfig says !X86_64), so no require-start/require-end:
 * failures are aimed with /proc/thread-self/fail-nth (the n-th allocation
 * of this thread fails) or with make-it-fail + failslab/times (the next
 * `times` allocations of the marked threads fail), and each test names
 * the site that failed from the kmem:kmalloc and kmem:kmem_cache_alloc
 * tracepoints, filtered on a NULL result, with a stack trace each.
 *
 *   alloc_insert_sweep         fail-nth = 1, 2, ... on the first insert of
 *   alloc_insert_locked_sweep  a fresh mm (insert(), insert_locked()) until
 *                              it succeeds: every allocation on the way
 *                              (driver, mni_mm_user_get_locked()'s kzalloc,
 *                              mni_itree_init()'s spare records, the
 *                              core's __mmu_notifier_register()) fails once;
 *                              each failure is ENOMEM, leaves no entry and
 *                              no hooked notifier, and the next insert on
 *                              the same mm works
 *   alloc_record               the blockable path's record: its GFP_NOWAIT
 *                              allocation, then also the GFP_ATOMIC one,
 *                              fail, and none is tried again; the
 *                              invalidation still completes
 *
 * mni_faults --load-sweep MODULE.ko fails the allocations of module init
 * (see load_sweep()).
 *
 * Real OOM kills (oom_kills: MNI_OOM_KILLS of them, 20 by default): a
 * mirrored process in a cgroup v2 whose memory.max it exceeds is killed by
 * the memcg OOM killer; at once up to 5.17, 2 s later since, the OOM reaper
 * unmaps its anonymous memory with non-blockable invalidations.
 * The test keeps the victim's mm alive until then with FAULTs (which hold
 * an mm_users reference) on a shared page the reaper skips, so the reaper
 * always finds the mm. Every other kill, the test holds the mirror lock
 * from before the kill until a reaper pass found it held, so the
 * subscriber refuses (trylock fails) until
 * the reaper's next retry. The kill and the reap are read from /dev/kmsg,
 * and right after the reap the mirror must hold no page: the device never
 * reads a reaped page. A two-pass subscription just below the mirror
 * (where the flavour has two-pass ops: mni's always) is started first by
 * each reaper pass: its preallocated finish must run in every pass, also
 * after the mirror's refusal (the only way to a refused non-blockable
 * pass before process_mrelease(2), 5.15).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mirror.h"
#include "must.h"
#include "tap.h"
#include "util.h"

#define DBG		"/sys/kernel/debug"
#define FAILSLAB	DBG "/failslab"
#define FAILPAGE	DBG "/fail_page_alloc"
#define MNI_DBG		DBG "/mmu_interval_notifier"
#define TRACING		DBG "/tracing"
#define CGROOT		"/sys/fs/cgroup"

static struct mni_test_info info;

static bool is_mni(void)
{
	return info.engine == MNI_TEST_ENGINE_MNI;
}

/* ----------------------------------------------------------- files */

/* O_TRUNC: writing "" to a tracing "trace" file empties it. */
static int try_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		err = -errno;
	close(fd);
	return err;
}

static void must_write(const char *path, const char *s)
{
	int err = try_write(path, s);

	CHECK(!err, "write '%s' to %s: %s", s, path, strerror(-err));
}

/* No malloc (see test_alloc_record()). */
static long read_long(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char s[32];
	ssize_t n;

	CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
	n = read(fd, s, sizeof(s) - 1);
	CHECK(n > 0, "read %s: %s", path, strerror(errno));
	close(fd);
	s[n] = '\0';
	return strtol(s, NULL, 10);
}

/* ------------------------------------------------- fault injection */

static void fi_require(void)
{
	if (access(FAILSLAB "/probability", W_OK))
		tap_skip("no %s: kernel without CONFIG_FAILSLAB/FAULT_INJECTION_DEBUG_FS",
			 FAILSLAB);
	if (access(TRACING "/events/kmem/kmalloc/filter", W_OK))
		tap_skip("no kmem tracepoints in %s", TRACING);
}

/* Quiet and off: fail-nth needs nothing else; no slab user is exempt. */
static void fi_reset(void)
{
	try_write(FAILSLAB "/probability", "0");
	try_write(FAILSLAB "/task-filter", "N");
	try_write(FAILSLAB "/times", "1");
	try_write(FAILSLAB "/interval", "1");
	try_write(FAILSLAB "/space", "0");
	try_write(FAILSLAB "/verbose", "0");
	/* GFP_KERNEL allocations fail too (the default exempts them). */
	try_write(FAILSLAB "/ignore-gfp-wait", "N");
	/*
	 * Page allocations never count, not even towards fail-nth: the module
	 * allocates no page itself, and a slab refill that fails shows up as
	 * the same kmalloc failing, which failslab covers.
	 */
	try_write(FAILPAGE "/verbose", "0");
	try_write(FAILPAGE "/probability", "0");
	try_write(FAILPAGE "/min-order", "64");
}

static void fi_restore(void)
{
	fi_reset();
	try_write(FAILSLAB "/ignore-gfp-wait", "Y");
	try_write(FAILPAGE "/min-order", "1");
	try_write(TRACING "/events/kmem/kmalloc/enable", "0");
	try_write(TRACING "/events/kmem/kmem_cache_alloc/enable", "0");
	try_write(TRACING "/options/stacktrace", "0");
}

/* Failed slab allocations go to the trace buffer, each with its stack. */
static void trace_failures_on(void)
{
	atexit(fi_restore);
	fi_reset();
	must_write(TRACING "/tracing_on", "0");
	must_write(TRACING "/current_tracer", "nop");
	must_write(TRACING "/events/kmem/kmalloc/filter", "ptr == 0");
	must_write(TRACING "/events/kmem/kmem_cache_alloc/filter", "ptr == 0");
	must_write(TRACING "/events/kmem/kmalloc/enable", "1");
	must_write(TRACING "/events/kmem/kmem_cache_alloc/enable", "1");
	must_write(TRACING "/options/stacktrace", "1");
	must_write(TRACING "/trace", "");
	must_write(TRACING "/tracing_on", "1");
}

static void trace_clear(void)
{
	must_write(TRACING "/trace", "");
}

/*
 * The failed allocations in the trace: "call_site (first mni frame)" for
 * each, joined by "; " into @out. Returns how many.
 */
static unsigned int trace_failures(char *out, size_t len, const char *need)
{
	char *t = must_slurp(TRACING "/trace"), *line, *save = NULL;
	unsigned int n = 0, found = 0;
	char site[160] = "", frame[160] = "";
	size_t used = 0;

	out[0] = '\0';
	for (line = strtok_r(t, "\n", &save);; line = strtok_r(NULL, "\n", &save)) {
		char *cs = line ? strstr(line, "call_site=") : NULL;

		if (!line || cs) {
			/* Flush the previous record. */
			if (site[0]) {
				used += snprintf(out + used, len > used ? len - used : 0,
						 "%s%s%s%s%s", n ? "; " : "", site,
						 frame[0] ? " via " : "", frame,
						 "");
				n++;
			}
			if (!line)
				break;
			if (sscanf(cs, "call_site=%159s", site) != 1)
				snprintf(site, sizeof(site), "?");
			frame[0] = '\0';
			continue;
		}
		if (line[0] != ' ' || !strstr(line, "=> "))
			continue;
		if (need && strstr(line, need))
			found++;
		if (!frame[0] && strstr(line, "=> mni_"))
			snprintf(frame, sizeof(frame), "%s", strstr(line, "=> ") + 3);
	}
	free(t);
	if (need && !found)
		return 0;
	return n;
}

/*
 * Per-thread knobs go through an fd opened beforehand: opening a file
 * allocates, and would take (or be) the injected failure.
 */
static int open_knob(const char *name)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/thread-self/%s", name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
	return fd;
}

static void knob_set(int fd, unsigned int v)
{
	char s[16];
	int len = snprintf(s, sizeof(s), "%u", v);

	CHECK(pwrite(fd, s, len, 0) == len, "fault injection knob: %s",
	      strerror(errno));
}

static long knob_get(int fd)
{
	char s[16];
	ssize_t n = pread(fd, s, sizeof(s) - 1, 0);

	CHECK(n > 0, "fault injection knob: %s", strerror(errno));
	s[n] = '\0';
	return strtol(s, NULL, 10);
}

/* How many "; "-separated records of @sites start with @prefix. */
static unsigned int count_sites(const char *sites, const char *prefix)
{
	unsigned int n = 0;
	const char *s;

	for (s = sites; s && *s; s = strstr(s, "; "), s = s ? s + 2 : NULL)
		n += !strncmp(s, prefix, strlen(prefix));
	return n;
}

/* ------------------------------------------------ insert, swept */

struct sweep_report {
	int ret;			/* ADD: 0 or -errno */
	long left;			/* fail-nth after ADD: 0 if consumed */
	struct engine_summary after;		/* mni: right after a failed ADD */
	uint64_t inval_delta;		/* mni: invalidations a munmap caused */
};

/*
 * The child: a fresh mm. The n-th allocation of ADD fails; then, with
 * nothing injected, the same mm inserts, faults and reads correctly.
 */
static void sweep_child(int fd, int wfd, unsigned int n, uint64_t flags)
{
	const size_t np = 4;
	char *p = map_pages(np), *scratch = map_pages(1);
	struct sweep_report r = { 0 };
	uint8_t state[4];
	uint64_t id = 0, mirrored = 0;
	char *buf = malloc(np * psz);
	struct engine_summary s0 = { 0 };
	int nth = open_knob("fail-nth");
	size_t i;

	CHECK(buf, "malloc");
	fill(p, np, n);
	scratch[0] = 1;
	knob_set(nth, n);
	r.ret = mirror_add(fd, p, np * psz, flags, &id);
	r.left = knob_get(nth);
	knob_set(nth, 0);
	close(nth);
	if (!r.ret) {
		must_del(fd, id);
	} else if (is_mni()) {
		/* Nothing registered: no entry, and no notifier still hooked. */
		s0 = read_engine_summary();
		munmap(scratch, psz);
		r.after = read_engine_summary();
		r.inval_delta = r.after.invalidations - s0.invalidations;
	}
	CHECK(write(wfd, &r, sizeof(r)) == sizeof(r), "write: %s",
	      strerror(errno));
	if (!r.ret)
		_exit(0);

	/* The next insert on the same mm succeeds and mirrors. */
	id = must_add(fd, p, np * psz, flags);
	must_fault(fd, id, p, np, 0);
	CHECK(!mirror_read(fd, id, p, np, buf, state, &mirrored),
	      "READ after the retried insert");
	CHECK(mirrored == np, "%llu of %zu pages mirrored",
	      (unsigned long long)mirrored, np);
	for (i = 0; i < np; i++)
		CHECK(!memcmp(buf + i * psz, p + i * psz, psz),
		      "page %zu: the device reads other data than the CPU", i);
	must_del(fd, id);
	_exit(0);
}

static void insert_sweep(uint64_t flags)
{
	/* Sites that must have failed once each, by flavour. */
	static const char *const mni_sites[] = {
		"mni_mm_user_get_locked", "mni_itree_init", "__mmu_notifier_register",
	};
	static const char *const kern_sites[] = { "__mmu_notifier_register" };
	const char *const *need = is_mni() ? mni_sites : kern_sites;
	size_t nneed = is_mni() ? ARRAY_SIZE(mni_sites) : ARRAY_SIZE(kern_sites);
	unsigned int n, hit[3] = { 0 }, spares = 0;
	struct engine_summary base = { 0 };
	char sites[1024], all[4096] = "";
	size_t i;
	int fd;

	fi_require();
	trace_failures_on();
	fd = open_dev();
	if (is_mni())
		base = read_engine_summary();
	for (n = 1; n <= 64; n++) {
		struct sweep_report r;
		int pfd[2];
		pid_t pid;

		trace_clear();
		CHECK(pipe(pfd) == 0, "pipe: %s", strerror(errno));
		pid = fork_child();
		if (!pid) {
			close(pfd[0]);
			sweep_child(fd, pfd[1], n, flags);
		}
		close(pfd[1]);
		CHECK(read(pfd[0], &r, sizeof(r)) == sizeof(r),
		      "n=%u: the child did not report", n);
		close(pfd[0]);
		wait_child_ok(pid);
		trace_failures(sites, sizeof(sites), NULL);

		if (!r.ret && r.left) {
			tap_diag("n=%u: not reached, insert done: %u allocations failed one by one",
				 n, n - 1);
			break;
		}
		if (!r.ret) {
			/* Consumed, yet the insert worked: a site that copes. */
			tap_diag("n=%u: failure absorbed at %s", n, sites);
			continue;
		}
		CHECK(r.ret == -ENOMEM, "n=%u: insert gave %s, not ENOMEM (failed: %s)",
		      n, strerror(-r.ret), sites);
		CHECK(sites[0], "n=%u: ENOMEM, but no failed allocation was traced", n);
		tap_diag("n=%u: ENOMEM at %s; next insert ok", n, sites);
		if (is_mni()) {
			CHECK(r.after.mms == base.mms && r.after.subs == base.subs,
			      "n=%u: left %llu mms, %llu subscriptions (before: %llu, %llu)",
			      n, (unsigned long long)r.after.mms,
			      (unsigned long long)r.after.subs,
			      (unsigned long long)base.mms,
			      (unsigned long long)base.subs);
			CHECK(r.inval_delta == 0,
			      "n=%u: a munmap after the failed insert reached the engine",
			      n);
		}
		for (i = 0; i < nneed; i++)
			if (!strncmp(sites, need[i], strlen(need[i])))
				hit[i]++;
		if (!strncmp(sites, "mni_itree_init", 14))
			spares++;
		strncat(all, sites, sizeof(all) - strlen(all) - 3);
		strcat(all, "\n");
	}
	CHECK(n <= 64, "the insert still failed after 64 injected failures");
	for (i = 0; i < nneed; i++)
		CHECK(hit[i], "no injected failure hit %s; failed sites:\n%s",
		      need[i], all);
	if (is_mni())
		CHECK(spares == 2, "%u spare-record allocations failed, expected 2", spares);
	close(fd);
}

static void test_alloc_insert_sweep(void)
{
	insert_sweep(0);
}

static void test_alloc_insert_locked_sweep(void)
{
	insert_sweep(MNI_TEST_ADD_LOCKED);
}

/* ------------------------------------------------ records, blockable */

struct zap_arg {
	char *p;
	size_t len;
	bool marked;		/* make-it-fail on this thread */
	atomic_bool go;
	int ret;
};

/*
 * Created before the first invalidation and started by @go: creating a
 * thread maps its stack, and that mmap_write_lock() would wait for the
 * madvise() in flight (which holds mmap_lock for read in the SLOW
 * callback) and hold every later madvise() behind it.
 */
static void *zap_thread(void *v)
{
	struct zap_arg *a = v;
	int knob = a->marked ? open_knob("make-it-fail") : -1;

	while (!atomic_load(&a->go))
		usleep(1000);
	if (a->marked)
		knob_set(knob, 1);
	a->ret = madvise(a->p, a->len, MADV_DONTNEED) ? -errno : 0;
	if (a->marked) {
		knob_set(knob, 0);
		close(knob);
	}
	return NULL;
}

/*
 * Blockable invalidations leave the last spare record to the non-blockable
 * ones and allocate once: GFP_NOWAIT, then GFP_ATOMIC, never again; with
 * neither, the walk goes on without a record (an overflow slot makes every
 * read collide until its end). Kept in flight (SLOW callbacks), the first
 * takes a spare, the second fails GFP_NOWAIT and gets GFP_ATOMIC, the
 * third fails both and is not retried: of three injected failures, one is
 * left. Every one of them must reach its subscription and leave the
 * mirror empty.
 */
static void test_alloc_record(void)
{
	const size_t np = 4;
	struct zap_arg z[3];
	struct engine_summary s0 = { 0 }, s1;
	pthread_t th[3];
	uint64_t id[3];
	char *p[3], sites[2048];
	unsigned int nfail, i;
	long left, left2;
	int fd;

	fi_require();
	trace_failures_on();
	fd = open_dev();
	for (i = 0; i < 3; i++) {
		p[i] = map_pages(np);
		fill(p[i], np, 40 + i);
		id[i] = must_add(fd, p[i], np * psz, 0);
		must_fault(fd, id[i], p[i], np, 0);
		z[i] = (struct zap_arg){ p[i], np * psz, i > 0, false, 0 };
	}
	for (i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, zap_thread, &z[i]);
	if (is_mni())
		s0 = read_engine_summary();
	CHECK(mirror_slow(fd, id[0], 1500) == 0, "SLOW");
	CHECK(mirror_slow(fd, id[1], 1500) == 0, "SLOW");
	trace_clear();
	must_write(FAILSLAB "/task-filter", "Y");
	must_write(FAILSLAB "/probability", "100");

	/*
	 * Nothing here may take mmap_lock for write (mmap, brk: a malloc
	 * that grows the heap) until the last madvise() is done.
	 * 1: takes a spare, stays in flight.
	 */
	atomic_store(&z[0].go, true);
	wait_for_call(fd, id[0]);
	/* 2: GFP_NOWAIT fails, GFP_ATOMIC does not; stays in flight. */
	must_write(FAILSLAB "/times", "1");
	atomic_store(&z[1].go, true);
	wait_for_call(fd, id[1]);
	left2 = read_long(FAILSLAB "/times");
	/* 3: GFP_NOWAIT and GFP_ATOMIC fail; a third try would fail too. */
	must_write(FAILSLAB "/times", "3");
	atomic_store(&z[2].go, true);
	pthread_join(th[2], NULL);
	left = read_long(FAILSLAB "/times");
	tap_diag("injections left after the second invalidation: %ld, after the third: %ld",
		 left2, left);
	pthread_join(th[1], NULL);
	pthread_join(th[0], NULL);
	must_write(FAILSLAB "/probability", "0");
	must_write(FAILSLAB "/task-filter", "N");

	nfail = trace_failures(sites, sizeof(sites), NULL);
	tap_diag("%u allocations failed: %s", nfail, nfail ? sites : "none");
	for (i = 0; i < 3; i++) {
		struct mni_test_log log;
		uint64_t mirrored = 1;
		uint8_t state[4];
		char *buf = malloc(np * psz);

		CHECK(z[i].ret == 0, "madvise %u: %s", i, strerror(-z[i].ret));
		get_log(fd, id[i], false, &log);
		if (log.count != 1 || !(log.entry[0].flags & MNI_TEST_LOG_BLOCKABLE)) {
			dump_log("zapped", &log);
			FAIL("subscription %u: not one blockable invalidation", i);
		}
		CHECK(!mirror_read(fd, id[i], p[i], np, buf, state, &mirrored),
		      "READ");
		CHECK(mirrored == 0, "subscription %u: %llu pages still mirrored",
		      i, (unsigned long long)mirrored);
		free(buf);
	}
	if (is_mni()) {
		/* The record allocations, nothing else, none retried. */
		CHECK(left2 == 0 && left == 1 && nfail == 3,
		      "%u failed allocations (%ld, %ld injections left), expected 3 (0, 1 left)",
		      nfail, left2, left);
		CHECK(count_sites(sites, "mni_i") == nfail,
		      "failures outside the engine: %s", sites);
		s1 = read_engine_summary();
		CHECK(s1.in_flight == 0 && s1.no_record == s0.no_record,
		      "in flight %llu, no_record %llu -> %llu",
		      (unsigned long long)s1.in_flight,
		      (unsigned long long)s0.no_record,
		      (unsigned long long)s1.no_record);
	} else {
		tap_diag("kernel engine: %u allocations failed (it allocates no record)",
			 nfail);
	}
	for (i = 0; i < 3; i++)
		must_del(fd, id[i]);
	close(fd);
}

/* ---------------------------------------------------- OOM kills */

#define OOM_PAGES	16
#define OOM_KILLS	20	/* MNI_OOM_KILLS overrides */

static char printk_saved[64], dump_tasks_saved[16];

static void oom_restore(void)
{
	if (printk_saved[0])
		try_write("/proc/sys/kernel/printk", printk_saved);
	if (dump_tasks_saved[0])
		try_write("/proc/sys/vm/oom_dump_tasks", dump_tasks_saved);
}

/*
 * An OOM report prints the allocating task's stack with no log level
 * (dump_stack()): "Call Trace:", which the console scan rightly counts as
 * a failure. For the duration of the test, messages without a level get
 * level 7 (debug), below the console's: they stay in the log, out of the
 * console. Every report the scan looks for (WARNING:, BUG:, lockdep, KASAN,
 * hung task) carries its own level and still reaches the console.
 */
static void oom_quiet_reports(void)
{
	char *s = must_slurp("/proc/sys/kernel/printk"), *d, quiet[64];
	int con, def, min, dcon;

	CHECK(sscanf(s, "%d %d %d %d", &con, &def, &min, &dcon) == 4,
	      "/proc/sys/kernel/printk: %s", s);
	snprintf(printk_saved, sizeof(printk_saved), "%d %d %d %d", con, def,
		 min, dcon);
	free(s);
	d = must_slurp("/proc/sys/vm/oom_dump_tasks");
	snprintf(dump_tasks_saved, sizeof(dump_tasks_saved), "%d", atoi(d));
	free(d);
	atexit(oom_restore);
	snprintf(quiet, sizeof(quiet), "%d 7 %d %d", con, min, dcon);
	must_write("/proc/sys/kernel/printk", quiet);
	must_write("/proc/sys/vm/oom_dump_tasks", "0");
}

/* A cgroup v2 child with memory.max, mounting cgroup2 if needed. */
static void oom_cgroup(char *cg, size_t len)
{
	char path[128], *ctl;

	if (access(CGROOT "/cgroup.controllers", R_OK)) {
		mkdir(CGROOT, 0755);
		CHECK(!mount("cgroup2", CGROOT, "cgroup2", 0, NULL),
		      "mount cgroup2 on %s: %s (kernel without CONFIG_CGROUPS?)",
		      CGROOT, strerror(errno));
	}
	ctl = must_slurp(CGROOT "/cgroup.controllers");
	CHECK(strstr(ctl, "memory"), "no memory controller in cgroup v2 (%s)", ctl);
	free(ctl);
	must_write(CGROOT "/cgroup.subtree_control", "+memory");
	snprintf(cg, len, CGROOT "/mni-faults-%d", getpid());
	CHECK(!mkdir(cg, 0755) || errno == EEXIST, "mkdir %s: %s", cg,
	      strerror(errno));
	snprintf(path, sizeof(path), "%s/memory.max", cg);
	must_write(path, "8M");
	snprintf(path, sizeof(path), "%s/memory.swap.max", cg);
	try_write(path, "0");
}

/* /dev/kmsg from now on; one record per read. */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	CHECK(fd >= 0, "open /dev/kmsg: %s", strerror(errno));
	lseek(fd, 0, SEEK_END);
	return fd;
}

/* Wait up to @ms for a record containing @what; true if seen. */
static bool kmsg_wait(int fd, const char *what, double ms)
{
	double t0 = now_ms();
	char rec[2048];

	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);

		if (n > 0) {
			rec[n] = '\0';
			if (strstr(rec, what))
				return true;
			continue;
		}
		if (n < 0 && errno == EPIPE)
			continue;
		if (now_ms() - t0 > ms)
			return false;
		usleep(5000);
	}
}

struct victim {
	uint64_t m0, m1, keep;	/* m0: two-pass, 0 where there are none */
	char *r, *kp;
};

struct oom_run {
	int fd;
	struct victim v;
	atomic_bool stop_keep, stop_hold;
	atomic_bool lost;	/* the mm went before stop_keep */
	atomic_uint holds;
};

/*
 * Keeps the victim's mm alive: FAULT holds an mm_users reference over its
 * delay. OOM_KEEPERS of these, their phases spread over a delay, so one
 * always holds it, unless all of them are between two FAULTs at once (a
 * loaded TCG host can stretch a syscall's return that far): then the exit
 * may run before the reaper, which then finds our notifiers gone. @lost
 * tells, and the kill is made again.
 */
#define OOM_KEEPERS	3
#define OOM_KEEP_MS	450

static void *keeper(void *arg)
{
	struct oom_run *o = arg;
	struct mni_test_fault f;

	while (!atomic_load(&o->stop_keep)) {
		f = (struct mni_test_fault){ .delay_ms = OOM_KEEP_MS };
		if (mirror_fault(o->fd, o->v.keep, o->v.kp, 1, 0, &f) == -ESRCH) {
			if (!atomic_load(&o->stop_keep))
				atomic_store(&o->lost, true);
			break;
		}
	}
	return NULL;
}

/* Holds the mirror lock in 200 ms slices until told to stop. */
static void *holder(void *arg)
{
	struct oom_run *o = arg;

	while (!atomic_load(&o->stop_hold)) {
		mirror_hold(o->fd, o->v.m1, 200);
		atomic_fetch_add(&o->holds, 1);
	}
	return NULL;
}

static void victim_main(int fd, const char *cg, int wfd, int rfd)
{
	char path[128], pid[16], go;
	struct victim v;
	size_t i;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	snprintf(pid, sizeof(pid), "%d", getpid());
	must_write(path, pid);
	v.r = map_pages(OOM_PAGES);
	fill(v.r, OOM_PAGES, 61);
	/* MAP_SHARED: the reaper leaves it alone (only private memory goes). */
	v.kp = mmap(NULL, psz, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(v.kp != MAP_FAILED, "mmap: %s", strerror(errno));
	v.kp[0] = 1;
	v.m1 = must_add(fd, v.r, OOM_PAGES * psz, 0);
	must_fault(fd, v.m1, v.r, OOM_PAGES, 0);
	v.keep = must_add(fd, v.kp, psz, 0);
	must_fault(fd, v.keep, v.kp, 1, 0);
	/*
	 * Two-pass, starting below m1, so the reaper's pass over the region
	 * starts it first: when m1 refuses, its finish must still run, after
	 * the refusal (oom_check_two_pass()). None where there are no
	 * two-pass ops (the kernel flavour before 7.1).
	 */
	if (mirror_add(fd, v.r - psz, 2 * psz,
		       MNI_TEST_ADD_TWO_PASS | MNI_TEST_ADD_NOMIRROR, &v.m0))
		v.m0 = 0;
	CHECK(write(wfd, &v, sizeof(v)) == sizeof(v), "write: %s", strerror(errno));
	CHECK(read(rfd, &go, 1) == 1, "read: %s", strerror(errno));
	/* Beyond memory.max: the memcg OOM killer ends this. */
	for (;;) {
		char *h = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (h == MAP_FAILED)
			continue;
		for (i = 0; i < (1 << 20); i += psz)
			h[i] = 1;
	}
}

struct oom_counts {
	unsigned int kills, reaps, refused, reaped_calls, stale, busy_kills;
	unsigned int lost, missed, two_pass_refused;
};

/*
 * The two-pass subscription below the mirror: each of the reaper's
 * non-blockable starts of it is followed by its finish, with the finish
 * preallocated at ADD (no allocation in the reaper's pass), and in a pass
 * where the mirror refused, the finish ran after that refusal. Return:
 * the passes in which it did so.
 */
static unsigned int oom_check_two_pass(int fd, const struct victim *v,
				       const struct mni_test_log *l1)
{
	struct mni_test_log l0;
	unsigned int starts = 0, after = 0;
	uint64_t i, j;

	get_log(fd, v->m0, false, &l0);
	for (i = 0; i < l0.count; i++) {
		const struct mni_test_log_entry *st = &l0.entry[i], *fin;

		if (st->kind != MNI_TEST_LOG_START ||
		    st->flags & MNI_TEST_LOG_BLOCKABLE)
			continue;
		/* It kept its lock until the finish: nothing in between. */
		fin = i + 1 < l0.count ? &l0.entry[i + 1] : NULL;
		if (!fin || fin->kind != MNI_TEST_LOG_FINISH ||
		    fin->seq != st->seq ||
		    !(st->flags & fin->flags & MNI_TEST_LOG_PREALLOC)) {
			dump_log("two-pass subscription", &l0);
			FAIL("a non-blockable start without its preallocated finish");
		}
		starts++;
		for (j = 0; j < l1->count; j++) {
			const struct mni_test_log_entry *b = &l1->entry[j];

			if (!(b->flags & MNI_TEST_LOG_BUSY) || b->seq != st->seq)
				continue;
			if (!(st->order < b->order && b->order < fin->order)) {
				dump_log("two-pass subscription", &l0);
				dump_log("victim's mirror", l1);
				FAIL("a finish did not run after the refusal in its pass");
			}
			after++;
		}
	}
	CHECK(starts, "the reaper's pass never started the two-pass subscription");
	return after;
}

/*
 * One kill; false when it must be made again: the keepers lost the mm (see
 * keeper()), or the lock was to be held and the reaper's pass found it free
 * (between two of the holder's slices: seen once in 20 kills on the debug
 * kernel).
 */
static bool oom_one(int fd, const char *cg, bool busy, struct oom_counts *c)
{
	struct oom_run o = { .fd = fd };
	bool again = false;
	int vp[2], gp[2], kfd, status, i;
	char want[64], *buf = malloc(OOM_PAGES * psz);
	uint8_t state[OOM_PAGES];
	unsigned int nb_busy = 0, nb_ok = 0, released = 0;
	struct mni_test_log log;
	uint64_t mirrored = 0;
	pthread_t k[OOM_KEEPERS], h;
	bool reaped;
	pid_t pid;

	CHECK(buf, "malloc");
	CHECK(!pipe(vp) && !pipe(gp), "pipe: %s", strerror(errno));
	pid = fork_child();
	if (!pid) {
		close(vp[0]);
		close(gp[1]);
		victim_main(fd, cg, vp[1], gp[0]);
	}
	close(vp[1]);
	close(gp[0]);
	CHECK(read(vp[0], &o.v, sizeof(o.v)) == sizeof(o.v),
	      "the victim did not set up");
	for (i = 0; i < OOM_KEEPERS; i++) {
		pthread_create(&k[i], NULL, keeper, &o);
		usleep(OOM_KEEP_MS * 1000 / OOM_KEEPERS);
	}
	/*
	 * Hold before the kill: the reaper comes at once up to 5.17 and 2 s
	 * after the kill since (OOM_REAPER_DELAY), and a loaded host may be
	 * later still in seeing the kill. Nothing else invalidates m1 before
	 * the reap, so only the reaper's passes can find the lock held; the
	 * loop below lets go once one of them has refused.
	 */
	if (busy)
		pthread_create(&h, NULL, holder, &o);
	kfd = kmsg_open();
	CHECK(write(gp[1], "g", 1) == 1, "write: %s", strerror(errno));

	snprintf(want, sizeof(want), "Killed process %d (", pid);
	CHECK(kmsg_wait(kfd, want, 20000), "no OOM kill of %d in 20 s", pid);
	c->kills++;
	snprintf(want, sizeof(want), "reaped process %d (", pid);
	reaped = false;
	for (i = 0; i < 1000 && !reaped; i++) {
		reaped = kmsg_wait(kfd, want, 10);
		if (busy && !atomic_load(&o.stop_hold)) {
			unsigned int j;

			get_log(fd, o.v.m1, false, &log);
			for (j = 0; j < log.count; j++)
				if (log.entry[j].flags & MNI_TEST_LOG_BUSY)
					atomic_store(&o.stop_hold, true);
		}
	}
	/* Before the mm goes: the reaped pages must be gone from the mirror. */
	CHECK(!mirror_read(fd, o.v.m1, o.v.r, OOM_PAGES, buf, state, &mirrored),
	      "READ after the reap");
	atomic_store(&o.stop_hold, true);
	atomic_store(&o.stop_keep, true);
	if (busy)
		pthread_join(h, NULL);
	for (i = 0; i < OOM_KEEPERS; i++)
		pthread_join(k[i], NULL);
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	      "the victim ended with wait status %#x", status);

	get_log(fd, o.v.m1, false, &log);
	for (i = 0; i < (int)log.count; i++) {
		const struct mni_test_log_entry *e = &log.entry[i];

		if (e->flags & MNI_TEST_LOG_BLOCKABLE) {
			released += e->event == MNI_TEST_EV_RELEASE;
			continue;
		}
		/* The reaper's event: UNMAP up to 6.x, CLEAR on 7.2. */
		if (e->event != MNI_TEST_EV_UNMAP &&
		    e->event != MNI_TEST_EV_CLEAR) {
			dump_log("victim's mirror", &log);
			FAIL("a non-blockable invalidation with event %s",
			     mirror_event_name(e->event));
		}
		if (e->flags & MNI_TEST_LOG_BUSY)
			nb_busy++;
		else
			nb_ok++;
	}
	if (!reaped || mirrored || !nb_ok || !released || busy != !!nb_busy ||
	    log.overflow)
		dump_log("victim's mirror", &log);
	if (mirrored)
		c->stale++;
	CHECK(!mirrored, "%llu reaped pages still mirrored: the device would read freed pages",
	      (unsigned long long)mirrored);
	CHECK(released, "no RELEASE");
	/* The engine counts every refusal, in a kill made again too. */
	c->refused += nb_busy;
	if (atomic_load(&o.lost)) {
		/* The exit released the mirror; the reaper came after, or never. */
		tap_diag("kill %u: the mm exited while the keepers were between FAULTs (reaped: %s); again",
			 c->kills, reaped ? "yes" : "no");
		c->lost++;
		goto out;
	}
	CHECK(reaped, "the OOM reaper did not reap %d in 10 s", pid);
	CHECK(nb_ok, "the reaper's pass never reached the subscription");
	if (busy && !nb_busy) {
		tap_diag("kill %u: the lock was held (%u slices), yet the reaper's pass found it free; again",
			 c->kills, atomic_load(&o.holds));
		c->missed++;
		again = true;
		goto out;
	}
	if (!busy)
		CHECK(!nb_busy, "%u refusals with the lock free", nb_busy);
	if (o.v.m0) {
		unsigned int after = oom_check_two_pass(fd, &o.v, &log);

		CHECK(!busy || after,
		      "no refused pass ran the two-pass subscription's finish");
		c->two_pass_refused += after;
	}
	c->reaps++;
	c->reaped_calls += nb_ok;
	c->busy_kills += busy;
out:
	if (o.v.m0)
		must_del(fd, o.v.m0);
	must_del(fd, o.v.m1);
	must_del(fd, o.v.keep);
	close(kfd);
	close(vp[0]);
	close(gp[1]);
	free(buf);
	return !again && !atomic_load(&o.lost);
}

static void test_oom_kills(void)
{
	const char *env = getenv("MNI_OOM_KILLS");
	int kills = env ? atoi(env) : OOM_KILLS;
	struct oom_counts c = { 0 };
	struct engine_summary s0 = { 0 }, s1;
	char cg[96];
	double t0 = now_ms();
	int fd, i;

	CHECK(kills >= 2, "MNI_OOM_KILLS=%d: at least 2 (one with the lock held)",
	      kills);

	oom_cgroup(cg, sizeof(cg));
	oom_quiet_reports();
	fd = open_dev();
	if (is_mni())
		s0 = read_engine_summary();
	for (i = 0; i < kills;) {
		CHECK(c.lost < 5, "the keepers lost the mm %u times", c.lost);
		CHECK(c.missed < 3, "%u times the reaper found the held lock free",
		      c.missed);
		i += oom_one(fd, cg, i & 1, &c);
	}
	close(fd);
	rmdir(cg);
	tap_diag("%u kills (%u with the lock held, %u made again: %u lost the mm, %u found the lock free), %u reaps, %u refused callbacks, %u reaper callbacks done, %u stale reads, %u refused passes that ran a two-pass finish, %.1f s",
		 c.kills, c.busy_kills, c.lost + c.missed, c.lost, c.missed,
		 c.reaps, c.refused, c.reaped_calls, c.stale,
		 c.two_pass_refused, (now_ms() - t0) / 1000);
	if (is_mni()) {
		s1 = read_engine_summary();
		tap_diag("engine: invalidations +%llu, callbacks +%llu, refused +%llu, no_record +%llu, in flight %llu",
			 (unsigned long long)(s1.invalidations - s0.invalidations),
			 (unsigned long long)(s1.callbacks - s0.callbacks),
			 (unsigned long long)(s1.refused - s0.refused),
			 (unsigned long long)(s1.no_record - s0.no_record),
			 (unsigned long long)s1.in_flight);
		CHECK(s1.refused - s0.refused == c.refused,
		      "the engine counted %llu refusals, the driver %u",
		      (unsigned long long)(s1.refused - s0.refused), c.refused);
		CHECK(s1.no_record == s0.no_record, "reaper passes refused for want of a record");
		CHECK(s1.in_flight == 0, "%llu invalidations left in flight",
		      (unsigned long long)s1.in_flight);
		CHECK(s1.mms == s0.mms && s1.subs == s0.subs,
		      "%llu mms, %llu subscriptions left (before: %llu, %llu)",
		      (unsigned long long)s1.mms, (unsigned long long)s1.subs,
		      (unsigned long long)s0.mms, (unsigned long long)s0.subs);
	}
}

/* ------------------------------------------------ module load */

#define MNI_MODNAME	"mmu_interval_notifier"

static int load_module_nth(int nth, int mfd, unsigned int n, long *left)
{
	int ret;

	knob_set(nth, n);
	ret = syscall(SYS_finit_module, mfd, "", 0) ? -errno : 0;
	*left = knob_get(nth);
	knob_set(nth, 0);
	return ret;
}

static void unload_engine(void)
{
	CHECK(!syscall(SYS_delete_module, MNI_MODNAME, O_NONBLOCK),
	      "rmmod %s: %s", MNI_MODNAME, strerror(errno));
}

/*
 * --load-sweep KO: the allocations of module init (mni_init(): the debugfs
 * directory and its files). A plain load counts the fault points of the
 * whole load (n); then loads with fail-nth = n, n - 1, ... fail the last
 * ones first, down to the first that is not under mni_init(). A failure
 * there ends in a clean ENOMEM or a load; a failed debugfs file must not
 * fail the load. Run with the engine unloaded (guest-check.sh
 * does, after its unload checks). Exit 0, 1 (failed) or 77 (skipped).
 */
static int load_sweep(const char *ko)
{
	unsigned int n, total, in_init = 0, absorbed = 0, below = 0;
	char sites[1024];
	long left;
	int mfd, nth, ret;

	if (access(FAILSLAB "/probability", W_OK)) {
		printf("# no %s: kernel without fault injection\n", FAILSLAB);
		return 77;
	}
	trace_failures_on();
	nth = open_knob("fail-nth");
	mfd = open(ko, O_RDONLY | O_CLOEXEC);
	CHECK(mfd >= 0, "open %s: %s", ko, strerror(errno));
	ret = load_module_nth(nth, mfd, 1000000, &left);
	CHECK(!ret, "load %s: %s", ko, strerror(-ret));
	unload_engine();
	total = 1000000 - left;
	printf("# a load passes %u fault points\n", total);
	/*
	 * From the last fault point down: first those after mni_init()
	 * returned (the loader's), then mni_init()'s own, then the loader's
	 * again, where the sweep stops.
	 */
	for (n = total; n >= 1 && total - n < 100; n--) {
		bool init;

		trace_clear();
		ret = load_module_nth(nth, mfd, n, &left);
		/*
		 * Under mni_init(): module init is called through
		 * do_one_initcall(). (mni_init itself is .init.text, gone
		 * from kallsyms by the time the trace is read.)
		 */
		init = trace_failures(sites, sizeof(sites), "do_one_initcall");
		if (!init)
			trace_failures(sites, sizeof(sites), NULL);
		/*
		 * Eight in a row: kmemleak's own record of an object comes next
		 * to it, and the loader's allocations may interleave with init's
		 * first one.
		 */
		if (!init && in_init) {
			printf("# n=%u: %s at %s, before mni_init()\n", n,
			       ret ? strerror(-ret) : "loaded", sites[0] ? sites : "-");
			if (!ret)
				unload_engine();
			if (++below == 8)
				break;
			continue;
		}
		if (!init) {
			printf("# n=%u: %s at %s, after mni_init()\n", n,
			       ret ? strerror(-ret) : "loaded", sites[0] ? sites : "-");
			if (!ret)
				unload_engine();
			continue;
		}
		in_init++;
		below = 0;
		if (!ret) {
			absorbed++;
			printf("# n=%u: loaded, failure at %s absorbed\n", n, sites);
			unload_engine();
			continue;
		}
		CHECK(ret == -ENOMEM, "n=%u: load gave %s, not ENOMEM", n,
		      strerror(-ret));
		printf("# n=%u: ENOMEM at %s\n", n, sites);
	}
	/*
	 * Every failure under mni_init() must end in a clean ENOMEM or a
	 * load (checked above, and by the console scan and kmemleak after).
	 * No allocation of mni_init() fails the load (debugfs failures
	 * are not errors), so how many did is only reported.
	 */
	CHECK(in_init, "the sweep failed no allocation under mni_init()");
	if (in_init == absorbed)
		printf("# no failure under mni_init() failed the load in this sweep\n");
	/* And once more without any. */
	ret = load_module_nth(nth, mfd, 0, &left);
	CHECK(!ret, "load %s: %s", ko, strerror(-ret));
	unload_engine();
	printf("# %u failures under mni_init(): %u failed the load, %u absorbed\n",
	       in_init, in_init - absorbed, absorbed);
	return 0;
}

/* --------------------------------------------------------------- main */

#define TEST(id, secs)	{ .name = #id, .fn = test_##id, .timeout = secs }

static struct tap_test tests[] = {
	TEST(alloc_insert_sweep, 120),
	TEST(alloc_insert_locked_sweep, 120),
	TEST(alloc_record, 60),
	TEST(oom_kills, 600),
};

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--load-sweep"))
		return load_sweep(argv[2]);
	return suite_main(argc, argv, &info, tests, ARRAY_SIZE(tests));
}
