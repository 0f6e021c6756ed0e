/* SPDX-License-Identifier: GPL-2.0 */
/*
 * util.h - process, memory and clock helpers of the mni TAP suites
 *
 * Shared by the suites in tests/suite. Every helper runs
 * inside a test (see tap.h): one that cannot do its job fails the test
 * through CHECK().
 */
#ifndef MNI_UTIL_H
#define MNI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tap.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* For libcs older than these syscalls (5.3 and 5.15). */
#ifndef __NR_pidfd_open
#define __NR_pidfd_open		434
#endif
#ifndef __NR_process_mrelease
#define __NR_process_mrelease	448
#endif

/*
 * Set before the tests run (by main() or the variant's enter()): the
 * device under test, the page size.
 */
extern const char *dev_path;
extern size_t psz;

/* CLOCK_MONOTONIC, the clock of the driver's log entries (time_ns). */
uint64_t now_ns(void);
double now_ms(void);

/* A new fd on dev_path. */
int open_dev(void);

struct mni_test_info;
/*
 * Before tap_run(): dev_path opens and answers INFO (into *info) with our
 * page size, and a diagnostic names its engine; else false, after a
 * "Bail out!" line saying why.
 */
bool device_ready(struct mni_test_info *info);

/* n anonymous private pages, never THP, so every range is exact. */
char *map_pages(size_t n);

/* The byte every byte of page i holds under pattern salt; never 0. */
uint8_t pat(unsigned int salt, size_t i);
/* Write pattern salt into n pages at p. */
void fill(char *p, size_t n, unsigned int salt);

/*
 * The main() of a TAP suite. "SUITE [TEST...]" runs the named tests (all
 * without any; each a pattern, see tap.h) once per engine, the variants
 * suite_engines (kern, then mni), and compares the results;
 * "SUITE /dev/DEV [TEST...]" runs them on DEV alone, after
 * device_ready(); "SUITE --list" lists them. Return: the process's exit
 * status.
 */
int suite_main(int argc, char **argv, struct mni_test_info *info,
	       const struct tap_test *tests, unsigned int ntests);
/* suite_main() with other variants; compare: whether to compare them. */
int suite_main_variants(int argc, char **argv, struct mni_test_info *info,
			const struct tap_test *tests, unsigned int ntests,
			const struct tap_variant *variants,
			unsigned int nvariants, bool compare);
/* The engines: SUITE_KERN, then SUITE_MNI. */
extern const struct tap_variant suite_engines[2];
#define SUITE_KERN	{ .name = "kern", .dev = "/dev/mni_test_kern", \
			  .enter = suite_enter }
#define SUITE_MNI	{ .name = "mni", .dev = "/dev/mni_test_mni", \
			  .enter = suite_enter }
/*
 * A variant's enter(): dev_path becomes v->dev, which must open and
 * answer INFO (into the suite's info) with our page size; a diagnostic
 * names its engine.
 */
enum tap_result suite_enter(const struct tap_variant *v, char *why,
			    size_t len);

/*
 * The fixture dev_pages: the test's fd on dev_path (dp.fd) and dp.n =
 * tap_test.arg anonymous pages at dp.p (map_pages()); its teardown closes
 * the fd and unmaps the pages.
 */
struct dev_pages_data {
	int fd;
	char *p;
	size_t n;
};
extern struct dev_pages_data dp;
extern const struct tap_fixture dev_pages;

/* Read a whole (pseudo) file; NULL with errno set on failure. */
char *slurp(const char *path);
/* slurp(), failing the test when the file cannot be read. */
char *must_slurp(const char *path);
/*
 * The value of "key: N" at the start of a line of @text, or fail. Keys
 * are matched whole: "callbacks" does not match "callbacks_refused".
 */
uint64_t kv(const char *text, const char *key);

/* The engine's debugfs summary (ours only: the kernel's has none). */
#define MNI_DEBUGFS	"/sys/kernel/debug/mmu_interval_notifier"
struct engine_summary {
	uint64_t mms, subs, in_flight, invalidations, callbacks, refused;
	uint64_t no_record;
};
struct engine_summary read_engine_summary(void);

/*
 * Slab, per-CPU and vmalloc bytes of /proc/meminfo, after letting the RCU
 * frees of exited mms run, giving every slab cache's empty slabs back
 * (/sys/kernel/slab/NAME/shrink, where SLUB has it) and folding the vmstat
 * deltas; -1 without /proc/meminfo.
 */
long long kernel_bytes(void);

/*
 * The running kernel (uname -r) is at least MAJOR.MINOR. Fails the test
 * when the release cannot be read.
 */
bool kernel_at_least(unsigned int major, unsigned int minor);
/* The kernel proves locking (lockdep's CONFIG_PROVE_LOCKING). */
bool kernel_proves_locking(void);

/* fork() with stdio flushed first; the child gets 0. */
pid_t fork_child(void);
/* Reap pid, which must have exited with status 0. */
void wait_child_ok(pid_t pid);
/* Wait until task pid sleeps uninterruptibly (in the driver's msleep). */
void wait_task_state_d(pid_t pid);

/*
 * Open a pidfd on pid, then SIGKILL pid, whose memory the pidfd can then
 * reap (process_mrelease_or_skip()). Without pidfd_open(2) pid is killed
 * and the test skipped.
 */
int pidfd_open_and_kill(pid_t pid);
/* process_mrelease(2) of pidfd: 0, or -1 with errno; skips without it. */
long process_mrelease_or_skip(int pidfd);

#endif /* MNI_UTIL_H */
