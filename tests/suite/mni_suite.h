/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mni_suite.h - what the conformance suite's topic files share
 *
 * mni_suite is one binary: mni_suite.c holds main() and the helpers more
 * than one topic uses; each mni_suite_TOPIC.c holds one topic's tests and
 * their test list (struct suite_list suite_TOPIC).
 */
#ifndef MNI_SUITE_H
#define MNI_SUITE_H

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

/* Each test ID is the function test_ID. */
#define TEST(id, secs)	{ .name = #id, .fn = test_##id, .timeout = secs }
#define MANUAL(id, secs)	{ .name = #id, .fn = test_##id, .timeout = secs, \
				  .manual = true }
/*
 * A test on the fixture dev_pages (util.h): it finds its fd on the
 * variant's device in dp.fd and npages mapped pages at dp.p, and leaves
 * both to the fixture's teardown.
 */
#define TEST_PAGES(id, npages, secs)	{ .name = #id, .fn = test_##id, \
					  .timeout = secs, .arg = npages, \
					  .fixture = &dev_pages }

/* One topic's tests. */
struct suite_list {
	const struct tap_test *tests;
	unsigned int ntests;
};

extern const struct suite_list suite_invalidate, suite_lifecycle,
	suite_retry, suite_ext, suite_two_pass, suite_errors, suite_boundary;

/* What READ returned for a range of a mirror. */
struct snap {
	size_t n;
	uint64_t mirrored;
	uint8_t *state;
	uint8_t *buf;
};

struct sub_desc {
	uint64_t id;
	uint64_t start;
	uint64_t len;
	uint64_t mirrored;	/* has a page table */
};

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

/* Helpers defined in mni_suite.c. */
bool engine_is_kern(void);
void snap_free(struct snap *s);
struct snap must_read(int fd, uint64_t id, void *addr, size_t n);
bool page_is(const struct snap *s, size_t i, uint8_t b);
void check_mirrored(const struct snap *s, size_t i, uint8_t b);
void check_absent(const struct snap *s, size_t i);
int log_find(const struct mni_test_log *log, uint64_t event,
	     const void *start, size_t len, uint64_t want_flags);
void expect_event(const struct mni_test_log *log, const char *who,
		  uint64_t event, const void *start, size_t len,
		  uint64_t want_flags);
void expect_reap_event(const struct mni_test_log *log, const char *who,
		       const void *start, size_t len,
		       uint64_t want_flags);
void expect_all_overlap(const struct mni_test_log *log,
			const char *who, const void *start, size_t len);
void expect_no_calls(int fd, uint64_t id, const char *who);
/* Skip on the kernel's engine, for @why (see tap_skip_engine()). */
void skip_on_kern(const char *why);
void check_not_refused(int ret);
int kmsg_open(void);
int kmsg_count_engine(int fd, const char *needle);
int kmsg_count_mni(int fd);
int mirror_update(int fd, uint64_t id, void *addr, size_t len,
		  uint64_t flags);
void require_two_pass(int fd);
/* PUT of mirror id (0: none), with flags; returns the released count. */
uint64_t mirror_put_ioc(int fd, uint64_t id, uint64_t flags);
/* Wait up to 2 s for the released count to reach @want. */
uint64_t wait_released(int fd, uint64_t want);

#endif /* MNI_SUITE_H */
