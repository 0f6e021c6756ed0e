/* SPDX-License-Identifier: GPL-2.0 */
/*
 * utap.h - a small TAP harness for the userspace engine tests
 *
 * Every test runs in a forked child under alarm(), so an abort from a
 * sanitizer or a shim assertion, or a hang, costs that test one "not ok"
 * and the run goes on. The run ends with exactly one line
 * "N passed, N failed".
 */
#ifndef MNI_UTAP_H
#define MNI_UTAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>

struct utest {
	const char *name;
	void (*fn)(void);
	unsigned int timeout;	/* seconds; 0: 60 */
	long arg;		/* handed to the test in utap_arg */
};

/* The running test's utest.arg. */
static long utap_arg;

/* Called in the child before it exits on a failed CHECK(). */
static void (*utap_fail_hook)(void);

static inline __printf(1, 2) void utap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static inline __printf(3, 4) __noreturn void
utap_fail_at(const char *file, int line, const char *fmt, ...)
{
	static bool failing;
	va_list ap;

	printf("# FAIL at %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	if (!failing && utap_fail_hook) {
		failing = true;
		utap_fail_hook();
	}
	fflush(stdout);
	_exit(1);
}

#define CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			utap_diag("check failed: %s", #cond);		\
			utap_fail_at(__FILE__, __LINE__, __VA_ARGS__);	\
		}							\
	} while (0)

#define FAIL(...) utap_fail_at(__FILE__, __LINE__, __VA_ARGS__)

/* Run one test in a child: true if it returned normally. */
static inline bool utap_run_one(const struct utest *t)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return false;
	}
	if (!pid) {
		alarm(t->timeout ? t->timeout : 60);
		t->fn();
		/* exit(), not _exit(): LeakSanitizer checks the test. */
		exit(0);
	}
	while (waitpid(pid, &status, 0) < 0)
		;
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return true;
	if (WIFSIGNALED(status))
		utap_diag("%s: killed by signal %d%s", t->name,
			  WTERMSIG(status),
			  WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
	else
		utap_diag("%s: exit status %d", t->name, WEXITSTATUS(status));
	return false;
}

/* Run @n tests; returns the process exit status. */
static inline int utap_main(const struct utest *tests, int n)
{
	int i, passed = 0, failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..%d\n", n);
	for (i = 0; i < n; i++) {
		bool ok;

		utap_arg = tests[i].arg;
		ok = utap_run_one(&tests[i]);

		printf("%sok %d - %s\n", ok ? "" : "not ", i + 1, tests[i].name);
		if (ok)
			passed++;
		else
			failed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

#endif /* MNI_UTAP_H */
