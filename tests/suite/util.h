/* SPDX-License-Identifier: GPL-2.0 */
/*
 * util.h - process, memory and clock helpers of the mni TAP suites
 *
 * Shared by mni_suite, mni_triggers and mni_observe. Every helper runs
 * inside a test (see tap.h): one that cannot do its job fails the test
 * through CHECK().
 */
#ifndef MNI_UTIL_H
#define MNI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* For libcs older than these syscalls (5.3 and 5.15). */
#ifndef __NR_pidfd_open
#define __NR_pidfd_open		434
#endif
#ifndef __NR_process_mrelease
#define __NR_process_mrelease	448
#endif

/* Set by main() before tap_run(): the device under test, the page size. */
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
