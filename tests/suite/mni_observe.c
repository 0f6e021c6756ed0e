// SPDX-License-Identifier: GPL-2.0
/*
 * mni_observe.c - tests of the engine's tracepoints, debugfs and counters
 *
 * usage: mni_observe DEVICE [TEST...]	(DEVICE: /dev/mni_test_mni)
 *
 * Each test runs a scripted workload through the test device and checks
 * what mmu_interval_notifier.ko reports about it against what the test did
 * and what the driver's own log saw:
 *  - tracepoints (events/mni/ in tracefs): which events, for which mm, with
 *    which ranges, sequence numbers and results;
 *  - debugfs (<debugfs>/mmu_interval_notifier/): the summary and the file
 *    of each registered mm, its subscriptions and their state;
 *  - the counters printed in both.
 * A test finds its mm's id from the debugfs file named <its pid>-<id> and
 * ignores trace events of every other mm. It needs root, debugfs and
 * tracefs, and a guest where nothing else uses the engine meanwhile: the
 * summary's totals are compared before and after.
 *
 * The manual test "show" prints the raw trace and debugfs text of a small
 * workload, for the README.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mirror.h"
#include "must.h"
#include "op_thread.h"
#include "tap.h"
#include "util.h"

#define DBG_DIR		"/sys/kernel/debug/mmu_interval_notifier"
#define DBG_SUMMARY	DBG_DIR "/summary"
#define DBG_MMS		DBG_DIR "/mms"
/* %ps of the test driver's invalidate callback. */
#define OWNER		"mirror_invalidate"
#define OWNER_MOD	"mirror_invalidate [mni_test_mni]"
/* How long the SLOW callback sleeps. */
#define SLOW_MS		1000
/* debugfs files follow the registry through a workqueue. */
#define DBG_POLL_MS	5000

static char tracefs[64];

/* ------------------------------------------------------------ helpers */

/* map_pages(), every page of it touched. */
static char *map_touched_pages(size_t n)
{
	char *p = map_pages(n);

	memset(p, 0x5a, n * psz);
	return p;
}

/* Callbacks the driver counted on a subscription since its insert. */
static uint64_t log_calls(int fd, uint64_t id)
{
	struct mni_test_log log;

	get_log(fd, id, false, &log);
	return log.calls;
}

/* An op_thread operation: DEL subscription t->id on t->fd. */
static int op_del(struct op_thread *t)
{
	return mirror_del(t->fd, t->id);
}

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ssize_t n;

	CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
	n = write(fd, s, strlen(s));
	CHECK(n == (ssize_t)strlen(s), "write '%s' to %s: %s", s, path,
	      strerror(errno));
	close(fd);
}

/* A run of 16 or more hex digits: a raw or hashed 64-bit pointer. */
static const char *find_long_hex(const char *s)
{
	const char *run = NULL;

	for (; *s; s++) {
		bool hex = (*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
			   (*s >= 'A' && *s <= 'F');

		if (!hex)
			run = NULL;
		else if (!run)
			run = s;
		else if (s - run + 1 >= 16)
			return run;
	}
	return NULL;
}

static bool owner_is_driver(const char *owner)
{
	return !strcmp(owner, OWNER_MOD) || !strcmp(owner, OWNER);
}

/* ------------------------------------------------------------ debugfs */

/* The counters of struct mni_stats, as debugfs prints them. */
struct counters {
	uint64_t invalidations, callbacks, refused, no_record, remove_waits;
	uint64_t waits, wait_ns, wait_max_ns;
};

static struct counters parse_counters(const char *text)
{
	return (struct counters){
		.invalidations = kv(text, "invalidations"),
		.callbacks = kv(text, "callbacks"),
		.refused = kv(text, "callbacks_refused"),
		.no_record = kv(text, "no_record"),
		.remove_waits = kv(text, "remove_waits"),
		.waits = kv(text, "read_begin_waits"),
		.wait_ns = kv(text, "read_begin_wait_ns"),
		.wait_max_ns = kv(text, "read_begin_wait_max_ns"),
	};
}

struct summary {
	uint64_t mms, subscriptions, in_flight;
	struct counters c;
	char *text;
};

static struct summary read_summary(void)
{
	struct summary s = { .text = must_slurp(DBG_SUMMARY) };

	s.mms = kv(s.text, "mms");
	s.subscriptions = kv(s.text, "subscriptions");
	s.in_flight = kv(s.text, "in_flight");
	s.c = parse_counters(s.text);
	return s;
}

/*
 * Wait until the summary stops changing: an mm whose last subscription an
 * earlier test removed counts in the totals again only once it is freed,
 * after a grace period (see summary_totals_monotonic).
 */
static struct summary settled_summary(void)
{
	struct summary a = read_summary(), b;
	double t0 = now_ms();

	for (;;) {
		usleep(200000);
		b = read_summary();
		if (!strcmp(a.text, b.text)) {
			free(a.text);
			return b;
		}
		free(a.text);
		a = b;
		CHECK(now_ms() - t0 < 10000, "the summary kept changing for 10 s");
	}
}

/* The mms/ file of pid's mm: its name and id; false if there is none. */
static bool find_mm_file(pid_t pid, char *path, size_t len, unsigned long *id)
{
	DIR *d = opendir(DBG_MMS);
	struct dirent *e;
	bool found = false;

	CHECK(d, "opendir %s: %s", DBG_MMS, strerror(errno));
	while ((e = readdir(d))) {
		unsigned long i;
		int p, end = 0;

		if (sscanf(e->d_name, "%d-%lu%n", &p, &i, &end) != 2 ||
		    e->d_name[end] || p != pid)
			continue;
		/* A pid reused by a later mm: the newest id wins. */
		if (!found || i > *id) {
			*id = i;
			snprintf(path, len, "%s/%.40s", DBG_MMS, e->d_name);
		}
		found = true;
	}
	closedir(d);
	return found;
}

/* Wait for pid's mm file to appear; return its id. */
static unsigned long wait_mm_file(pid_t pid, char *path, size_t len)
{
	double t0 = now_ms();
	unsigned long id;

	while (!find_mm_file(pid, path, len, &id)) {
		CHECK(now_ms() - t0 < DBG_POLL_MS,
		      "no %s/%d-<id> after %d ms", DBG_MMS, pid, DBG_POLL_MS);
		usleep(2000);
	}
	return id;
}

static void wait_file_gone(const char *path)
{
	double t0 = now_ms();

	while (access(path, F_OK) == 0) {
		CHECK(now_ms() - t0 < DBG_POLL_MS,
		      "%s still there %d ms after the last remove", path,
		      DBG_POLL_MS);
		usleep(2000);
	}
	CHECK(errno == ENOENT, "access %s: %s", path, strerror(errno));
}

/* One subscription line of an mm file. */
struct dsub {
	unsigned long first, last, seq;
	char owner[96];
	char state[32];
};

#define MAX_DSUBS	16

struct mm_file {
	unsigned long id;
	long pid;
	struct counters c;
	unsigned int nsubs;
	struct dsub subs[MAX_DSUBS];
	unsigned long seq;
	char state[32];		/* "live", or "dead" once release began */
	unsigned long in_flight;
	char *text;
};

/* "0x1000-0x1fff mirror_invalidate [mni_test_mni] seq=3 idle" */
static bool parse_dsub(const char *line, struct dsub *d)
{
	const char *own, *seq, *st;
	int n = 0;

	if (sscanf(line, "%lx-%lx %n", &d->first, &d->last, &n) != 2 || !n)
		return false;
	own = line + n;
	seq = strstr(own, " seq=");
	if (!seq || (size_t)(seq - own) >= sizeof(d->owner))
		return false;
	memcpy(d->owner, own, seq - own);
	d->owner[seq - own] = '\0';
	if (sscanf(seq, " seq=%lu %31s", &d->seq, d->state) != 2)
		return false;
	st = strstr(seq + 1, " ");
	return st && !strchr(st + 1, ' ');
}

static struct mm_file read_mm_file(const char *path)
{
	struct mm_file f = { .text = must_slurp(path) };
	const char *l;
	bool in_subs = false;

	f.id = kv(f.text, "id");
	f.pid = kv(f.text, "pid");
	f.c = parse_counters(f.text);
	f.in_flight = kv(f.text, "in_flight");
	for (l = f.text; *l; l = strchr(l, '\n') + 1) {
		char line[256];
		size_t n = strcspn(l, "\n");

		snprintf(line, sizeof(line), "%.*s", (int)n, l);
		if (!strncmp(line, "subscriptions (", 15)) {
			in_subs = true;
		} else if (!strncmp(line, "seq: ", 5)) {
			in_subs = false;
			CHECK(sscanf(line, "seq: %lu", &f.seq) == 1,
			      "bad line '%s'", line);
		} else if (!strncmp(line, "state: ", 7)) {
			CHECK(sscanf(line, "state: %31s", f.state) == 1,
			      "bad line '%s'", line);
		} else if (in_subs) {
			CHECK(f.nsubs < MAX_DSUBS, "too many subscriptions");
			if (!parse_dsub(line, &f.subs[f.nsubs])) {
				tap_diag("%s", f.text);
				FAIL("bad subscription line '%s'", line);
			}
			f.nsubs++;
		}
		if (!l[n])
			break;
	}
	CHECK(f.seq && f.state[0], "no 'seq:' or 'state:' line in %s", path);
	return f;
}

/* The line of the subscription [first, last], or fail. */
static const struct dsub *mm_sub(const struct mm_file *f, unsigned long first,
				 unsigned long last)
{
	unsigned int i;

	for (i = 0; i < f->nsubs; i++)
		if (f->subs[i].first == first && f->subs[i].last == last)
			return &f->subs[i];
	tap_diag("%s", f->text);
	FAIL("no subscription %#lx-%#lx in the mm file above", first, last);
}

/* Lines of subscription [first, last] in state @state. */
static unsigned int mm_count(const struct mm_file *f, unsigned long first,
			     unsigned long last, const char *state)
{
	unsigned int i, n = 0;

	for (i = 0; i < f->nsubs; i++)
		n += f->subs[i].first == first && f->subs[i].last == last &&
		     !strcmp(f->subs[i].state, state);
	return n;
}

/*
 * Poll an mm file until subscription [first, last] shows @state, which must
 * happen while the callback entered at cb_ms still sleeps.
 */
static struct mm_file wait_sub_state(const char *path, unsigned long first,
				     unsigned long last, const char *state,
				     double cb_ms)
{
	struct mm_file f;

	for (;;) {
		f = read_mm_file(path);
		if (mm_count(&f, first, last, state))
			return f;
		CHECK(now_ms() < cb_ms + SLOW_MS / 2,
		      "%#lx-%#lx not %s %d ms into the callback:\n%s", first,
		      last, state, SLOW_MS / 2, f.text);
		free(f.text);
		usleep(2000);
	}
}

/* ------------------------------------------------------------- tracefs */

/* Find tracefs, mounting it if needed; skip the test when there is none. */
static void tracefs_find(void)
{
	static const char *const dirs[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	char path[96];
	unsigned int i;

	for (i = 0; i < 2 * ARRAY_SIZE(dirs); i++) {
		const char *d = dirs[i % ARRAY_SIZE(dirs)];

		snprintf(path, sizeof(path), "%s/trace", d);
		if (access(path, F_OK) == 0) {
			snprintf(tracefs, sizeof(tracefs), "%s", d);
			break;
		}
		if (i == ARRAY_SIZE(dirs) - 1)
			mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL);
	}
	if (!tracefs[0])
		tap_skip("no tracefs");
	snprintf(path, sizeof(path), "%s/events/mni/enable", tracefs);
	if (access(path, F_OK))
		tap_skip("no events/mni in %s", tracefs);
}

static void trace_write(const char *file, const char *s)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", tracefs, file);
	write_file(path, s);
}

/* One marker line in the trace: "tracing_mark_write: mni_observe: <what>". */
static void trace_mark(const char *what)
{
	char s[96];

	snprintf(s, sizeof(s), "mni_observe: %s", what);
	trace_write("trace_marker", s);
}

/*
 * Record the engine's events from now on, with an empty buffer. The tests
 * use the "counter" clock: a global sequence, so that the trace orders
 * events of different CPUs as they happened (vCPU clocks may be skewed by
 * milliseconds under TCG, and markers split the trace by operation).
 */
static void trace_start_clock(const char *clock)
{
	tracefs_find();
	trace_write("events/mni/enable", "0");
	trace_write("trace_clock", clock);
	trace_write("tracing_on", "1");
	trace_write("trace", "");
	trace_write("events/mni/enable", "1");
	trace_mark("start");
}

static void trace_start(void)
{
	trace_start_clock("counter");
}

/* Stop recording; the buffer stays (a change of clock would clear it). */
static void trace_stop(void)
{
	trace_write("events/mni/enable", "0");
}

enum ev_type {
	EV_MARK, EV_START, EV_END, EV_CALLBACK, EV_INSERT, EV_REMOVE,
	EV_WAIT,
};

static const char *const ev_names[] = {
	[EV_MARK] = "tracing_mark_write",
	[EV_START] = "mni_invalidate_start",
	[EV_END] = "mni_invalidate_end",
	[EV_CALLBACK] = "mni_callback",
	[EV_INSERT] = "mni_insert",
	[EV_REMOVE] = "mni_remove",
	[EV_WAIT] = "mni_read_begin_wait",
};

/*
 * One trace line. For EV_START, [start, end) is the range; for the events
 * of a subscription, [start, end] its closed interval (end is its last).
 */
struct tev {
	enum ev_type type;
	int pid;
	unsigned long mm, start, end, active, seq;
	unsigned int event;
	int blockable;
	long arg;
	char owner[96];
	char line[320];		/* the raw line, or the marker's text */
};

struct trace {
	struct tev *ev;
	size_t n;
};

/* "mm=1 sub=[0x7f0000000000, 0x7f0000003fff] owner=mirror_invalidate [mni_test_mni] 1" */
static bool parse_sub_payload(const char *p, struct tev *e)
{
	const char *own = strstr(p, " owner="), *sp;

	if (sscanf(p, "mm=%lu sub=[%lx, %lx]", &e->mm, &e->start, &e->end) != 3 ||
	    !own)
		return false;
	own += 7;
	sp = strrchr(own, ' ');
	if (!sp || (size_t)(sp - own) >= sizeof(e->owner))
		return false;
	memcpy(e->owner, own, sp - own);
	e->owner[sp - own] = '\0';
	return sscanf(sp, " %ld", &e->arg) == 1;
}

/*
 * The MNI_TEST_EV_* value of an event name mni_invalidate_start prints:
 * mirror_event_name()'s, in lower case. False for any other (a number: an
 * event the tracepoint does not name).
 */
static bool event_of_name(const char *name, unsigned int *event)
{
	unsigned int i;

	for (i = 0; i <= MNI_TEST_EV_EXCLUSIVE; i++)
		if (!strcasecmp(name, mirror_event_name(i))) {
			*event = i;
			return true;
		}
	return false;
}

/* Parse one line of the "trace" file; false for lines of no interest. */
static bool parse_trace_line(const char *line, struct tev *e)
{
	const char *cpu = strstr(line, " ["), *dash, *name, *p;
	char event[24];
	unsigned int t;

	memset(e, 0, sizeof(*e));
	if (line[0] == '#' || !cpu)
		return false;
	/* "TASK-PID [CPU]": the pid ends where the spaces before [ begin. */
	for (dash = cpu; dash > line && dash[-1] == ' '; dash--)
		;
	while (dash > line && dash[-1] >= '0' && dash[-1] <= '9')
		dash--;
	e->pid = atoi(dash);
	for (t = 0; t < ARRAY_SIZE(ev_names); t++) {
		char key[48];

		snprintf(key, sizeof(key), ": %s: ", ev_names[t]);
		name = strstr(line, key);
		if (name)
			break;
	}
	if (t == ARRAY_SIZE(ev_names))
		return false;
	e->type = t;
	p = name + strlen(ev_names[t]) + 4;
	snprintf(e->line, sizeof(e->line), "%s", t == EV_MARK ? p : line);
	switch (e->type) {
	case EV_MARK:
		return !strncmp(p, "mni_observe: ", 13);
	case EV_START:
		return sscanf(p, "mm=%lu range=[%lx, %lx) event=%23s blockable=%d active=%lu seq=%lu",
			      &e->mm, &e->start, &e->end, event,
			      &e->blockable, &e->active, &e->seq) == 7 &&
		       event_of_name(event, &e->event);
	case EV_END:
		return sscanf(p, "mm=%lu active=%lu seq=%lu", &e->mm,
			      &e->active, &e->seq) == 3;
	default:
		return parse_sub_payload(p, e);
	}
}

/* Every marker, and every engine event of mm (all mms: mm == 0). */
static struct trace trace_read(unsigned long mm)
{
	char path[128], *text, *line, *save;
	struct trace tr = { 0 };
	size_t cap = 0;

	snprintf(path, sizeof(path), "%s/trace", tracefs);
	text = must_slurp(path);
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct tev e;

		if (!parse_trace_line(line, &e)) {
			if (strstr(line, ": mni_"))
				FAIL("cannot parse trace line '%s'", line);
			continue;
		}
		if (e.type != EV_MARK && mm && e.mm != mm)
			continue;
		if (tr.n == cap) {
			cap = cap ? 2 * cap : 256;
			tr.ev = realloc(tr.ev, cap * sizeof(*tr.ev));
			CHECK(tr.ev, "out of memory");
		}
		tr.ev[tr.n++] = e;
	}
	free(text);
	return tr;
}

static void trace_dump(const struct trace *tr, size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to && i < tr->n; i++)
		tap_diag("  %s%s", tr->ev[i].type == EV_MARK ? "--- " : "",
			 tr->ev[i].line);
}

/* Index of the marker "mni_observe: what". */
static size_t trace_marker(const struct trace *tr, const char *what)
{
	char text[96];
	size_t i;

	snprintf(text, sizeof(text), "mni_observe: %s", what);
	for (i = 0; i < tr->n; i++)
		if (tr->ev[i].type == EV_MARK && !strcmp(tr->ev[i].line, text))
			return i;
	trace_dump(tr, 0, tr->n);
	FAIL("no marker '%s' in the trace above", what);
}

/* The events of one type in [from, to), at most max, into out. */
static size_t trace_select(const struct trace *tr, size_t from, size_t to,
			   enum ev_type type, const struct tev **out,
			   size_t max)
{
	size_t i, n = 0;

	for (i = from; i < to && i < tr->n; i++) {
		if (tr->ev[i].type != type)
			continue;
		if (n < max)
			out[n] = &tr->ev[i];
		n++;
	}
	return n;
}

/* A subscription event: of this type, for [first, last], with this arg. */
static void expect_sub_ev(const struct tev *e, enum ev_type type,
			  unsigned long first, unsigned long last, long arg,
			  const char *who)
{
	if (e->type == type && e->start == first && e->end == last &&
	    e->arg == arg && owner_is_driver(e->owner))
		return;
	tap_diag("got:  %s", e->line);
	FAIL("%s: expected %s sub=[%#lx, %#lx] owner=%s %ld", who,
	     ev_names[type], first, last, OWNER_MOD, arg);
}

/* Starts in [from, to) whose range overlaps [lo, hi). */
static size_t starts_overlapping(const struct trace *tr, size_t from,
				 size_t to, unsigned long lo, unsigned long hi,
				 const struct tev **out, size_t max)
{
	size_t i, n = 0;

	for (i = from; i < to; i++) {
		const struct tev *e = &tr->ev[i];

		if (e->type != EV_START || e->start >= hi || e->end <= lo)
			continue;
		if (n < max)
			out[n] = e;
		n++;
	}
	return n;
}

/* The first event of type after index i, or NULL. */
static const struct tev *trace_next(const struct trace *tr, size_t i,
				    enum ev_type type)
{
	for (i++; i < tr->n; i++)
		if (tr->ev[i].type == type)
			return &tr->ev[i];
	return NULL;
}

static size_t ev_index(const struct trace *tr, const struct tev *e)
{
	return e - tr->ev;
}

/* ------------------------------------------------------------- tests */

/*
 * The scripted workload of trace_workload: three subscriptions on a
 * 16-page mapping, pages 0-3 (A), 4-7 (B) and 12-15 (C); munmap 2-5 must
 * call A and B, mprotect 12-13 only C.
 */
struct workload {
	int fd;
	char *p;
	uint64_t id[3];
	unsigned long first[3], last[3];
	char path[128];
	unsigned long mm;
};

static void workload_add(struct workload *w)
{
	static const size_t at[3] = { 0, 4, 12 };
	unsigned int i;

	w->fd = open_dev();
	w->p = map_touched_pages(16);
	for (i = 0; i < 3; i++) {
		w->first[i] = (uintptr_t)(w->p + at[i] * psz);
		w->last[i] = w->first[i] + 4 * psz - 1;
		w->id[i] = must_add(w->fd, w->p + at[i] * psz, 4 * psz, 0);
	}
	must_fault(w->fd, w->id[0], w->p, 4, 0);
	w->mm = wait_mm_file(getpid(), w->path, sizeof(w->path));
}

static void workload_ops(struct workload *w)
{
	trace_mark("munmap");
	CHECK(munmap(w->p + 2 * psz, 4 * psz) == 0, "munmap: %s",
	      strerror(errno));
	trace_mark("mprotect");
	CHECK(mprotect(w->p + 12 * psz, 2 * psz, PROT_READ) == 0,
	      "mprotect: %s", strerror(errno));
	trace_mark("remove");
}

/*
 * In [from, to): exactly one start over the mapping, of [lo, hi), with
 * this event and a fresh odd seq, calling exactly subscriptions
 * subs[0..nsubs) in order, and its end leaving nothing in flight.
 */
static void expect_one_invalidation(const struct trace *tr,
				    const struct workload *w, size_t from,
				    size_t to, unsigned long lo,
				    unsigned long hi, unsigned int event,
				    const unsigned int *subs,
				    unsigned int nsubs, const char *who)
{
	const struct tev *st[4], *cb[4], *end;
	size_t n, i, at;

	n = starts_overlapping(tr, from, to, w->first[0], w->last[2] + 1, st, 4);
	if (n != 1 || st[0]->start != lo || st[0]->end != hi ||
	    st[0]->event != event || st[0]->blockable != 1 ||
	    st[0]->active != 1 || !(st[0]->seq & 1)) {
		trace_dump(tr, from, to);
		FAIL("%s: %zu starts over the mapping; wanted one of [%#lx, %#lx) event=%u blockable=1 active=1 with an odd seq",
		     who, n, lo, hi, event);
	}
	at = ev_index(tr, st[0]);
	n = trace_select(tr, from, to, EV_CALLBACK, cb, 4);
	if (n != nsubs) {
		trace_dump(tr, from, to);
		FAIL("%s: %zu callbacks, wanted %u", who, n, nsubs);
	}
	for (i = 0; i < n; i++) {
		CHECK(ev_index(tr, cb[i]) > at, "%s: callback before its start",
		      who);
		expect_sub_ev(cb[i], EV_CALLBACK, w->first[subs[i]],
			      w->last[subs[i]], 1, who);
	}
	end = trace_next(tr, at, EV_END);
	if (!end || ev_index(tr, end) < ev_index(tr, cb[n - 1]) ||
	    end->active != 0 || end->seq != st[0]->seq) {
		trace_dump(tr, from, to);
		FAIL("%s: no end with active=0 seq=%lu after the callbacks", who,
		     st[0]->seq);
	}
}

/* Tracepoints of a scripted workload: inserts, two invalidations, removes. */
static void test_trace_workload(void)
{
	static const unsigned int ab[] = { 0, 1 }, c[] = { 2 };
	const struct tev *ins[4], *rem[4], *cb[4];
	struct workload w;
	struct trace tr;
	size_t m_munmap, m_mprotect, m_remove, m_end, i, starts, ends;
	unsigned int k;

	trace_start();
	workload_add(&w);
	workload_ops(&w);
	for (k = 0; k < 3; k++)
		must_del(w.fd, w.id[k]);
	trace_mark("end");
	trace_stop();

	tr = trace_read(w.mm);
	tap_diag("mm %lu (%s): %zu trace lines", w.mm, w.path, tr.n);
	m_munmap = trace_marker(&tr, "munmap");
	m_mprotect = trace_marker(&tr, "mprotect");
	m_remove = trace_marker(&tr, "remove");
	m_end = trace_marker(&tr, "end");

	/* Three inserts; the fault invalidated nothing. */
	if (trace_select(&tr, 0, m_munmap, EV_INSERT, ins, 4) != 3) {
		trace_dump(&tr, 0, m_munmap);
		FAIL("wanted 3 mni_insert before the munmap");
	}
	for (k = 0; k < 3; k++) {
		expect_sub_ev(ins[k], EV_INSERT, w.first[k], w.last[k], 0,
			      "insert");
		CHECK(ins[k]->pid == getpid(), "insert traced for pid %d",
		      ins[k]->pid);
	}
	if (trace_select(&tr, 0, m_munmap, EV_CALLBACK, cb, 4)) {
		trace_dump(&tr, 0, m_munmap);
		FAIL("callbacks before the munmap");
	}

	expect_one_invalidation(&tr, &w, m_munmap, m_mprotect,
				w.first[0] + 2 * psz, w.first[0] + 6 * psz,
				MNI_TEST_EV_UNMAP, ab, 2, "munmap 2-5");
	expect_one_invalidation(&tr, &w, m_mprotect, m_remove, w.first[2],
				w.first[2] + 2 * psz,
				MNI_TEST_EV_PROTECTION_VMA, c, 1,
				"mprotect 12-13");

	if (trace_select(&tr, m_remove, m_end, EV_REMOVE, rem, 4) != 3) {
		trace_dump(&tr, m_remove, m_end);
		FAIL("wanted 3 mni_remove");
	}
	for (k = 0; k < 3; k++)
		expect_sub_ev(rem[k], EV_REMOVE, w.first[k], w.last[k], 0,
			      "remove");

	/* Nothing waited; every start has its end. */
	starts = trace_select(&tr, 0, tr.n, EV_START, cb, 0);
	ends = trace_select(&tr, 0, tr.n, EV_END, cb, 0);
	CHECK(starts == ends, "%zu starts, %zu ends", starts, ends);
	CHECK(!trace_select(&tr, 0, tr.n, EV_WAIT, cb, 0),
	      "read_begin waits in a serial workload");
	for (i = 0; i < tr.n; i++)
		CHECK(!find_long_hex(tr.ev[i].line),
		      "a pointer-sized number in '%s'", tr.ev[i].line);
	close(w.fd);
}

/*
 * While A's callback sleeps: an insert B over A's range and the remove of
 * an unrelated X return at once (mni_insert 0, mni_remove 0); the remove
 * of A waits for the callback still running on it (mni_remove 1, counted
 * in remove_waits); B's first read_begin() waits for the invalidation in
 * flight over it, and says how long in the trace and the counters.
 */
static void test_read_begin_wait_remove(void)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_touched_pages(n);
	struct op_thread inval = {
		.op = op_dontneed, .addr = p, .len = n * psz,
	};
	struct op_thread del = { .op = op_del, .fd = fd, .gated = true };
	const struct tev *wt[2], *ins[2], *rem[3];
	unsigned long first = (uintptr_t)p, last = first + n * psz - 1;
	unsigned long mm, xfirst = 0x1000, xlast = 0x1fff;
	uint64_t a, b, x, seq, t0, t1;
	struct summary s0, s1;
	struct mm_file f;
	struct trace tr;
	double cb, t_quick;
	char path[128];
	int ret;

	a = must_add(fd, p, n * psz, 0);
	/* Nothing is ever mapped at 4 KiB: never called. */
	x = must_add(fd, (void *)xfirst, psz, MNI_TEST_ADD_NOMIRROR);
	del.id = a;
	mm = wait_mm_file(getpid(), path, sizeof(path));
	s0 = settled_summary();
	CHECK(mirror_slow(fd, a, SLOW_MS) == 0, "SLOW");

	trace_start();
	op_start(&del);
	op_start(&inval);
	cb = wait_for_call(fd, a);
	b = must_add(fd, p, n * psz, 0);
	must_del(fd, x);
	t_quick = now_ms();
	op_go(&del);
	f = wait_sub_state(path, first, last, "removing", cb);
	CHECK(mm_count(&f, first, last, "invalidating") == 1,
	      "the new subscription is not shown invalidating:\n%s", f.text);
	free(f.text);
	t0 = now_ns();
	ret = mirror_seq_begin(fd, b, &seq);
	t1 = now_ns();
	CHECK(!ret, "SEQ_BEGIN: %s", strerror(-ret));
	op_join(&inval);
	op_join(&del);
	trace_mark("end");
	trace_stop();
	tap_diag("insert and unrelated remove done %.1f ms into the callback; SEQ_BEGIN took %.1f ms, returned %.1f ms after the callback began (which sleeps %d ms)",
		 t_quick - cb, (t1 - t0) / 1e6, t1 / 1e6 - cb, SLOW_MS);
	CHECK(t_quick < cb + SLOW_MS / 2,
	      "insert and unrelated remove took %.0f ms, during a %d ms callback",
	      t_quick - cb, SLOW_MS);
	/*
	 * It slept: SEQ_BEGIN came at most SLOW_MS / 2 into the callback.
	 * Not "returned after cb + SLOW_MS": under TCG msleep() may end a
	 * little early by CLOCK_MONOTONIC.
	 */
	CHECK(t1 - t0 >= SLOW_MS / 4 * 1000000ULL,
	      "SEQ_BEGIN did not wait for the invalidation over the new subscription");

	tr = trace_read(mm);
	if (trace_select(&tr, 0, tr.n, EV_WAIT, wt, 2) != 1) {
		trace_dump(&tr, 0, tr.n);
		FAIL("wanted one mni_read_begin_wait");
	}
	tap_diag("traced wait: %ld ns", wt[0]->arg);
	CHECK(wt[0]->arg > 0 && (uint64_t)wt[0]->arg <= t1 - t0,
	      "traced wait %ld ns, outside (0, %llu] ns the ioctl took",
	      wt[0]->arg, (unsigned long long)(t1 - t0));
	expect_sub_ev(wt[0], EV_WAIT, first, last, wt[0]->arg, "wait");

	if (trace_select(&tr, 0, tr.n, EV_INSERT, ins, 2) != 1 ||
	    trace_select(&tr, 0, tr.n, EV_REMOVE, rem, 3) != 2) {
		trace_dump(&tr, 0, tr.n);
		FAIL("wanted one mni_insert and two mni_remove");
	}
	expect_sub_ev(ins[0], EV_INSERT, first, last, 0, "insert");
	expect_sub_ev(rem[0], EV_REMOVE, xfirst, xlast, 0, "unrelated remove");
	expect_sub_ev(rem[1], EV_REMOVE, first, last, 1,
		      "remove during its callback");

	f = read_mm_file(path);
	tap_diag("mm %lu: read_begin_waits %llu, wait_ns %llu, max %llu, remove_waits %llu",
		 mm, (unsigned long long)f.c.waits,
		 (unsigned long long)f.c.wait_ns,
		 (unsigned long long)f.c.wait_max_ns,
		 (unsigned long long)f.c.remove_waits);
	CHECK(f.c.waits == 1, "read_begin_waits %llu, wanted 1",
	      (unsigned long long)f.c.waits);
	CHECK(f.c.wait_ns == (uint64_t)wt[0]->arg &&
	      f.c.wait_max_ns == (uint64_t)wt[0]->arg,
	      "counted wait %llu ns (max %llu), traced %ld ns",
	      (unsigned long long)f.c.wait_ns,
	      (unsigned long long)f.c.wait_max_ns, wt[0]->arg);
	CHECK(f.c.remove_waits == 1, "remove_waits %llu, wanted 1",
	      (unsigned long long)f.c.remove_waits);
	s1 = read_summary();
	CHECK(s1.c.waits == s0.c.waits + 1 &&
	      s1.c.remove_waits == s0.c.remove_waits + 1 &&
	      s1.c.wait_max_ns >= (uint64_t)wt[0]->arg,
	      "summary: waits %llu -> %llu, remove_waits %llu -> %llu, max %llu",
	      (unsigned long long)s0.c.waits, (unsigned long long)s1.c.waits,
	      (unsigned long long)s0.c.remove_waits,
	      (unsigned long long)s1.c.remove_waits,
	      (unsigned long long)s1.c.wait_max_ns);
	must_del(fd, b);
	free(f.text);
	close(fd);
}

/* An mm file's subscription line: range, owner, odd seq, state. */
static const struct dsub *expect_dsub(const struct mm_file *f,
				      unsigned long first, unsigned long last,
				      const char *state)
{
	const struct dsub *d = mm_sub(f, first, last);

	if (owner_is_driver(d->owner) && (d->seq & 1) &&
	    !strcmp(d->state, state))
		return d;
	tap_diag("%s", f->text);
	FAIL("%#lx-%#lx: owner '%s' seq %lu state '%s', wanted %s, odd, %s",
	     first, last, d->owner, d->seq, d->state, OWNER_MOD, state);
}

/* mms/<pid>-<id> lists exactly what the test created, and goes with it. */
static void test_debugfs_lists_subscriptions(void)
{
	const unsigned long big = 1UL << 44, big_len = 1UL << 30;
	struct summary s0, s;
	struct workload w;
	struct mm_file f;
	unsigned long seq_c, seq_d;
	char name[64];
	uint64_t d;
	unsigned int k;

	s0 = settled_summary();
	workload_add(&w);
	/* A gigabyte nothing is mapped in, inserted under mmap_lock. */
	d = must_add(w.fd, (void *)big, big_len,
		     MNI_TEST_ADD_NOMIRROR | MNI_TEST_ADD_LOCKED);
	f = read_mm_file(w.path);
	tap_diag("%s:\n%s", w.path, f.text);

	snprintf(name, sizeof(name), "%s/%d-%lu", DBG_MMS, getpid(), f.id);
	CHECK(!strcmp(name, w.path), "file %s says id %lu", w.path, f.id);
	CHECK(f.pid == getpid(), "pid %ld, wanted %d", f.pid, getpid());
	CHECK(f.nsubs == 4, "%u subscriptions listed, wanted 4", f.nsubs);
	/* In address order: D (at 16 TiB) is below the mmap() area. */
	expect_dsub(&f, big, big + big_len - 1, "idle");
	CHECK(f.subs[0].first == big, "line 0 is not D");
	for (k = 0; k < 3; k++) {
		CHECK(f.subs[k + 1].first == w.first[k] &&
		      f.subs[k + 1].last == w.last[k],
		      "line %u: %#lx-%#lx, wanted %#lx-%#lx", k + 1,
		      f.subs[k + 1].first, f.subs[k + 1].last, w.first[k],
		      w.last[k]);
		expect_dsub(&f, w.first[k], w.last[k], "idle");
	}
	CHECK(!strcmp(f.state, "live") && (f.seq & 1) && !f.in_flight,
	      "engine: seq %lu, state %s, in_flight %lu", f.seq, f.state,
	      f.in_flight);
	s = read_summary();
	CHECK(s.mms == s0.mms + 1 && s.subscriptions == s0.subscriptions + 4,
	      "summary: mms %llu -> %llu, subscriptions %llu -> %llu",
	      (unsigned long long)s0.mms, (unsigned long long)s.mms,
	      (unsigned long long)s0.subscriptions,
	      (unsigned long long)s.subscriptions);

	/* munmap 2-5 gives A and B a new sequence, not C or D. */
	seq_c = mm_sub(&f, w.first[2], w.last[2])->seq;
	seq_d = mm_sub(&f, big, big + big_len - 1)->seq;
	CHECK(munmap(w.p + 2 * psz, 4 * psz) == 0, "munmap: %s",
	      strerror(errno));
	{
		struct mm_file g = read_mm_file(w.path);

		for (k = 0; k < 2; k++)
			CHECK(expect_dsub(&g, w.first[k], w.last[k], "idle")->seq >
			      mm_sub(&f, w.first[k], w.last[k])->seq,
			      "subscription %u kept its sequence", k);
		CHECK(expect_dsub(&g, w.first[2], w.last[2], "idle")->seq == seq_c &&
		      expect_dsub(&g, big, big + big_len - 1, "idle")->seq == seq_d,
		      "a subscription the munmap missed changed sequence");
		CHECK(g.seq > f.seq && (g.seq & 1) && !g.in_flight,
		      "engine seq %lu -> %lu, in_flight %lu", f.seq, g.seq,
		      g.in_flight);
		free(g.text);
	}

	/* One remove takes one line away. */
	must_del(w.fd, w.id[1]);
	free(f.text);
	f = read_mm_file(w.path);
	CHECK(f.nsubs == 3, "%u subscriptions listed after a remove", f.nsubs);
	s = read_summary();
	CHECK(s.subscriptions == s0.subscriptions + 3,
	      "summary: %llu subscriptions after a remove, wanted %llu",
	      (unsigned long long)s.subscriptions,
	      (unsigned long long)s0.subscriptions + 3);

	/* The last remove takes the file away, soon. */
	must_del(w.fd, w.id[0]);
	must_del(w.fd, w.id[2]);
	must_del(w.fd, d);
	wait_file_gone(w.path);
	s = read_summary();
	CHECK(s.mms == s0.mms && s.subscriptions == s0.subscriptions,
	      "summary after the last remove: mms %llu, subscriptions %llu; before: %llu, %llu",
	      (unsigned long long)s.mms, (unsigned long long)s.subscriptions,
	      (unsigned long long)s0.mms, (unsigned long long)s0.subscriptions);
	close(w.fd);
}

/*
 * While a callback on A sleeps: A, whose remove() waits for that callback,
 * shows "removing"; B, inserted over A's range meanwhile, "invalidating"
 * (its read_begin() would wait); the others "idle"; the engine one
 * invalidation in flight. Afterwards all idle, nothing in flight.
 */
static void test_debugfs_during_invalidation(void)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_touched_pages(n);
	struct op_thread inval = {
		.op = op_dontneed, .addr = p, .len = n * psz,
	};
	struct op_thread del = { .op = op_del, .fd = fd, .gated = true };
	unsigned long first = (uintptr_t)p, last = first + n * psz - 1;
	unsigned long far = 1UL << 44;
	struct summary s0, s;
	struct mm_file f;
	char path[128];
	uint64_t a, b, x, y;
	unsigned int k;
	double cb;

	s0 = settled_summary();
	a = must_add(fd, p, n * psz, 0);
	/* Never invalidated by the madvise: stay idle. */
	x = must_add(fd, (void *)far, psz, MNI_TEST_ADD_NOMIRROR);
	y = must_add(fd, (void *)0x1000, psz, MNI_TEST_ADD_NOMIRROR);
	del.id = a;
	wait_mm_file(getpid(), path, sizeof(path));
	CHECK(mirror_slow(fd, a, SLOW_MS) == 0, "SLOW");

	op_start(&del);
	op_start(&inval);
	cb = wait_for_call(fd, a);
	b = must_add(fd, p, n * psz, 0);
	op_go(&del);
	f = wait_sub_state(path, first, last, "removing", cb);
	s = read_summary();
	CHECK(now_ms() < cb + SLOW_MS, "too slow to look during the callback");
	tap_diag("%s during the callback:\n%s", path, f.text);
	CHECK(f.nsubs == 4, "%u lines, wanted 4", f.nsubs);
	CHECK(mm_count(&f, first, last, "removing") == 1 &&
	      mm_count(&f, first, last, "invalidating") == 1,
	      "wanted one removing and one invalidating line over the madvise");
	expect_dsub(&f, far, far + psz - 1, "idle");
	expect_dsub(&f, 0x1000, 0x1fff, "idle");
	for (k = 0; k < f.nsubs; k++)
		CHECK(owner_is_driver(f.subs[k].owner) && (f.subs[k].seq & 1),
		      "line %u: owner '%s' seq %lu", k, f.subs[k].owner,
		      f.subs[k].seq);
	CHECK(!strcmp(f.state, "live") && f.in_flight == 1,
	      "engine: seq %lu, state %s, in_flight %lu", f.seq, f.state,
	      f.in_flight);
	CHECK(s.in_flight == s0.in_flight + 1,
	      "summary: in_flight %llu -> %llu",
	      (unsigned long long)s0.in_flight, (unsigned long long)s.in_flight);
	free(f.text);

	op_join(&inval);
	op_join(&del);
	f = read_mm_file(path);
	CHECK(f.nsubs == 3, "%u lines after the invalidation, wanted 3", f.nsubs);
	for (k = 0; k < f.nsubs; k++)
		CHECK(!strcmp(f.subs[k].state, "idle"),
		      "line %u is %s after the invalidation", k, f.subs[k].state);
	CHECK(!strcmp(f.state, "live") && !f.in_flight,
	      "engine: seq %lu, state %s, in_flight %lu", f.seq, f.state,
	      f.in_flight);
	free(f.text);
	must_del(fd, b);
	must_del(fd, x);
	must_del(fd, y);
	close(fd);
}

static void expect_root_only(const char *path)
{
	struct stat st;

	CHECK(stat(path, &st) == 0, "stat %s: %s", path, strerror(errno));
	CHECK(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0400 &&
	      st.st_uid == 0, "%s: mode %o uid %u, wanted a 0400 file of root",
	      path, st.st_mode, st.st_uid);
}

/* Root-only files without kernel pointers, unreadable for other users. */
static void test_debugfs_root_only(void)
{
	struct workload w;
	const char *hex;
	char *text;
	pid_t pid;
	int status;

	workload_add(&w);
	/* Also while a subscription's seq is not the insert's. */
	CHECK(munmap(w.p + 2 * psz, 4 * psz) == 0, "munmap: %s",
	      strerror(errno));
	expect_root_only(DBG_SUMMARY);
	expect_root_only(w.path);

	text = must_slurp(DBG_SUMMARY);
	hex = find_long_hex(text);
	CHECK(!hex, "summary shows a pointer-sized number: %.24s", hex);
	free(text);
	text = must_slurp(w.path);
	hex = find_long_hex(text);
	if (hex) {
		tap_diag("%s", text);
		FAIL("%s shows a pointer-sized number: %.24s", w.path, hex);
	}
	free(text);

	pid = fork_child();
	if (!pid) {
		int fd1, fd2;

		if (setgid(65534) || setuid(65534))
			_exit(2);
		fd1 = open(DBG_SUMMARY, O_RDONLY);
		fd2 = open(w.path, O_RDONLY);
		_exit(fd1 < 0 && errno == EACCES && fd2 < 0 ? 0 : 1);
	}
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "user 65534 could open the files (or could not drop root): status 0x%x",
	      status);
	close(w.fd);
}

/*
 * The callbacks counter equals what the driver counted; invalidations are
 * at least the operations the test made; the summary moves by as much.
 */
static void test_counters_match_log(void)
{
	/* Callbacks each operation below makes on A, B, C. */
	static const unsigned int want[3] = { 2, 3, 2 };
	struct summary s0, s1, s2;
	struct workload w;
	struct mm_file f;
	uint64_t calls[3], sum = 0;
	unsigned int k, ops = 0;

	s0 = settled_summary();
	workload_add(&w);
	must_fault(w.fd, w.id[1], w.p + 4 * psz, 4, 0);
	/* A, B */
	CHECK(mprotect(w.p, 8 * psz, PROT_READ) == 0, "mprotect: %s",
	      strerror(errno));
	ops++;
	/* A, B */
	CHECK(madvise(w.p + 2 * psz, 4 * psz, MADV_DONTNEED) == 0,
	      "madvise: %s", strerror(errno));
	ops++;
	/* C */
	CHECK(mprotect(w.p + 12 * psz, 4 * psz, PROT_READ) == 0,
	      "mprotect: %s", strerror(errno));
	ops++;
	/* B, C */
	CHECK(munmap(w.p + 6 * psz, 8 * psz) == 0, "munmap: %s",
	      strerror(errno));
	ops++;

	for (k = 0; k < 3; k++) {
		calls[k] = log_calls(w.fd, w.id[k]);
		sum += calls[k];
	}
	f = read_mm_file(w.path);
	s1 = read_summary();
	tap_diag("driver: %llu + %llu + %llu calls; mm: %llu callbacks, %llu invalidations for %u operations; summary: callbacks +%llu, invalidations +%llu",
		 (unsigned long long)calls[0], (unsigned long long)calls[1],
		 (unsigned long long)calls[2], (unsigned long long)f.c.callbacks,
		 (unsigned long long)f.c.invalidations, ops,
		 (unsigned long long)(s1.c.callbacks - s0.c.callbacks),
		 (unsigned long long)(s1.c.invalidations - s0.c.invalidations));
	for (k = 0; k < 3; k++)
		CHECK(calls[k] == want[k], "subscription %u called %llu times, wanted %u",
		      k, (unsigned long long)calls[k], want[k]);
	CHECK(f.c.callbacks == sum, "mm counts %llu callbacks, the driver %llu",
	      (unsigned long long)f.c.callbacks, (unsigned long long)sum);
	CHECK(f.c.invalidations >= ops, "mm counts %llu invalidations for %u operations",
	      (unsigned long long)f.c.invalidations, ops);
	CHECK(!f.c.refused && !f.c.no_record && !f.c.remove_waits &&
	      !f.c.waits && !f.c.wait_ns &&
	      !f.c.wait_max_ns, "counters of things that did not happen:\n%s",
	      f.text);
	CHECK(s1.c.callbacks - s0.c.callbacks == sum &&
	      s1.c.invalidations - s0.c.invalidations == f.c.invalidations,
	      "the summary's totals moved by other amounts than this mm's");

	/* Once the mm is gone, its counts stay in the totals. */
	for (k = 0; k < 3; k++)
		must_del(w.fd, w.id[k]);
	wait_file_gone(w.path);
	s2 = settled_summary();
	CHECK(s2.c.callbacks - s0.c.callbacks == sum &&
	      s2.c.invalidations - s0.c.invalidations >= f.c.invalidations,
	      "after the mm is gone the totals moved by %llu callbacks, %llu invalidations",
	      (unsigned long long)(s2.c.callbacks - s0.c.callbacks),
	      (unsigned long long)(s2.c.invalidations - s0.c.invalidations));
	close(w.fd);
}

/*
 * A callback that refuses in non-blockable context (process_mrelease of a
 * child whose mirror lock is held) counts in callbacks_refused, and shows
 * in the trace as a non-blockable start and a callback returning 0.
 */
static void test_counters_refused(void)
{
	const size_t n = 8;
	int fd = open_dev();
	struct { uint64_t id, start; } subs[2];
	const struct tev *st, *cb[4];
	struct summary s0, s1;
	struct mm_file f;
	struct trace tr;
	uint64_t sum, busy = 0;
	unsigned long mm, last;
	char path[128];
	int pfd[2], pidfd;
	unsigned int k;
	size_t ncb, i;
	long ret;
	pid_t pid;

	s0 = settled_summary();
	trace_start();
	CHECK(pipe(pfd) == 0, "pipe: %s", strerror(errno));
	pid = fork_child();
	if (!pid) {
		char *p = map_touched_pages(n);

		subs[0].start = (uintptr_t)p;
		subs[0].id = must_add(fd, p, n * psz, 0);
		must_fault(fd, subs[0].id, p, n, 0);
		subs[1].start = 0x1000;
		subs[1].id = must_add(fd, (void *)0x1000, psz,
				      MNI_TEST_ADD_NOMIRROR);
		CHECK(write(pfd[1], subs, sizeof(subs)) == sizeof(subs),
		      "write: %s", strerror(errno));
		/* Sleep in the driver holding the mirror lock. */
		mirror_hold(fd, subs[0].id, 3000);
		_exit(0);
	}
	close(pfd[1]);
	CHECK(read(pfd[0], subs, sizeof(subs)) == sizeof(subs),
	      "child did not report its subscriptions");
	wait_task_state_d(pid);
	mm = wait_mm_file(pid, path, sizeof(path));

	pidfd = pidfd_open_and_kill(pid);
	trace_mark("reap");
	ret = process_mrelease_or_skip(pidfd);
	CHECK(ret == -1 && errno == EAGAIN,
	      "process_mrelease with the mirror lock held gave %ld (%s)", ret,
	      ret ? strerror(errno) : "ok");
	trace_mark("reaped");
	f = read_mm_file(path);
	CHECK(f.c.refused == 1, "callbacks_refused %llu right after the reap",
	      (unsigned long long)f.c.refused);
	free(f.text);
	CHECK(waitpid(pid, NULL, 0) == pid, "waitpid: %s", strerror(errno));
	trace_stop();

	/* The exit's release pass called both; the mm file outlives it. */
	f = read_mm_file(path);
	tap_diag("%s after the child's exit:\n%s", path, f.text);
	for (k = 0, sum = 0; k < 2; k++) {
		struct mni_test_log log;
		uint64_t j;

		get_log(fd, subs[k].id, false, &log);
		sum += log.calls;
		for (j = 0; j < log.count; j++)
			busy += !!(log.entry[j].flags & MNI_TEST_LOG_BUSY);
	}
	CHECK(f.c.refused == busy && busy == 1,
	      "callbacks_refused %llu, the driver refused %llu times",
	      (unsigned long long)f.c.refused, (unsigned long long)busy);
	CHECK(f.c.callbacks == sum, "mm counts %llu callbacks, the driver %llu",
	      (unsigned long long)f.c.callbacks, (unsigned long long)sum);
	s1 = read_summary();
	CHECK(s1.c.refused == s0.c.refused + 1,
	      "summary callbacks_refused %llu -> %llu",
	      (unsigned long long)s0.c.refused, (unsigned long long)s1.c.refused);

	/* In the trace: one refusal, by a non-blockable start of the reap. */
	tr = trace_read(mm);
	ncb = 0;
	for (i = trace_marker(&tr, "reap"); i < trace_marker(&tr, "reaped"); i++)
		if (tr.ev[i].type == EV_CALLBACK && tr.ev[i].arg == 0 &&
		    ncb < ARRAY_SIZE(cb))
			cb[ncb++] = &tr.ev[i];
	if (ncb != 1) {
		trace_dump(&tr, 0, tr.n);
		FAIL("%zu refused callbacks in the trace of the reap", ncb);
	}
	last = subs[0].start + n * psz - 1;
	expect_sub_ev(cb[0], EV_CALLBACK, subs[0].start, last, 0, "refusal");
	for (st = NULL, i = ev_index(&tr, cb[0]); i-- > 0;)
		if (tr.ev[i].type == EV_START) {
			st = &tr.ev[i];
			break;
		}
	/* The reaper's event: UNMAP up to 6.x, CLEAR on 7.x. */
	if (!st || st->blockable ||
	    (st->event != MNI_TEST_EV_UNMAP && st->event != MNI_TEST_EV_CLEAR)) {
		trace_dump(&tr, 0, tr.n);
		FAIL("the refusal does not follow a non-blockable UNMAP (or CLEAR) start");
	}
	must_del(fd, subs[0].id);
	must_del(fd, subs[1].id);
	close(pidfd);
	close(fd);
}

/*
 * The summary's totals include every mm, live or gone, so they never go
 * down: not even between an mm's last remove and its free.
 */
static void test_summary_totals_monotonic(void)
{
	const size_t n = 4;
	int fd = open_dev();
	char *p = map_touched_pages(n);
	struct summary s1, s2, s3;
	char path[128];
	uint64_t a;

	a = must_add(fd, p, n * psz, 0);
	wait_mm_file(getpid(), path, sizeof(path));
	CHECK(mprotect(p, n * psz, PROT_READ) == 0, "mprotect: %s",
	      strerror(errno));
	s1 = read_summary();
	must_del(fd, a);
	s2 = read_summary();
	s3 = settled_summary();
	tap_diag("callbacks: %llu live, %llu right after the last remove, %llu settled",
		 (unsigned long long)s1.c.callbacks,
		 (unsigned long long)s2.c.callbacks,
		 (unsigned long long)s3.c.callbacks);
	CHECK(s2.c.callbacks >= s1.c.callbacks &&
	      s2.c.invalidations >= s1.c.invalidations,
	      "the totals went down after the last remove: callbacks %llu -> %llu, invalidations %llu -> %llu",
	      (unsigned long long)s1.c.callbacks,
	      (unsigned long long)s2.c.callbacks,
	      (unsigned long long)s1.c.invalidations,
	      (unsigned long long)s2.c.invalidations);
	CHECK(s3.c.callbacks >= s1.c.callbacks, "the totals lost an mm");
	close(fd);
}

static void show_file(const char *path)
{
	char *text = must_slurp(path);

	printf("# ---- cat %s\n", path);
	tap_diag("%s", text);
	free(text);
}

/*
 * Print what a developer sees: the workload of trace_workload, then a
 * read_begin() that waits for C's slow callback, and an insert meanwhile.
 */
static void test_show(void)
{
	struct op_thread inval = { .op = op_dontneed, .len = 2 * psz };
	struct mni_test_log log;
	struct workload w;
	struct trace tr;
	uint64_t d, seq;
	unsigned int k;
	size_t i;

	trace_start_clock("local");
	workload_add(&w);
	workload_ops(&w);
	show_file(w.path);

	get_log(w.fd, w.id[2], false, &log);
	CHECK(!mirror_log(w.fd, w.id[2], true, &log), "LOG");
	CHECK(mirror_slow(w.fd, w.id[2], 200) == 0, "SLOW");
	inval.addr = w.p + 14 * psz;
	op_start(&inval);
	wait_for_call(w.fd, w.id[2]);
	d = must_add(w.fd, w.p + 14 * psz, 2 * psz, 0);
	show_file(w.path);
	CHECK(mirror_seq_begin(w.fd, w.id[2], &seq) == 0, "SEQ_BEGIN");
	op_join(&inval);
	show_file(DBG_SUMMARY);

	for (k = 0; k < 3; k++)
		must_del(w.fd, w.id[k]);
	must_del(w.fd, d);
	trace_stop();
	tr = trace_read(w.mm);
	printf("# ---- cat %s/trace (mm=%lu only)\n", tracefs, w.mm);
	for (i = 0; i < tr.n; i++)
		if (tr.ev[i].type != EV_MARK)
			printf("# %s\n", tr.ev[i].line);
	close(w.fd);
}

/* --------------------------------------------------------------- main */

#define TEST(id, secs)	{ .name = #id, .fn = test_##id, .timeout = secs }
#define MANUAL(id, secs)	{ .name = #id, .fn = test_##id, .timeout = secs, \
				  .manual = true }

static const struct tap_test tests[] = {
	TEST(trace_workload, 0),
	TEST(read_begin_wait_remove, 0),
	TEST(debugfs_lists_subscriptions, 0),
	TEST(debugfs_during_invalidation, 0),
	TEST(debugfs_root_only, 0),
	TEST(counters_match_log, 0),
	TEST(counters_refused, 0),
	TEST(summary_totals_monotonic, 0),
	MANUAL(show, 0),
};

int main(int argc, char **argv)
{
	struct mni_test_info info;

	if (argc < 2 || argv[1][0] == '-') {
		tap_usage(argv[0], tests, ARRAY_SIZE(tests));
		return 2;
	}
	dev_path = argv[1];
	psz = sysconf(_SC_PAGESIZE);
	/*
	 * One arena, grown once and never trimmed and no mmap()ed chunks:
	 * malloc() then never needs mmap_lock for write (see op_thread).
	 */
	mallopt(M_ARENA_MAX, 1);
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	{
		char *heap = malloc(16 << 20);

		if (heap)
			memset(heap, 0, 16 << 20);
		free(heap);
	}

	if (!device_ready(&info))
		return 2;
	if (info.engine != MNI_TEST_ENGINE_MNI) {
		printf("Bail out! %s: not the mni flavour\n", dev_path);
		return 2;
	}
	if (access(DBG_SUMMARY, R_OK)) {
		printf("Bail out! %s: %s (debugfs mounted? root?)\n",
		       DBG_SUMMARY, strerror(errno));
		return 2;
	}
	return tap_run(tests, ARRAY_SIZE(tests), argv + 2, argc - 2) ? 1 : 0;
}
