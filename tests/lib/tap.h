/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tap.h - the TAP harness of every mni test program
 *
 * Used by the QEMU suites (tests/suite) and by the userspace engine tests
 * (tests/user). Every test runs in its own forked child, in its own
 * process group, under alarm(): a crash, a sanitizer abort, a failed check
 * or a hang costs that test one "not ok" line and the run goes on. A test
 * passes by returning, fails through CHECK() (or any other exit or signal)
 * and skips through tap_skip() or tap_skip_engine(), with its reason. A
 * run ends with one line "N passed, N failed, N skipped".
 *
 * Fixture: a test may name one (tap_test.fixture); its setup runs in the
 * test's child before the test, and its teardown after the test once the
 * setup has returned, however the test ends through the harness: by
 * returning, CHECK(), FAIL() or a skip.
 *
 * Variants: tap_run_variants() runs every selected test once per variant
 * (an engine for the suites), all of a variant's tests before the next
 * variant's, with tap_variant pointing at the variant in the test's child,
 * and names the lines "VARIANT/TEST". Then it compares each test's results
 * across the variants: they must end alike, but where a variant skipped the
 * test through tap_skip_engine(). One "not ok compare/TEST" line per test
 * that differs, or one "ok compare" line when none does.
 *
 * Tests are picked by name: each name given is a shell pattern (fnmatch),
 * and one that matches no test is a failure of the run.
 */
#ifndef MNI_TAP_H
#define MNI_TAP_H

#include <stdbool.h>
#include <stddef.h>

/* Both run in the test's child; either may end the test as a test can. */
struct tap_fixture {
	void (*setup)(void);
	void (*teardown)(void);	/* only after setup returned */
};

struct tap_test {
	const char *name;
	void (*fn)(void);
	unsigned int timeout;	/* seconds, 0: TAP_DEFAULT_TIMEOUT */
	bool manual;		/* only run when named on the command line */
	long arg;		/* handed to the test in tap_arg */
	const struct tap_fixture *fixture;	/* NULL: none */
};

enum tap_result { TAP_PASS, TAP_FAIL, TAP_SKIP };

struct tap_variant {
	const char *name;	/* the lines read "NAME/TEST" */
	const char *dev;	/* what its tests run on: a device path */
	/*
	 * In the parent before the variant's first test: TAP_PASS to run its
	 * tests; else TAP_FAIL or TAP_SKIP with the reason in why, and one
	 * line for the whole variant. NULL: always ready.
	 */
	enum tap_result (*enter)(const struct tap_variant *v, char *why,
				 size_t len);
	/* In the parent after its last test, when enter() let them run. */
	void (*leave)(const struct tap_variant *v);
	/* Which tests it runs (NULL: all selected). */
	bool (*has)(const struct tap_test *t);
};

/* The running test's tap_test.arg. */
extern long tap_arg;
/* The variant the test runs in; NULL outside tap_run_variants(). */
extern const struct tap_variant *tap_variant;
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
 * the comparison of variants accepts the other engines' differing result
 * for it.
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

/*
 * tap_run() once per variant of variants[0..nvariants), then, when
 * compare is set, the comparison of the results of each test (see the
 * top). A variant whose enter() fails, or a difference, is a failure; the
 * plan comes last. Returns the number of failures.
 */
int tap_run_variants(const struct tap_test *tests, unsigned int ntests,
		     const struct tap_variant *variants,
		     unsigned int nvariants, bool compare,
		     char *const *names, unsigned int nnames);

/* Print "usage: PROG [DEVICE] [TEST-PATTERN...]" and the names to stderr. */
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
