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

/* Child side: where tap_skip() writes its reason. */
static int tap_skip_fd = -1;
/* Child side: the fixture set up and not yet torn down. */
static const struct tap_fixture *tap_fixture_up;

long tap_arg;
const struct tap_variant *tap_variant;
void (*tap_fail_hook)(void);

/* Cleared first: a test-ending call inside the teardown ends it at once. */
static void tap_teardown(void)
{
	const struct tap_fixture *f = tap_fixture_up;

	tap_fixture_up = NULL;
	if (f && f->teardown)
		f->teardown();
}

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
	tap_teardown();
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
	tap_teardown();
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
	if (t->fixture) {
		if (t->fixture->setup)
			t->fixture->setup();
		tap_fixture_up = t->fixture;
	}
	t->fn();
	tap_teardown();
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

/* What one test ended as, for the comparison of variants. */
enum tap_end { TAP_END_NONE, TAP_END_PASS, TAP_END_FAIL, TAP_END_SKIP,
	       TAP_END_ENGINE_SKIP, TAP_END_MISSING };

static const char *const tap_end_name[] = {
	[TAP_END_NONE] = "not run", [TAP_END_PASS] = "pass",
	[TAP_END_FAIL] = "fail", [TAP_END_SKIP] = "skip",
	[TAP_END_ENGINE_SKIP] = "engine-skip", [TAP_END_MISSING] = "missing",
};

struct tap_count {
	unsigned int num, pass, fail, skip;
};

/* A pattern of names[] that matches no test is one failure of the run. */
static unsigned int tap_unknown(const struct tap_test *tests,
				unsigned int ntests, char *const *names,
				unsigned int nnames)
{
	unsigned int i, j, unknown = 0;

	for (j = 0; j < nnames; j++) {
		for (i = 0; i < ntests; i++)
			if (!fnmatch(names[j], tests[i].name, 0))
				break;
		if (i == ntests) {
			printf("# no test matches %s\n", names[j]);
			unknown++;
		}
	}
	return unknown;
}

static void tap_setup_run(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Orphaned grandchildren come back to us to be reaped. */
	syscall(SYS_prctl, PR_SET_CHILD_SUBREAPER, 1UL, 0UL, 0UL, 0UL);
}

/* One TAP line, "PREFIX/NAME" when prefix is set; counted in *c. */
static void tap_line(struct tap_count *c, enum tap_result r,
		     const char *prefix, const char *name, const char *why)
{
	const char *slash = prefix ? "/" : "";

	if (!prefix)
		prefix = "";
	c->num++;
	switch (r) {
	case TAP_PASS:
		printf("ok %u %s%s%s\n", c->num, prefix, slash, name);
		c->pass++;
		break;
	case TAP_SKIP:
		printf("ok %u %s%s%s # SKIP %s\n", c->num, prefix, slash, name,
		       why);
		c->skip++;
		break;
	case TAP_FAIL:
		printf("not ok %u %s%s%s # %s\n", c->num, prefix, slash, name,
		       why);
		c->fail++;
		break;
	}
}

/*
 * Run the selected tests that variant v (NULL: none) has, each ending in
 * ends[i] when ends is set.
 */
static void tap_run_tests(const struct tap_test *tests, unsigned int ntests,
			  char *const *names, unsigned int nnames,
			  const struct tap_variant *v, struct tap_count *c,
			  enum tap_end *ends)
{
	const char *prefix = v ? v->name : NULL;
	unsigned int i;

	tap_variant = v;
	for (i = 0; i < ntests; i++) {
		const struct tap_test *t = &tests[i];
		char why[600] = "";
		enum tap_result r;
		double t0;

		if (!tap_selected(t, names, nnames) ||
		    (v && v->has && !v->has(t)))
			continue;
		t0 = tap_now();
		r = tap_one(t, why, sizeof(why));
		printf("# %s%s%s took %.2f s\n", prefix ? prefix : "",
		       prefix ? "/" : "", t->name, tap_now() - t0);
		tap_line(c, r, prefix, t->name, why);
		if (ends)
			ends[i] = r == TAP_PASS ? TAP_END_PASS :
				  r == TAP_FAIL ? TAP_END_FAIL :
				  strncmp(why, "engine: ", 8) ? TAP_END_SKIP :
				  TAP_END_ENGINE_SKIP;
	}
	tap_variant = NULL;
}

int tap_run(const struct tap_test *tests, unsigned int ntests,
	    char *const *names, unsigned int nnames)
{
	struct tap_count c = { 0 };
	unsigned int i, plan = 0, unknown;

	tap_setup_run();
	unknown = tap_unknown(tests, ntests, names, nnames);
	for (i = 0; i < ntests; i++)
		plan += tap_selected(&tests[i], names, nnames);

	printf("TAP version 13\n1..%u\n", plan);
	tap_run_tests(tests, ntests, names, nnames, NULL, &c, NULL);
	printf("%u passed, %u failed, %u skipped\n", c.pass,
	       c.fail + unknown, c.skip);
	return c.fail + unknown;
}

/*
 * Test i's ends on the variants (ends[v * ntests + i]): alike when all
 * equal; else the ones that are not engine-skips must be, and the test
 * counts in *one_engine. A difference, or a variant that could not run
 * the test, gets its "not ok compare/TEST" line.
 */
static void tap_compare_one(const struct tap_test *t, unsigned int i,
			    unsigned int ntests, const enum tap_end *ends,
			    const struct tap_variant *variants,
			    unsigned int nvariants, struct tap_count *c,
			    unsigned int *alike, unsigned int *one_engine)
{
	enum tap_end first = TAP_END_NONE, other = TAP_END_NONE;
	bool differ = false, engine_skip = false, missing = false;
	char why[600] = "";
	size_t len = 0;
	unsigned int v;

	for (v = 0; v < nvariants; v++) {
		enum tap_end e = ends[v * ntests + i];

		if (e == TAP_END_NONE)
			continue;
		if (first == TAP_END_NONE)
			first = e;
		differ |= e != first;
		missing |= e == TAP_END_MISSING;
		if (e == TAP_END_ENGINE_SKIP) {
			engine_skip = true;
			continue;
		}
		if (other == TAP_END_NONE)
			other = e;
		else if (e != other)
			break;
	}
	if (!differ && !missing) {
		*alike += first != TAP_END_NONE;
		return;
	}
	if (v == nvariants && engine_skip && !missing) {
		(*one_engine)++;
		return;
	}
	for (v = 0; v < nvariants; v++) {
		enum tap_end e = ends[v * ntests + i];

		if (e != TAP_END_NONE && len < sizeof(why))
			len += snprintf(why + len, sizeof(why) - len, "%s%s: %s",
					len ? ", " : "", variants[v].name,
					tap_end_name[e]);
	}
	tap_line(c, TAP_FAIL, "compare", t->name, why);
}

/* Variant v runs a test of the selection. */
static bool tap_variant_runs(const struct tap_test *tests, unsigned int ntests,
			     char *const *names, unsigned int nnames,
			     const struct tap_variant *v)
{
	unsigned int i;

	for (i = 0; i < ntests; i++)
		if (tap_selected(&tests[i], names, nnames) &&
		    (!v->has || v->has(&tests[i])))
			return true;
	return false;
}

/*
 * Enter variant v: TAP_PASS to run its tests; else its one line, and the
 * tests it has marked missing (TAP_FAIL) or not run (TAP_SKIP).
 */
static enum tap_result tap_enter(const struct tap_test *tests,
				 unsigned int ntests, char *const *names,
				 unsigned int nnames,
				 const struct tap_variant *v,
				 struct tap_count *c, enum tap_end *ends)
{
	enum tap_result r = TAP_PASS;
	char why[512] = "";
	unsigned int i;

	if (v->enter)
		r = v->enter(v, why, sizeof(why));
	if (r == TAP_PASS)
		return r;
	tap_line(c, r, v->name, "suite", why);
	for (i = 0; i < ntests; i++)
		if (tap_selected(&tests[i], names, nnames) &&
		    (!v->has || v->has(&tests[i])))
			ends[i] = r == TAP_FAIL ? TAP_END_MISSING :
				  TAP_END_NONE;
	return r;
}

int tap_run_variants(const struct tap_test *tests, unsigned int ntests,
		     const struct tap_variant *variants,
		     unsigned int nvariants, bool compare,
		     char *const *names, unsigned int nnames)
{
	unsigned int i, v, unknown, alike = 0, one_engine = 0, differ;
	struct tap_count c = { 0 };
	enum tap_end *ends;

	ends = calloc((size_t)nvariants * ntests + 1, sizeof(*ends));
	if (!ends) {
		printf("Bail out! out of memory\n");
		return 1;
	}
	tap_setup_run();
	printf("TAP version 13\n");
	unknown = tap_unknown(tests, ntests, names, nnames);
	for (v = 0; v < nvariants; v++) {
		const struct tap_variant *var = &variants[v];

		if (!tap_variant_runs(tests, ntests, names, nnames, var))
			continue;
		if (tap_enter(tests, ntests, names, nnames, var, &c,
			      ends + v * ntests) != TAP_PASS)
			continue;
		tap_run_tests(tests, ntests, names, nnames, var, &c,
			      ends + v * ntests);
		if (var->leave)
			var->leave(var);
	}
	differ = c.fail;
	for (i = 0; compare && i < ntests; i++)
		tap_compare_one(&tests[i], i, ntests, ends, variants,
				nvariants, &c, &alike, &one_engine);
	if (compare && c.fail == differ) {
		c.num++;
		c.pass++;
		printf("ok %u compare # %u tests alike, %u skipped by the test on one engine\n",
		       c.num, alike, one_engine);
	}
	free(ends);
	printf("1..%u\n", c.num);
	printf("%u passed, %u failed, %u skipped\n", c.pass,
	       c.fail + unknown, c.skip);
	return c.fail + unknown;
}

void tap_usage(const char *prog, const struct tap_test *tests,
	       unsigned int ntests)
{
	unsigned int i;

	fprintf(stderr, "usage: %s [DEVICE] [TEST-PATTERN...] | --list\ntests:\n",
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
