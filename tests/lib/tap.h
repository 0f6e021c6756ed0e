/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tap.h - the TAP harness of every mni test program
 *
 * Used by the QEMU suites (tests/suite: each runs on one engine, the
 * DEVICE it is given) and by the userspace engine tests (tests/user).
 * Every test runs in its own forked child, in its own process group, under
 * alarm(): a crash, a sanitizer abort, a failed check or a hang costs that
 * test one "not ok" line and the run goes on. A test passes by returning,
 * fails through CHECK() (or any other exit or signal) and skips through
 * tap_skip() or tap_skip_engine(), with its reason. A run ends with one
 * line "N passed, N failed, N skipped".
 *
 * Tests are picked by name: each name given is a shell pattern (fnmatch),
 * and one that matches no test is a failure of the run.
 */
#ifndef MNI_TAP_H
#define MNI_TAP_H

#include <stdbool.h>

struct tap_test {
	const char *name;
	void (*fn)(void);
	unsigned int timeout;	/* seconds, 0: TAP_DEFAULT_TIMEOUT */
	bool manual;		/* only run when named on the command line */
	long arg;		/* handed to the test in tap_arg */
};

/* The running test's tap_test.arg. */
extern long tap_arg;
/* When set, called in the child on a failed CHECK(), before it exits. */
extern void (*tap_fail_hook)(void);

#define TAP_DEFAULT_TIMEOUT	30

/* Print a "# " diagnostic line. */
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* End the current test as failed / skipped. */
void tap_fail_at(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
void tap_skip(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
/*
 * Skip on this engine only, for a reason of the engine itself (a call it
 * does not have, an input it does not survive), decided by the test from
 * what it can query at run time. The line reads "# SKIP engine: REASON";
 * guest-check.sh accepts the other engine's differing result for it.
 */
void tap_skip_engine(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

#define CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			tap_diag("check failed: %s", #cond);		\
			tap_fail_at(__FILE__, __LINE__, __VA_ARGS__);	\
		}							\
	} while (0)

#define FAIL(...)	tap_fail_at(__FILE__, __LINE__, __VA_ARGS__)

/*
 * Run the tests whose name matches a pattern of names[0..nnames) (all but
 * the manual ones when nnames is 0) and print TAP ending with "N passed,
 * N failed, N skipped"; a pattern that matches no test counts as one
 * failure. Returns the number of failures.
 */
int tap_run(const struct tap_test *tests, unsigned int ntests,
	    char *const *names, unsigned int nnames);

/* Print "usage: PROG DEVICE [TEST-PATTERN...]" and the names to stderr. */
void tap_usage(const char *prog, const struct tap_test *tests,
	       unsigned int ntests);

/* Print the tests' names to stdout, one a line. */
void tap_list(const struct tap_test *tests, unsigned int ntests);

/*
 * The main() of a test program without a device: "PROG [--list]
 * [PATTERN...]". Return: the process's exit status.
 */
int tap_main(int argc, char **argv, const struct tap_test *tests,
	     unsigned int ntests);

#endif /* MNI_TAP_H */
