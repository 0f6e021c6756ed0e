// SPDX-License-Identifier: GPL-2.0
/*
 * mni_fuzz.c - random programs of mirror ioctls and mm calls, in the
 * manner of syzkaller
 *
 * usage: mni_fuzz DEVICE [TEST...]
 *        MNI_FUZZ_SECS=N    run for N seconds (default 60)
 *        MNI_FUZZ_SEED=S    the seed (default: from the clock), printed
 *                           first; the same seed runs the same programs
 *        MNI_FUZZ_PROCS=P   worker processes (default 4, at most 16)
 *        MNI_FUZZ_OPS=N     each worker stops after N operations: with
 *                           the seed, replays a failure up to the
 *                           operation its report names
 *        MNI_FUZZ_WORKER=I  run worker I alone (of MNI_FUZZ_PROCS), the
 *                           same programs without the other workers
 *
 * DEVICE is /dev/mni_test_mni or /dev/mni_test_kern. The test forks P
 * workers. Each opens its own mirror device and runs operations drawn
 * from a table (ops[] below) with a PRNG seeded from the seed, its index
 * and its generation, on one arena: ARENA_PAGES pages at the same address
 * in every worker, half private anonymous memory and half a shared memfd
 * to begin with, then remapped at random. The operations:
 *  - mm calls on arena ranges: mmap (anonymous, or the memfd shared or
 *    private), munmap, mremap (shrink, grow, move, move with
 *    MREMAP_DONTUNMAP), mprotect, madvise (DONTNEED, FREE, COLD, PAGEOUT,
 *    REMOVE, WILLNEED, HUGEPAGE, POPULATE_*, WIPEONFORK, ...), CPU reads
 *    and writes, hole punches in the memfd, which invalidate the
 *    mirrors of every worker mapping it, and move_pages(2) between the
 *    nodes of numa=fake=2;
 *  - mirror ioctls on overlapping ranges: ADD (plain, LOCKED, NOMIRROR),
 *    DEL, FAULT (read or write, sometimes with a delay before the
 *    sequence check), READ, SEQ_BEGIN/SEQ_RETRY, SLOW and SPIN, LOG;
 *  - processes: fork (the child runs a few operations, mirrors in its own
 *    mm included, and exits with them inserted), fork then SIGKILL and
 *    process_mrelease(2) of the child, and the worker's own exit (the
 *    test forks its next generation).
 * Mirrors a child left behind are handed to the parent, which then
 * checks, reads, faults and removes them on the dead mm.
 *
 * What is checked, cheaply, besides the console (run.sh fails a run on
 * any kernel report):
 *  - ioctls that must succeed do (ADD, DEL, READ, SEQ_*, SLOW, SPIN, LOG),
 *    FAULT fails only as an unmapped or protected range makes it fail
 *    (EFAULT, EPERM, EBUSY) and, when it succeeds, mirrors every page;
 *    FAULT of a dead mm is ESRCH, FAULT and READ of a NOMIRROR mirror
 *    EINVAL;
 *  - every page a READ shows mirrored holds what the CPU sees at that
 *    address (read through /proc/self/mem, which also reads PROT_NONE
 *    pages). Only the worker changes its own mm, and the pages of the
 *    shared memfd only ever go from zero to one pattern per file page
 *    (other workers write nothing else there) or are punched, so a
 *    difference that is still there after reading the page through the
 *    mirror again is a stale mirror: the oracle of the stale-read torture
 *    in mni_triggers, for one address space at a time;
 *  - a mirror whose mm is gone shows no page;
 *  - every callback logged overlapped its mirror's range.
 * A failing process prints its last LOG_OPS operations and the seed,
 * MNI_FUZZ_OPS and MNI_FUZZ_WORKER that replay them. Without KASAN, a
 * test driver whose callback skips the UNMAP events fails the
 * comparison with the CPU in seconds, and one that skips RELEASE the
 * dead-mm check (on mni, whose RELEASE is the last callback).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "must.h"
#include "tap.h"
#include "util.h"

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP	4
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22
#define MADV_POPULATE_WRITE	23
#endif

#define ARENA_PAGES	1024	/* two 2 MiB THP-sized halves */
#define SHM_PAGES	(ARENA_PAGES / 2)
#define GUARD_PAGES	16	/* PROT_NONE on both sides of the arena */
#define MAX_PROCS	16
#define MAX_MIRRORS	16	/* per process */
#define IO_PAGES	64	/* longest FAULT or READ */
#define LOG_OPS		48	/* operations kept for a failure report */
#define CHECK_TRIES	3	/* reads of a page that differs, see check_page */
#define EXIT_RESPAWN	3	/* a worker's exit op: fork the next generation */
#define DEFAULT_SECS	60
#define DEFAULT_PROCS	4

static struct mni_test_info info;

/* ------------------------------------------------------------ the PRNG */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* ------------------------------------------------------------- state */

enum {
	OP_MMAP_ANON, OP_MMAP_FILE, OP_MUNMAP, OP_MREMAP, OP_MPROTECT,
	OP_MADVISE, OP_TOUCH, OP_PUNCH, OP_MIGRATE, OP_ADD, OP_DEL, OP_FAULT,
	OP_READ, OP_SEQ, OP_SLOW, OP_LOG, OP_FORK, OP_MRELEASE, OP_EXIT, NOPS
};

/* Counters of the whole run, in memory shared by every process. */
struct fuzz_stats {
	_Atomic uint64_t ops[NOPS];
	_Atomic uint64_t errs[NOPS];	/* returned an error we allow */
	_Atomic uint64_t ns[NOPS];	/* time spent in them */
	_Atomic uint64_t pages_compared;	/* mirrored pages checked */
	_Atomic uint64_t races[3];	/* differences gone on a re-read, by
					 * the page's kind (enum page_kind)
					 */
	_Atomic uint64_t dead_checked;	/* mirrors checked on a dead mm */
	_Atomic uint64_t children;
	_Atomic uint64_t fault_efault, fault_eperm, fault_ebusy;
	_Atomic uint64_t mrelease_ok, mrelease_again;
	_Atomic uint64_t worker_ops[MAX_PROCS];	/* for MNI_FUZZ_OPS */
	_Atomic int stop;		/* a process failed: all stop */
};

/* A mirror of this process's table. */
struct slot {
	bool used;
	bool nomirror;		/* MNI_TEST_ADD_NOMIRROR: no page table */
	bool dead;		/* inserted by a child that has exited */
	uint32_t first, npages;	/* arena pages */
	uint64_t id;
};

/* What a child hands its parent for each mirror it left inserted. */
struct child_rec {
	uint64_t id;		/* 0: the end of the list */
	uint32_t first, npages;
	uint32_t nomirror, pad;
};

/* One operation of the log. */
struct rec {
	uint64_t n;		/* its number in this process */
	int op;
	int ret;		/* 0 or -errno */
	char what[88];
};

/* This process: a worker, or a worker's child. */
static struct proc {
	char name[32];		/* w<index>.<generation>[/c<op>] */
	unsigned int idx, gen;
	bool child;
	uint64_t rng;
	uint64_t nops, max_ops;
	int dev, mem, shm;	/* device, /proc/self/mem, memfd */
	ino_t shm_ino;
	struct slot slot[MAX_MIRRORS];
	pid_t kid;		/* a forked child not reaped yet */
	int kid_pipe;		/* its records */
	struct rec log[LOG_OPS];
	struct rec *cur;
} P;

static struct fuzz_stats *stats;
static char *arena;		/* ARENA_PAGES, 2 MiB aligned */
static double deadline;		/* now_ms() */
static uint64_t run_seed;
static unsigned int nprocs;
static uint8_t *rbuf;		/* IO_PAGES pages read through a mirror */
static uint8_t *mirror_page;	/* one page read again */
static uint8_t *cpu_page;	/* one page as the CPU sees it */
static uint8_t state[IO_PAGES];
static char maps_buf[1 << 16];

static uint64_t rnd(uint64_t n)
{
	return n ? splitmix64(&P.rng) % n : 0;
}

static char *pg(uint32_t i)
{
	return arena + (size_t)i * psz;
}

/* ------------------------------------------------- log and failure */

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(P.cur->what, sizeof(P.cur->what), fmt, ap);
	va_end(ap);
}

static const char *const op_names[NOPS] = {
	[OP_MMAP_ANON] = "mmap_anon", [OP_MMAP_FILE] = "mmap_file",
	[OP_MUNMAP] = "munmap", [OP_MREMAP] = "mremap",
	[OP_MPROTECT] = "mprotect", [OP_MADVISE] = "madvise",
	[OP_TOUCH] = "touch", [OP_PUNCH] = "punch", [OP_MIGRATE] = "migrate",
	[OP_ADD] = "add",
	[OP_DEL] = "del", [OP_FAULT] = "fault", [OP_READ] = "read",
	[OP_SEQ] = "seq", [OP_SLOW] = "slow", [OP_LOG] = "log",
	[OP_FORK] = "fork", [OP_MRELEASE] = "mrelease", [OP_EXIT] = "exit",
};

static void dump_ops(void)
{
	uint64_t first = P.nops >= LOG_OPS ? P.nops - LOG_OPS + 1 : 1;

	tap_diag("%s: its last %llu operations (pages are arena pages):",
		 P.name, (unsigned long long)(P.nops - first + 1));
	for (uint64_t n = first; n <= P.nops; n++) {
		const struct rec *r = &P.log[n % LOG_OPS];

		if (r->n != n)
			continue;
		tap_diag("%s   #%llu %s %s -> %s", P.name,
			 (unsigned long long)n, op_names[r->op], r->what,
			 r->ret ? strerror(-r->ret) : "0");
	}
}

/* This process failed: say why, show its log and how to replay, exit. */
static void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fuzz_fail(const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	stats->stop = 1;
	tap_diag("%s: FAILED at operation #%llu: %s", P.name,
		 (unsigned long long)P.nops, why);
	dump_ops();
	tap_diag("%s: replay: MNI_FUZZ_SEED=%#llx MNI_FUZZ_PROCS=%u MNI_FUZZ_OPS=%llu",
		 P.name, (unsigned long long)run_seed, nprocs,
		 (unsigned long long)stats->worker_ops[P.idx]);
	tap_diag("%s: this worker alone: the same and MNI_FUZZ_WORKER=%u",
		 P.name, P.idx);
	fflush(stdout);
	_exit(1);
}

/* -------------------------------------------- guarded CPU accesses */

static sigjmp_buf guard_jb;
static volatile sig_atomic_t guard_armed;

static void on_fault(int sig)
{
	if (guard_armed) {
		guard_armed = 0;
		siglongjmp(guard_jb, sig);
	}
	/* Outside a guarded access: a bug of the fuzzer itself. */
	fuzz_fail("signal %d outside a guarded access", sig);
}

/* Write c over len bytes at p, or read its first byte; false on a fault. */
static bool guarded(char *p, size_t len, int c, bool write)
{
	if (sigsetjmp(guard_jb, 1))
		return false;
	guard_armed = 1;
	if (write)
		memset(p, c, len);
	else
		(void)*(volatile char *)p;
	guard_armed = 0;
	return true;
}

static void guard_install(void)
{
	struct sigaction sa = { .sa_handler = on_fault };

	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

/* ------------------------------------------------------ page kinds */

static const char *const kind_names[] = {
	"anonymous", "private memfd", "shared memfd",
};

/*
 * What backs the arena now, from /proc/self/maps, for op_touch(): private
 * pages are written only by their own process, the pages of the memfd
 * only with shm_byte() of their file page (or punched back to zeros).
 */
enum page_kind { PAGE_ANON, PAGE_FILE_PRIVATE, PAGE_FILE_SHARED };

struct vma_kind {
	uint32_t first, end;	/* arena pages, [first, end) */
	long shm_page;		/* memfd page at first; -1: not shared memfd */
	enum page_kind kind;
};

static unsigned int read_kinds(struct vma_kind *k, unsigned int max)
{
	uintptr_t lo = (uintptr_t)arena, hi = lo + ARENA_PAGES * psz;
	unsigned int n = 0;
	ssize_t len = 0, r;
	char *line, *save;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		fuzz_fail("open /proc/self/maps: %s", strerror(errno));
	while ((r = read(fd, maps_buf + len, sizeof(maps_buf) - 1 - len)) > 0)
		len += r;
	close(fd);
	maps_buf[len] = '\0';
	for (line = strtok_r(maps_buf, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long s, e, off, ino, s0;
		char perms[8];

		if (sscanf(line, "%lx-%lx %7s %lx %*s %lu", &s, &e, perms, &off,
			   &ino) != 5 || e <= lo || s >= hi)
			continue;
		s0 = s;
		if (s < lo)
			s = lo;
		if (e > hi)
			e = hi;
		k[n].first = (s - lo) / psz;
		k[n].end = (e - lo) / psz;
		k[n].shm_page = perms[3] == 's' && ino == P.shm_ino ?
				(long)((off + s - s0) / psz) : -1;
		k[n].kind = !ino ? PAGE_ANON : perms[3] == 's' ?
			    PAGE_FILE_SHARED : PAGE_FILE_PRIVATE;
		n++;
	}
	return n;
}

/* The memfd page of a shared mapping at arena page i, or -1. */
static long shm_page_of(const struct vma_kind *k, unsigned int n, uint32_t i)
{
	for (unsigned int j = 0; j < n; j++)
		if (i >= k[j].first && i < k[j].end)
			return k[j].shm_page < 0 ? -1 :
			       k[j].shm_page + (i - k[j].first);
	return -1;
}

/* The kind of arena page i (anonymous if unmapped). */
static enum page_kind kind_of(uint32_t i)
{
	struct vma_kind k[256];
	unsigned int n = read_kinds(k, ARRAY_SIZE(k));

	for (unsigned int j = 0; j < n; j++)
		if (i >= k[j].first && i < k[j].end)
			return k[j].kind;
	return PAGE_ANON;
}

/* --------------------------------------------------------- mm ops */

/* Mostly accessible: a FAULT of PROT_NONE memory only fails. */
static const int prots[] = {
	PROT_NONE, PROT_READ, PROT_READ, PROT_READ | PROT_WRITE,
	PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE,
};

static const char *const prot_names[] = {
	"none", "r", "r", "rw", "rw", "rw", "rw",
};

/* A length in pages, mostly short, at most max. */
static uint32_t pick_len(uint32_t max)
{
	uint64_t r = rnd(100);
	uint32_t n = r < 50 ? 1 + rnd(8) : r < 85 ? 1 + rnd(64) : 1 + rnd(512);

	return n > max ? max : n;
}

/* A range of the arena; now and then a whole THP-sized half. */
static void pick_range(uint32_t *first, uint32_t *n, uint32_t max)
{
	if (max >= ARENA_PAGES / 2 && !rnd(20)) {
		*n = ARENA_PAGES / 2;
		*first = rnd(2) * (ARENA_PAGES / 2);
		return;
	}
	*n = pick_len(max);
	*first = rnd(ARENA_PAGES - *n + 1);
}

static int sys_ret(long r)
{
	return r < 0 ? -errno : 0;
}

static int map_ret(void *p)
{
	return p == MAP_FAILED ? -errno : 0;
}

static int op_mmap_anon(void)
{
	uint32_t first, n, p = rnd(ARRAY_SIZE(prots));
	bool thp;
	int ret;

	pick_range(&first, &n, ARENA_PAGES);
	/* A whole half can take a THP: ask for one (THP "madvise" mode). */
	thp = n == ARENA_PAGES / 2 && first % n == 0;
	note("[%u+%u) %s%s", first, n, prot_names[p], thp ? " HUGEPAGE" : "");
	ret = map_ret(mmap(pg(first), n * psz, prots[p],
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	if (!ret && thp)
		ret = sys_ret(madvise(pg(first), n * psz, MADV_HUGEPAGE));
	return ret;
}

static int op_mmap_file(void)
{
	uint32_t first, n, p = rnd(ARRAY_SIZE(prots)), off;
	bool shared = rnd(4);

	pick_range(&first, &n, SHM_PAGES);
	off = rnd(SHM_PAGES - n + 1);
	note("[%u+%u) %s %s memfd@%u", first, n, prot_names[p],
	     shared ? "shared" : "private", off);
	return map_ret(mmap(pg(first), n * psz, prots[p],
			    (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED,
			    P.shm, (off_t)off * psz));
}

static int op_munmap(void)
{
	uint32_t first, n;

	pick_range(&first, &n, ARENA_PAGES);
	note("[%u+%u)", first, n);
	return sys_ret(munmap(pg(first), n * psz));
}

static int op_mremap(void)
{
	static const char *const modes[] = {
		"shrink", "grow", "move", "move-dontunmap"
	};
	uint32_t first, n, to = 0, m = rnd(4), nn;
	int flags = 0;

	pick_range(&first, &n, ARENA_PAGES / 2);
	switch (m) {
	case 0:
		nn = 1 + rnd(n);
		break;
	case 1:
		nn = n + 1 + rnd(n);
		if (nn > ARENA_PAGES - first)
			nn = ARENA_PAGES - first;
		break;
	case 2:
		nn = pick_len(ARENA_PAGES / 2);
		to = rnd(ARENA_PAGES - nn + 1);
		flags = MREMAP_MAYMOVE | MREMAP_FIXED;
		break;
	default:
		nn = n;
		to = rnd(ARENA_PAGES - nn + 1);
		flags = MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP;
		break;
	}
	note("%s [%u+%u) -> [%u+%u)", modes[m], first, n, flags ? to : first,
	     nn);
	return map_ret(mremap(pg(first), n * psz, nn * psz, flags, pg(to)));
}

static int op_mprotect(void)
{
	uint32_t first, n, p = rnd(ARRAY_SIZE(prots));

	pick_range(&first, &n, ARENA_PAGES);
	note("[%u+%u) %s", first, n, prot_names[p]);
	return sys_ret(mprotect(pg(first), n * psz, prots[p]));
}

static int op_madvise(void)
{
	static const struct {
		int advice;
		const char *name;
	} adv[] = {
		{ MADV_DONTNEED, "DONTNEED" }, { MADV_DONTNEED, "DONTNEED" },
		{ MADV_FREE, "FREE" }, { MADV_COLD, "COLD" },
		{ MADV_PAGEOUT, "PAGEOUT" }, { MADV_REMOVE, "REMOVE" },
		{ MADV_WILLNEED, "WILLNEED" }, { MADV_HUGEPAGE, "HUGEPAGE" },
		{ MADV_NOHUGEPAGE, "NOHUGEPAGE" },
		{ MADV_POPULATE_READ, "POPULATE_READ" },
		{ MADV_POPULATE_WRITE, "POPULATE_WRITE" },
		{ MADV_WIPEONFORK, "WIPEONFORK" },
		{ MADV_KEEPONFORK, "KEEPONFORK" },
	};
	uint32_t first, n, a = rnd(ARRAY_SIZE(adv));

	pick_range(&first, &n, ARENA_PAGES);
	note("[%u+%u) %s", first, n, adv[a].name);
	return sys_ret(madvise(pg(first), n * psz, adv[a].advice));
}

/* The only content a page of the memfd holds, but for zeros. */
static uint8_t shm_byte(long file_page)
{
	return 1 + file_page % 251;
}

/*
 * CPU reads or writes of up to IO_PAGES pages. A write puts one salted
 * byte in every private page and shm_byte() in every page of a shared
 * memfd mapping. Faults (PROT_NONE, holes, SIGBUS) are caught.
 */
static int op_touch(void)
{
	struct vma_kind k[256];
	uint32_t first, n, faults = 0, salt = 1 + rnd(250);
	bool write = rnd(3);
	unsigned int nk;

	pick_range(&first, &n, IO_PAGES);
	note("[%u+%u) %s salt %u", first, n, write ? "write" : "read", salt);
	nk = write ? read_kinds(k, ARRAY_SIZE(k)) : 0;
	for (uint32_t i = first; i < first + n; i++) {
		long f = write ? shm_page_of(k, nk, i) : -1;
		int c = f >= 0 ? shm_byte(f) : 1 + (salt + i) % 251;

		faults += !guarded(pg(i), psz, c, write);
	}
	note("[%u+%u) %s salt %u: %u faults", first, n,
	     write ? "write" : "read", salt, faults);
	return 0;
}

static int op_punch(void)
{
	uint32_t off = rnd(SHM_PAGES), n = pick_len(SHM_PAGES - off);

	note("memfd [%u+%u)", off, n);
	return sys_ret(fallocate(P.shm, FALLOC_FL_PUNCH_HOLE |
				 FALLOC_FL_KEEP_SIZE,
				 (off_t)off * psz, (off_t)n * psz));
}

#ifndef MPOL_MF_MOVE
#define MPOL_MF_MOVE		(1 << 1)
#endif

/* move_pages(2) to node 0 or 1 (numa=fake=2): MIGRATE invalidations. */
static int op_migrate(void)
{
	void *pages[IO_PAGES];
	int nodes[IO_PAGES], status[IO_PAGES], node = rnd(2);
	uint32_t first, n;

	pick_range(&first, &n, IO_PAGES);
	for (uint32_t i = 0; i < n; i++) {
		pages[i] = pg(first + i);
		nodes[i] = node;
	}
	note("[%u+%u) to node %d", first, n, node);
	return sys_ret(syscall(__NR_move_pages, 0, n, pages, nodes, status,
			       MPOL_MF_MOVE));
}

/* ----------------------------------------------------- mirror ops */

static struct slot *pick_slot(void)
{
	unsigned int used[MAX_MIRRORS], n = 0;

	for (unsigned int i = 0; i < MAX_MIRRORS; i++)
		if (P.slot[i].used)
			used[n++] = i;
	return n ? &P.slot[used[rnd(n)]] : NULL;
}

static struct slot *free_slot(void)
{
	for (unsigned int i = 0; i < MAX_MIRRORS; i++)
		if (!P.slot[i].used)
			return &P.slot[i];
	return NULL;
}

static const char *slot_kind(const struct slot *s)
{
	return s->dead ? " dead" : s->nomirror ? " nomirror" : "";
}

static int op_add(void)
{
	static const uint64_t flags[] = {
		0, 0, 0, 0, 0, 0, 0, MNI_TEST_ADD_LOCKED, MNI_TEST_ADD_LOCKED,
		MNI_TEST_ADD_NOMIRROR,
	};
	struct slot *s = free_slot();
	uint32_t first, n;
	uint64_t f = flags[rnd(ARRAY_SIZE(flags))], id = 0;
	int ret;

	pick_range(&first, &n, ARENA_PAGES);
	note("[%u+%u) flags %#llx", first, n, (unsigned long long)f);
	if (!s) {
		note("table full");
		return 0;
	}
	ret = mirror_add(P.dev, pg(first), n * psz, f, &id);
	if (ret)
		fuzz_fail("ADD [%u+%u) flags %#llx: %s", first, n,
			  (unsigned long long)f, strerror(-ret));
	*s = (struct slot){ .used = true, .first = first, .npages = n,
			    .nomirror = f & MNI_TEST_ADD_NOMIRROR, .id = id };
	note("[%u+%u) flags %#llx: id %llu", first, n, (unsigned long long)f,
	     (unsigned long long)id);
	return 0;
}

static void del_slot(struct slot *s)
{
	int ret = mirror_del(P.dev, s->id);

	if (ret)
		fuzz_fail("DEL id %llu: %s", (unsigned long long)s->id,
			  strerror(-ret));
	s->used = false;
}

static int op_del(void)
{
	struct slot *s = pick_slot();

	if (!s) {
		note("no mirror");
		return 0;
	}
	note("id %llu [%u+%u)%s", (unsigned long long)s->id, s->first,
	     s->npages, slot_kind(s));
	del_slot(s);
	return 0;
}

/* A sub-range of s of at most IO_PAGES pages: its first page, its length. */
static void pick_sub(const struct slot *s, uint32_t *first, uint32_t *n)
{
	uint32_t max = s->npages < IO_PAGES ? s->npages : IO_PAGES;

	*n = 1 + rnd(max);
	*first = s->first + rnd(s->npages - *n + 1);
}

static uint32_t read_check(const struct slot *s, uint32_t first, uint32_t n);

/* FAULT a sub-range of a mirror; half the time READ it back at once. */
static int op_fault(void)
{
	struct slot *s = pick_slot();
	struct mni_test_fault f = { 0 };
	uint32_t first, n;
	bool write = rnd(2);
	int ret;

	if (!s) {
		note("no mirror");
		return 0;
	}
	pick_sub(s, &first, &n);
	f.delay_ms = rnd(10) ? 0 : 1 + rnd(2);
	note("id %llu%s [%u+%u) %s delay %llu", (unsigned long long)s->id,
	     slot_kind(s), first, n, write ? "write" : "read",
	     (unsigned long long)f.delay_ms);
	ret = mirror_fault(P.dev, s->id, pg(first), n,
			   write ? MNI_TEST_FAULT_WRITE : 0, &f);
	if (s->nomirror) {
		if (ret != -EINVAL)
			fuzz_fail("FAULT of a NOMIRROR mirror: %s, not EINVAL",
				  strerror(-ret));
	} else if (s->dead) {
		if (ret != -ESRCH)
			fuzz_fail("FAULT on a dead mm: %s, not ESRCH",
				  strerror(-ret));
	} else if (!ret) {
		if (f.pages != n || (write && f.writable != n))
			fuzz_fail("FAULT of %u pages mirrored %llu (%llu writable)",
				  n, (unsigned long long)f.pages,
				  (unsigned long long)f.writable);
		if (rnd(2))
			note("id %llu [%u+%u) %s delay %llu: %llu retries, %u compared",
			     (unsigned long long)s->id, first, n,
			     write ? "write" : "read",
			     (unsigned long long)f.delay_ms,
			     (unsigned long long)f.retries,
			     read_check(s, first, n));
	} else if (ret != -EFAULT && ret != -EPERM && ret != -EBUSY) {
		fuzz_fail("FAULT [%u+%u): %s", first, n, strerror(-ret));
	}
	stats->fault_efault += ret == -EFAULT;
	stats->fault_eperm += ret == -EPERM;
	stats->fault_ebusy += ret == -EBUSY;
	return ret;
}

/*
 * Arena page i reads as buf through mirror s (st: MNI_TEST_PAGE_*): the
 * CPU must see the same. A difference can be a race only with another
 * process's write of a zero memfd page (which writes shm_byte()) or a
 * punch (which also invalidates the mirror): so read the page through
 * the mirror and from the CPU again, and fail only when it is still
 * mirrored and still different CHECK_TRIES times over.
 */
static void check_page(const struct slot *s, uint32_t i, const uint8_t *buf,
		       uint8_t st)
{
	uintptr_t addr = (uintptr_t)pg(i);

	for (int t = 0;; t++) {
		ssize_t r = pread(P.mem, cpu_page, psz, (off_t)addr);
		int err = errno, ret;
		uint64_t m = 0;
		size_t d = 0;

		if (r == (ssize_t)psz && !memcmp(buf, cpu_page, psz)) {
			if (t)
				stats->races[kind_of(i)]++;
			return;
		}
		while (r == (ssize_t)psz && d < psz - 1 && buf[d] == cpu_page[d])
			d++;
		if (t == CHECK_TRIES - 1) {
			if (r != (ssize_t)psz)
				fuzz_fail("stale mirror: id %llu has page %u (%s), unreadable (%s), %d times",
					  (unsigned long long)s->id, i,
					  st == MNI_TEST_PAGE_WRITE ?
					  "writable" : "read-only",
					  r < 0 ? strerror(err) : "short read",
					  CHECK_TRIES);
			fuzz_fail("stale mirror: id %llu page %u (%s): %#x at %zu, CPU %#x, %d times",
				  (unsigned long long)s->id, i,
				  st == MNI_TEST_PAGE_WRITE ? "writable" :
							     "read-only",
				  buf[d], d, cpu_page[d], CHECK_TRIES);
		}
		ret = mirror_read(P.dev, s->id, (void *)addr, 1, mirror_page,
				  &st, &m);
		if (ret)
			fuzz_fail("READ id %llu page %u: %s",
				  (unsigned long long)s->id, i, strerror(-ret));
		if (st == MNI_TEST_PAGE_ABSENT) {
			stats->races[kind_of(i)]++;
			return;
		}
		buf = mirror_page;
	}
}

/*
 * READ [first, first + n) of mirror s and check it: pages the CPU sees,
 * nothing at all on a dead mm. Returns the pages compared.
 */
static uint32_t read_check(const struct slot *s, uint32_t first, uint32_t n)
{
	uint32_t compared = 0;
	uint64_t m = 0;
	int ret;

	ret = mirror_read(P.dev, s->id, pg(first), n, rbuf, state, &m);
	if (s->nomirror) {
		if (ret != -EINVAL)
			fuzz_fail("READ of a NOMIRROR mirror: %s, not EINVAL",
				  strerror(-ret));
		return 0;
	}
	if (ret)
		fuzz_fail("READ id %llu [%u+%u): %s", (unsigned long long)s->id,
			  first, n, strerror(-ret));
	if (s->dead) {
		if (m)
			fuzz_fail("READ: %llu pages still mirrored after the mm of id %llu exited",
				  (unsigned long long)m,
				  (unsigned long long)s->id);
		stats->dead_checked++;
		return 0;
	}
	for (uint32_t j = 0; j < n; j++) {
		if (state[j] == MNI_TEST_PAGE_ABSENT)
			continue;
		check_page(s, first + j, rbuf + (size_t)j * psz, state[j]);
		compared++;
	}
	stats->pages_compared += compared;
	return compared;
}

static int op_read(void)
{
	struct slot *s = pick_slot();
	uint32_t first, n, compared;

	if (!s) {
		note("no mirror");
		return 0;
	}
	pick_sub(s, &first, &n);
	note("id %llu%s [%u+%u)", (unsigned long long)s->id, slot_kind(s),
	     first, n);
	compared = read_check(s, first, n);
	if (s->nomirror)
		return -EINVAL;
	note("id %llu%s [%u+%u): %u mirrored, as the CPU sees them",
	     (unsigned long long)s->id, slot_kind(s), first, n, compared);
	return 0;
}

static int op_seq(void)
{
	struct slot *s = pick_slot();
	uint64_t seq = 0;
	bool retry = false;
	int ret;

	if (!s) {
		note("no mirror");
		return 0;
	}
	note("id %llu%s", (unsigned long long)s->id, slot_kind(s));
	ret = mirror_seq_begin(P.dev, s->id, &seq);
	if (!ret)
		ret = mirror_seq_retry(P.dev, s->id, seq, &retry);
	if (ret)
		fuzz_fail("SEQ_BEGIN/RETRY id %llu: %s",
			  (unsigned long long)s->id, strerror(-ret));
	note("id %llu%s: seq %#llx%s", (unsigned long long)s->id,
	     slot_kind(s), (unsigned long long)seq, retry ? " retry" : "");
	return 0;
}

/* Slow blockable callbacks (0-2 ms) or spin non-blockable ones (0-1 ms). */
static int op_slow(void)
{
	struct slot *s = pick_slot();
	bool spin = rnd(2);
	unsigned int ms = rnd(spin ? 2 : 3);
	int ret;

	if (!s) {
		note("no mirror");
		return 0;
	}
	note("id %llu%s %s %u ms", (unsigned long long)s->id, slot_kind(s),
	     spin ? "spin" : "slow", ms);
	ret = spin ? mirror_spin(P.dev, s->id, ms) :
		     mirror_slow(P.dev, s->id, ms);
	if (ret)
		fuzz_fail("%s id %llu: %s", spin ? "SPIN" : "SLOW",
			  (unsigned long long)s->id, strerror(-ret));
	return 0;
}

static struct mni_test_log log_buf;

/* Every callback a mirror logged overlapped its range. */
static void check_log(const struct slot *s)
{
	uint64_t lo = (uintptr_t)pg(s->first);
	uint64_t hi = lo + (uint64_t)s->npages * psz;
	int ret = mirror_log(P.dev, s->id, true, &log_buf);

	if (ret)
		fuzz_fail("LOG id %llu: %s", (unsigned long long)s->id,
			  strerror(-ret));
	for (uint64_t i = 0; i < log_buf.count; i++) {
		const struct mni_test_log_entry *e = &log_buf.entry[i];

		if (e->start >= e->end || e->end <= lo || e->start >= hi) {
			dump_log("the log", &log_buf);
			fuzz_fail("id %llu [%#llx, %#llx) was called for %s [%#llx, %#llx)",
				  (unsigned long long)s->id,
				  (unsigned long long)lo,
				  (unsigned long long)hi,
				  mirror_event_name(e->event),
				  (unsigned long long)e->start,
				  (unsigned long long)e->end);
		}
	}
}

static int op_log(void)
{
	struct slot *s = pick_slot();

	if (!s) {
		note("no mirror");
		return 0;
	}
	check_log(s);
	note("id %llu%s: %llu entries, %llu calls",
	     (unsigned long long)s->id, slot_kind(s),
	     (unsigned long long)log_buf.count,
	     (unsigned long long)log_buf.calls);
	return 0;
}

/* ------------------------------------------------------ processes */

static void child_main(uint64_t seed, int wfd, bool wait_kill);

/*
 * Read a child's list of mirrors from fd into recs, up to and with the
 * record of id 0 that ends it; false when the pipe closed before.
 */
static bool read_recs(int fd, struct child_rec *recs)
{
	size_t got = 0, max = (MAX_MIRRORS + 1) * sizeof(*recs);

	while (got < max) {
		ssize_t r = read(fd, (char *)recs + got, max - got);

		if (r <= 0)
			return false;
		got += r;
		if (got % sizeof(*recs) == 0 && !recs[got / sizeof(*recs) - 1].id)
			return true;
	}
	return false;
}

/*
 * Take over the mirrors a dead child left, now that its mm is gone; when
 * dead ones fill half the table, check one at once and remove it.
 */
static void adopt(const struct child_rec *recs)
{
	for (; recs->id; recs++) {
		struct slot *s = free_slot(), tmp;
		unsigned int dead = 0;

		for (unsigned int i = 0; i < MAX_MIRRORS; i++)
			dead += P.slot[i].used && P.slot[i].dead;
		if (!s || dead >= MAX_MIRRORS / 2)
			s = &tmp;
		*s = (struct slot){ .used = true, .dead = true,
				    .nomirror = recs->nomirror,
				    .first = recs->first,
				    .npages = recs->npages, .id = recs->id };
		if (s != &tmp)
			continue;
		read_check(s, s->first,
			   s->npages < IO_PAGES ? s->npages : IO_PAGES);
		check_log(s);
		del_slot(s);
	}
}

/* Reap the child of the last fork, which must have exited with 0. */
static void reap_kid(void)
{
	struct child_rec recs[MAX_MIRRORS + 1];
	int status;

	if (!P.kid)
		return;
	if (waitpid(P.kid, &status, 0) != P.kid)
		fuzz_fail("waitpid %d: %s", P.kid, strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fuzz_fail("child %d failed (wait status %#x), see its report",
			  P.kid, status);
	if (!read_recs(P.kid_pipe, recs))
		fuzz_fail("child %d exited without its list of mirrors",
			  P.kid);
	close(P.kid_pipe);
	P.kid = 0;
	adopt(recs);
}

static pid_t spawn_child(int *rfd, bool wait_kill)
{
	uint64_t seed = splitmix64(&P.rng);
	int pfd[2];
	pid_t pid;

	if (pipe(pfd))
		fuzz_fail("pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		fuzz_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		close(pfd[0]);
		child_main(seed, pfd[1], wait_kill);
	}
	close(pfd[1]);
	stats->children++;
	*rfd = pfd[0];
	return pid;
}

/* Fork a child that runs a few operations and exits, reaped later. */
static int op_fork(void)
{
	reap_kid();
	P.kid = spawn_child(&P.kid_pipe, false);
	note("child %d", P.kid);
	return 0;
}

/*
 * Fork a child that mirrors and faults, then SIGKILL it and reap its
 * memory with process_mrelease(2): the non-blockable invalidations of
 * the OOM reaper, racing the child's own exit.
 */
static int op_mrelease(void)
{
	struct child_rec recs[MAX_MIRRORS + 1];
	int rfd, pidfd, status, ret = 0;
	pid_t pid;

	reap_kid();
	pid = spawn_child(&rfd, true);
	note("child %d", pid);
	/* Its list of mirrors comes when it is done and pausing. */
	if (!read_recs(rfd, recs)) {
		waitpid(pid, &status, 0);
		fuzz_fail("child %d failed before it was killed (wait status %#x)",
			  pid, status);
	}
	close(rfd);
	pidfd = syscall(__NR_pidfd_open, pid, 0);
	if (pidfd < 0)
		ret = -errno;
	if (kill(pid, SIGKILL))
		fuzz_fail("kill %d: %s", pid, strerror(errno));
	if (pidfd >= 0 && syscall(__NR_process_mrelease, pidfd, 0) < 0)
		ret = -errno;
	/* Refused (a callback's trylock failed), interrupted, or too late. */
	if (ret && ret != -EAGAIN && ret != -EINTR && ret != -ESRCH &&
	    ret != -EINVAL && ret != -ENOSYS)
		fuzz_fail("process_mrelease: %s", strerror(-ret));
	stats->mrelease_ok += !ret;
	stats->mrelease_again += ret == -EAGAIN;
	if (pidfd >= 0)
		close(pidfd);
	if (waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status) ||
	    WTERMSIG(status) != SIGKILL)
		fuzz_fail("child %d: wait status %#x, not SIGKILL", pid,
			  status);
	note("child %d: process_mrelease %s", pid,
	     ret ? strerror(-ret) : "0");
	adopt(recs);
	return ret;
}

/* Leave: sometimes remove every mirror first, else let close do it. */
static void __attribute__((noreturn)) finish(int code)
{
	reap_kid();
	if (rnd(2)) {
		for (unsigned int i = 0; i < MAX_MIRRORS; i++)
			if (P.slot[i].used)
				del_slot(&P.slot[i]);
	}
	close(P.dev);
	fflush(stdout);
	_exit(code);
}

/* The worker exits, mirrors inserted; the test forks its next generation. */
static int op_exit(void)
{
	finish(EXIT_RESPAWN);
}

/* ----------------------------------------------------- the op table */

struct op {
	int (*run)(void);
	unsigned int weight;	/* in the sum of all weights */
	bool in_child;		/* also in a worker's child */
};

static const struct op ops[NOPS] = {
	[OP_MMAP_ANON] = { op_mmap_anon, 16, true },
	[OP_MMAP_FILE] = { op_mmap_file, 12, true },
	[OP_MUNMAP] = { op_munmap, 14, true },
	[OP_MREMAP] = { op_mremap, 16, true },
	[OP_MPROTECT] = { op_mprotect, 20, true },
	[OP_MADVISE] = { op_madvise, 24, true },
	[OP_TOUCH] = { op_touch, 40, true },
	[OP_PUNCH] = { op_punch, 6, true },
	[OP_MIGRATE] = { op_migrate, 6, true },
	[OP_ADD] = { op_add, 32, true },
	[OP_DEL] = { op_del, 18, true },
	[OP_FAULT] = { op_fault, 56, true },
	[OP_READ] = { op_read, 56, true },
	[OP_SEQ] = { op_seq, 8, true },
	[OP_SLOW] = { op_slow, 4, true },
	[OP_LOG] = { op_log, 8, true },
	[OP_FORK] = { op_fork, 5, false },
	[OP_MRELEASE] = { op_mrelease, 4, false },
	[OP_EXIT] = { op_exit, 1, false },
};

static int pick_op(void)
{
	unsigned int total = 0, r;
	int i;

	for (i = 0; i < NOPS; i++)
		if (!P.child || ops[i].in_child)
			total += ops[i].weight;
	r = rnd(total);
	for (i = 0; i < NOPS; i++) {
		if (P.child && !ops[i].in_child)
			continue;
		if (r < ops[i].weight)
			break;
		r -= ops[i].weight;
	}
	return i;
}

/* Run operation op (a random one if op < 0) and log it. */
static void run_op(int op)
{
	struct rec *r;
	uint64_t t0;

	if (op < 0)
		op = pick_op();
	P.nops++;
	if (!P.child)
		stats->worker_ops[P.idx]++;
	r = &P.log[P.nops % LOG_OPS];
	*r = (struct rec){ .n = P.nops, .op = op };
	P.cur = r;
	stats->ops[op]++;
	t0 = now_ns();
	r->ret = ops[op].run();
	stats->ns[op] += now_ns() - t0;
	stats->errs[op] += r->ret != 0;
}

static void open_files(void)
{
	P.dev = open(dev_path, O_RDWR | O_CLOEXEC);
	if (P.dev < 0)
		fuzz_fail("open %s: %s", dev_path, strerror(errno));
	if (P.mem >= 0)
		close(P.mem);
	/* Each process its own: the file pins the mm that opened it. */
	P.mem = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	if (P.mem < 0)
		fuzz_fail("open /proc/self/mem: %s", strerror(errno));
}

/*
 * A worker's child: a few operations (the first two mirror and fault) on
 * its copy of the arena and its own mirrors, through the worker's file;
 * then hand the mirrors left to the parent and exit, or wait for the
 * parent's SIGKILL.
 */
static void child_main(uint64_t seed, int wfd, bool wait_kill)
{
	struct child_rec recs[MAX_MIRRORS + 1];
	unsigned int n = 0, nops;
	uint64_t parent_op = P.nops;

	P.child = true;
	P.rng = seed;
	P.nops = 0;
	P.kid = 0;
	memset(P.slot, 0, sizeof(P.slot));
	memset(P.log, 0, sizeof(P.log));
	snprintf(P.name + strlen(P.name), sizeof(P.name) - strlen(P.name),
		 "/c%llu", (unsigned long long)parent_op);
	/* Its own /proc/self/mem; the device file stays the worker's. */
	P.mem = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	if (P.mem < 0)
		fuzz_fail("open /proc/self/mem: %s", strerror(errno));
	nops = 4 + rnd(13);
	run_op(OP_ADD);
	run_op(OP_FAULT);
	for (unsigned int i = 2; i < nops && !stats->stop; i++)
		run_op(-1);
	for (unsigned int i = 0; i < MAX_MIRRORS; i++) {
		const struct slot *s = &P.slot[i];

		if (s->used)
			recs[n++] = (struct child_rec){
				.id = s->id, .first = s->first,
				.npages = s->npages, .nomirror = s->nomirror,
			};
	}
	recs[n++] = (struct child_rec){ 0 };
	if (write(wfd, recs, n * sizeof(recs[0])) !=
	    (ssize_t)(n * sizeof(recs[0])))
		fuzz_fail("write to the parent: %s", strerror(errno));
	fflush(stdout);
	if (wait_kill)
		for (;;)
			pause();
	_exit(0);	/* mirrors inserted: exit_mmap releases them */
}

static void worker_main(unsigned int idx, unsigned int gen)
{
	P.idx = idx;
	P.gen = gen;
	P.rng = run_seed ^ (0x100000001b3ULL * (idx + 1));
	P.rng = splitmix64(&P.rng) ^ (0xcbf29ce484222325ULL * (gen + 1));
	P.mem = -1;
	snprintf(P.name, sizeof(P.name), "w%u.%u", idx, gen);
	guard_install();
	open_files();
	while (!stats->stop && now_ms() < deadline &&
	       stats->worker_ops[idx] < P.max_ops)
		run_op(-1);
	finish(0);
}

/* ---------------------------------------------------- the test */

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *e = getenv(name);

	return e && *e ? strtoull(e, NULL, 0) : dflt;
}

/* The arena, its guards and the memfd, before the workers fork. */
static void setup_arena(void)
{
	size_t two_mb = 2 << 20, len = (ARENA_PAGES + 2 * GUARD_PAGES) * psz;
	char *res = mmap(NULL, len + two_mb, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	struct stat st;

	CHECK(res != MAP_FAILED, "mmap: %s", strerror(errno));
	arena = (char *)(((uintptr_t)res + GUARD_PAGES * psz + two_mb - 1) &
			 ~(uintptr_t)(two_mb - 1));
	P.shm = memfd_create("mni_fuzz", MFD_CLOEXEC);
	CHECK(P.shm >= 0, "memfd_create: %s", strerror(errno));
	CHECK(!ftruncate(P.shm, (off_t)SHM_PAGES * psz), "ftruncate: %s",
	      strerror(errno));
	CHECK(!fstat(P.shm, &st), "fstat: %s", strerror(errno));
	P.shm_ino = st.st_ino;
	CHECK(mmap(arena, SHM_PAGES * psz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED,
	      "mmap: %s", strerror(errno));
	/* Each generation starts with a half that can take a THP. */
	madvise(arena, SHM_PAGES * psz, MADV_HUGEPAGE);
	CHECK(mmap(pg(SHM_PAGES), SHM_PAGES * psz, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_FIXED, P.shm, 0) != MAP_FAILED,
	      "mmap: %s", strerror(errno));
	stats = mmap(NULL, sizeof(*stats), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(stats != MAP_FAILED, "mmap: %s", strerror(errno));
	/* Buffers now: a worker maps nothing outside the arena. */
	rbuf = malloc(IO_PAGES * psz);
	mirror_page = malloc(psz);
	cpu_page = malloc(psz);
	CHECK(rbuf && mirror_page && cpu_page, "malloc");
}

/* Kernel paths the run went through, from /proc/vmstat. */
static const char *const vm_events[] = {
	"thp_fault_alloc", "thp_split_pmd", "thp_zero_page_alloc",
	"thp_collapse_alloc", "pgmigrate_success", "pglazyfreed", "pgfree",
};

static void read_vmstat(uint64_t *v)
{
	char name[64];
	unsigned long long val;
	FILE *f = fopen("/proc/vmstat", "r");

	memset(v, 0, ARRAY_SIZE(vm_events) * sizeof(*v));
	while (f && fscanf(f, "%63s %llu", name, &val) == 2)
		for (unsigned int i = 0; i < ARRAY_SIZE(vm_events); i++)
			if (!strcmp(name, vm_events[i]))
				v[i] = val;
	if (f)
		fclose(f);
}

static pid_t spawn_worker(unsigned int idx, unsigned int gen)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0)
		worker_main(idx, gen);
	return pid;
}

static void test_fuzz(void)
{
	unsigned int secs = env_u64("MNI_FUZZ_SECS", DEFAULT_SECS);
	pid_t pids[MAX_PROCS] = { 0 };
	unsigned int gens[MAX_PROCS] = { 0 }, live = 0, failed = 0, only;
	uint64_t total = 0, vm0[ARRAY_SIZE(vm_events)], vm1[ARRAY_SIZE(vm_events)];
	double t0 = now_ms();
	char line[1024];
	size_t len = 0;

	nprocs = env_u64("MNI_FUZZ_PROCS", DEFAULT_PROCS);
	run_seed = now_ns() ^ ((uint64_t)getpid() << 32);
	run_seed = env_u64("MNI_FUZZ_SEED", splitmix64(&run_seed));
	P.max_ops = env_u64("MNI_FUZZ_OPS", UINT64_MAX);
	only = env_u64("MNI_FUZZ_WORKER", MAX_PROCS);
	CHECK(nprocs >= 1 && nprocs <= MAX_PROCS, "MNI_FUZZ_PROCS=%u: 1 to %d",
	      nprocs, MAX_PROCS);
	tap_diag("seed %#llx, %u processes, %u s%s (replay: MNI_FUZZ_SEED=%#llx)",
		 (unsigned long long)run_seed, nprocs, secs,
		 P.max_ops == UINT64_MAX && only == MAX_PROCS ? "" :
		 ", a replay",
		 (unsigned long long)run_seed);
	read_vmstat(vm0);
	setup_arena();
	deadline = t0 + secs * 1000.0;
	for (unsigned int i = 0; i < nprocs; i++) {
		if (only < MAX_PROCS && i != only)
			continue;
		pids[i] = spawn_worker(i, 0);
		live++;
	}
	while (live) {
		int status;
		pid_t pid = waitpid(-1, &status, 0);
		unsigned int i;

		if (pid < 0) {
			CHECK(errno == EINTR, "waitpid: %s", strerror(errno));
			continue;
		}
		for (i = 0; i < nprocs && pids[i] != pid; i++)
			;
		if (i == nprocs)
			continue;	/* a worker's orphan */
		if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_RESPAWN &&
		    !stats->stop && now_ms() < deadline &&
		    stats->worker_ops[i] < P.max_ops) {
			pids[i] = spawn_worker(i, ++gens[i]);
			continue;
		}
		live--;
		pids[i] = 0;
		if (WIFEXITED(status) && (WEXITSTATUS(status) == 0 ||
					  WEXITSTATUS(status) == EXIT_RESPAWN))
			continue;
		failed++;
		stats->stop = 1;
		tap_diag("worker %u.%u: wait status %#x", i, gens[i], status);
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;

	for (int op = 0; op < NOPS; op++) {
		total += stats->ops[op];
		len += snprintf(line + len, sizeof(line) - len, "%s%s %llu",
				op ? ", " : "", op_names[op],
				(unsigned long long)stats->ops[op]);
		if (stats->errs[op])
			len += snprintf(line + len, sizeof(line) - len,
					" (%llu failed)",
					(unsigned long long)stats->errs[op]);
		if (len >= sizeof(line))
			len = sizeof(line) - 1;
	}
	tap_diag("fuzz %.1f s, seed %#llx: %llu operations in %u processes and %llu children",
		 (now_ms() - t0) / 1000, (unsigned long long)run_seed,
		 (unsigned long long)total, nprocs,
		 (unsigned long long)stats->children);
	tap_diag("%s", line);
	len = 0;
	for (int op = 0; op < NOPS; op++) {
		len += snprintf(line + len, sizeof(line) - len, "%s%s %.1f",
				op ? ", " : "", op_names[op],
				stats->ops[op] ? stats->ns[op] / 1e6 /
						 stats->ops[op] : 0.0);
		if (len >= sizeof(line))
			len = sizeof(line) - 1;
	}
	tap_diag("ms per operation: %s", line);
	read_vmstat(vm1);
	len = 0;
	for (unsigned int i = 0; i < ARRAY_SIZE(vm_events); i++) {
		len += snprintf(line + len, sizeof(line) - len, "%s%s +%llu",
				i ? ", " : "", vm_events[i],
				(unsigned long long)(vm1[i] - vm0[i]));
		if (len >= sizeof(line))
			len = sizeof(line) - 1;
	}
	tap_diag("vmstat: %s", line);
	tap_diag("FAULT failed with EFAULT %llu, EPERM %llu, EBUSY %llu times",
		 (unsigned long long)stats->fault_efault,
		 (unsigned long long)stats->fault_eperm,
		 (unsigned long long)stats->fault_ebusy);
	tap_diag("%llu mirrored pages compared with the CPU; differences gone on a re-read: %llu %s, %llu %s, %llu %s",
		 (unsigned long long)stats->pages_compared,
		 (unsigned long long)stats->races[PAGE_ANON], kind_names[0],
		 (unsigned long long)stats->races[PAGE_FILE_PRIVATE],
		 kind_names[1],
		 (unsigned long long)stats->races[PAGE_FILE_SHARED],
		 kind_names[2]);
	tap_diag("%llu reads of dead mirrors, process_mrelease %llu ok %llu EAGAIN",
		 (unsigned long long)stats->dead_checked,
		 (unsigned long long)stats->mrelease_ok,
		 (unsigned long long)stats->mrelease_again);
	CHECK(!failed, "%u worker(s) failed, see above (seed %#llx)", failed,
	      (unsigned long long)run_seed);
	/* A run that compared nothing checked nothing. */
	if (P.max_ops == UINT64_MAX && only == MAX_PROCS)
		CHECK(stats->ops[OP_ADD] && stats->pages_compared &&
		      stats->dead_checked && stats->children,
		      "the fuzzer did too little to check anything");
}

#define TEST(id, secs)	{ .name = #id, .fn = test_##id, .timeout = secs }

static struct tap_test tests[] = {
	TEST(fuzz, 0),		/* timeout set in main */
};

int main(int argc, char **argv)
{
	tests[0].timeout = env_u64("MNI_FUZZ_SECS", DEFAULT_SECS) + 120;
	return suite_main(argc, argv, &info, tests, ARRAY_SIZE(tests));
}
