/* SPDX-License-Identifier: GPL-2.0 */
/*
 * utap.h - the former userspace harness's names, on the one harness
 *
 * For userspace test files written against the old names: new tests
 * include "tap.h" (tests/lib) and call tap_main() like model.c. This
 * header compiles the harness into the file that includes it, so such a
 * binary needs nothing more on its link line.
 */
#ifndef MNI_UTAP_H
#define MNI_UTAP_H

#include "tap.h"
#include "tap.c"

struct utest {
	const char *name;
	void (*fn)(void);
	unsigned int timeout;	/* seconds; 0: 60 */
	long arg;		/* handed to the test in utap_arg */
};

#define utap_arg	tap_arg
#define utap_fail_hook	tap_fail_hook
#define utap_diag	tap_diag

/* Run @n tests, all of them; returns the process exit status. */
static inline int utap_main(const struct utest *tests, int n)
{
	struct tap_test t[n];
	int i;

	for (i = 0; i < n; i++)
		t[i] = (struct tap_test){
			.name = tests[i].name, .fn = tests[i].fn,
			.timeout = tests[i].timeout ? tests[i].timeout : 60,
			.arg = tests[i].arg,
		};
	return tap_run(t, n, NULL, 0) ? 1 : 0;
}

#endif /* MNI_UTAP_H */
