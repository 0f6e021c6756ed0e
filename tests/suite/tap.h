/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tap.h - a tiny TAP harness for the mni test suites
 *
 * Every test runs in its own forked child, in its own process group, under
 * alarm(): a crash, a failed check or a hang costs that test one "not ok"
 * line and the run goes on. A test passes by returning, fails through
 * CHECK() (or any other exit or signal) and skips through tap_skip().
 */
#ifndef MNI_TAP_H
#define MNI_TAP_H

#include <stdbool.h>

struct tap_test {
	const char *name;
	void (*fn)(void);
	unsigned int timeout;	/* seconds, 0: TAP_DEFAULT_TIMEOUT */
	bool manual;		/* only run when named on the command line */
};

#define TAP_DEFAULT_TIMEOUT	30

/* Print a "# " diagnostic line. */
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* End the current test as failed / skipped. */
void tap_fail_at(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
void tap_skip(const char *fmt, ...)
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
 * Run the tests whose name is in names[0..nnames) (all but the manual ones
 * when nnames is 0) and print TAP ending with "N passed, N failed, N skipped". Returns the
 * number of failures.
 */
int tap_run(const struct tap_test *tests, unsigned int ntests,
	    char *const *names, unsigned int nnames);

/* Print "usage: PROG DEVICE [TEST...]" and the tests' names to stderr. */
void tap_usage(const char *prog, const struct tap_test *tests,
	       unsigned int ntests);

#endif /* MNI_TAP_H */
