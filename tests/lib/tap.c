// SPDX-License-Identifier: GPL-2.0
/*
 * tap.c - the TAP harness: one forked child per test, see tap.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

/*
 * <sys/prctl.h> pulls in <linux/prctl.h>, whose <linux/types.h> the
 * userspace tests' kernel shims stand in for: the raw call needs neither.
 */
#ifndef PR_SET_CHILD_SUBREAPER
#define PR_SET_CHILD_SUBREAPER	36
#endif

#define TAP_EXIT_SKIP	77
/* Extra seconds the parent grants past the child's own alarm(). */
#define TAP_GRACE	5
/* Then how long it waits for a SIGKILLed group before giving up. */
#define TAP_STUCK	15

enum tap_result { TAP_PASS, TAP_FAIL, TAP_SKIP };

/* Child side: where tap_skip() writes its reason. */
static int tap_skip_fd = -1;

long tap_arg;
void (*tap_fail_hook)(void);

static void tap_vdiag(const char *fmt, va_list ap)
{
	char msg[1024];
	char *line, *save;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	for (line = strtok_r(msg, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		printf("# %s\n", line);
	fflush(stdout);
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vdiag(fmt, ap);
	va_end(ap);
}

void tap_fail_at(const char *file, int line, const char *fmt, ...)
{
	char where[256];
	va_list ap;

	static bool failing;

	snprintf(where, sizeof(where), "%s:%d: failed", file, line);
	tap_diag("%s", where);
	va_start(ap, fmt);
	tap_vdiag(fmt, ap);
	va_end(ap);
	/* A CHECK() in the hook ends the test at once. */
	if (!failing && tap_fail_hook) {
		failing = true;
		tap_fail_hook();
	}
	exit(1);
}

void tap_skip(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	ssize_t n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (tap_skip_fd >= 0) {
		n = write(tap_skip_fd, msg, strlen(msg));
		(void)n;
	}
	fflush(stdout);
	exit(TAP_EXIT_SKIP);
}

void tap_skip_engine(const char *fmt, ...)
{
	char msg[480];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tap_skip("engine: %s", msg);
}

static double tap_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void tap_child(const struct tap_test *t, int skip_fd,
		      unsigned int timeout)
{
	setpgid(0, 0);
	tap_skip_fd = skip_fd;
	tap_arg = t->arg;
	signal(SIGALRM, SIG_DFL);
	alarm(timeout);
	t->fn();
	fflush(stdout);
	exit(0);
}

/*
 * Wait for the test's child; SIGKILL its group when it overstays. Returns
 * 0 when it exited by itself, 1 when it had to be killed, -1 when it did
 * not even die (stuck in the kernel).
 */
static int tap_wait(pid_t pid, unsigned int timeout, int *status)
{
	double deadline = tap_now() + timeout + TAP_GRACE;
	bool killed = false;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return killed;
		if (r < 0 && errno != EINTR)
			return -1;
		if (tap_now() > deadline) {
			if (killed)
				return -1;
			kill(-pid, SIGKILL);
			killed = true;
			deadline = tap_now() + TAP_STUCK;
		}
		usleep(10000);
	}
}

static enum tap_result tap_one(const struct tap_test *t, char *why,
			       size_t whylen)
{
	unsigned int timeout = t->timeout ? t->timeout : TAP_DEFAULT_TIMEOUT;
	char reason[512] = "";
	int pfd[2], status = 0, waited;
	ssize_t n;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return TAP_FAIL;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return TAP_FAIL;
	}
	if (pid == 0) {
		close(pfd[0]);
		tap_child(t, pfd[1], timeout);
	}
	setpgid(pid, pid);
	close(pfd[1]);

	waited = tap_wait(pid, timeout, &status);
	if (waited < 0) {
		snprintf(why, whylen, "timed out, and did not die of SIGKILL");
		close(pfd[0]);
		return TAP_FAIL;
	}
	/* Grandchildren the test left behind, and earlier orphans. */
	kill(-pid, SIGKILL);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;

	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	n = read(pfd[0], reason, sizeof(reason) - 1);
	reason[n > 0 ? n : 0] = '\0';
	close(pfd[0]);

	if (WIFEXITED(status)) {
		if (WEXITSTATUS(status) == 0)
			return TAP_PASS;
		if (WEXITSTATUS(status) == TAP_EXIT_SKIP && reason[0]) {
			snprintf(why, whylen, "%s", reason);
			return TAP_SKIP;
		}
		snprintf(why, whylen, "exit status %d", WEXITSTATUS(status));
		return TAP_FAIL;
	}
	if (waited || (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM))
		snprintf(why, whylen, "timed out after %u s", timeout);
	else if (WIFSIGNALED(status))
		snprintf(why, whylen, "killed by signal %d (%s)",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(why, whylen, "wait status 0x%x", status);
	return TAP_FAIL;
}

static bool tap_selected(const struct tap_test *t, char *const *names,
			 unsigned int nnames)
{
	unsigned int i;

	if (!nnames)
		return !t->manual;
	for (i = 0; i < nnames; i++)
		if (!fnmatch(names[i], t->name, 0))
			return true;
	return false;
}

int tap_run(const struct tap_test *tests, unsigned int ntests,
	    char *const *names, unsigned int nnames)
{
	unsigned int i, j, plan = 0, num = 0, pass = 0, fail = 0, skip = 0;
	unsigned int unknown = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Orphaned grandchildren come back to us to be reaped. */
	syscall(SYS_prctl, PR_SET_CHILD_SUBREAPER, 1UL, 0UL, 0UL, 0UL);

	for (j = 0; j < nnames; j++) {
		for (i = 0; i < ntests; i++)
			if (!fnmatch(names[j], tests[i].name, 0))
				break;
		if (i == ntests) {
			printf("# no test matches %s\n", names[j]);
			unknown++;
		}
	}
	for (i = 0; i < ntests; i++)
		plan += tap_selected(&tests[i], names, nnames);

	printf("TAP version 13\n1..%u\n", plan);
	for (i = 0; i < ntests; i++) {
		const struct tap_test *t = &tests[i];
		char why[600] = "";
		enum tap_result r;
		double t0;

		if (!tap_selected(t, names, nnames))
			continue;
		t0 = tap_now();
		r = tap_one(t, why, sizeof(why));
		printf("# %s took %.2f s\n", t->name, tap_now() - t0);
		num++;
		switch (r) {
		case TAP_PASS:
			printf("ok %u %s\n", num, t->name);
			pass++;
			break;
		case TAP_SKIP:
			printf("ok %u %s # SKIP %s\n", num, t->name, why);
			skip++;
			break;
		case TAP_FAIL:
			printf("not ok %u %s # %s\n", num, t->name, why);
			fail++;
			break;
		}
	}
	printf("%u passed, %u failed, %u skipped\n", pass, fail + unknown,
	       skip);
	return fail + unknown;
}

void tap_usage(const char *prog, const struct tap_test *tests,
	       unsigned int ntests)
{
	unsigned int i;

	fprintf(stderr, "usage: %s DEVICE [TEST-PATTERN...] | --list\ntests:\n",
		prog);
	for (i = 0; i < ntests; i++)
		fprintf(stderr, "  %s%s\n", tests[i].name,
			tests[i].manual ? " (manual: only when named)" : "");
}

void tap_list(const struct tap_test *tests, unsigned int ntests)
{
	unsigned int i;

	for (i = 0; i < ntests; i++)
		printf("%s\n", tests[i].name);
}

int tap_main(int argc, char **argv, const struct tap_test *tests,
	     unsigned int ntests)
{
	if (argc > 1 && !strcmp(argv[1], "--list")) {
		tap_list(tests, ntests);
		return 0;
	}
	if (argc > 1 && argv[1][0] == '-') {
		fprintf(stderr, "usage: %s [--list] [TEST-PATTERN...]\n",
			argv[0]);
		return 2;
	}
	return tap_run(tests, ntests, argv + 1, argc - 1) ? 1 : 0;
}
