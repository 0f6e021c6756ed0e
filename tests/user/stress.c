// SPDX-License-Identifier: GPL-2.0
/*
 * stress.c - the engine under concurrent invalidations, inserts, removes
 * and faults, checked against the collision-retry contract
 *
 * A "CPU page table" of NPAGES pages holds one version number per page.
 * Invalidator threads run invalidate_start() over a random page range,
 * bump the version of every page in it (only there: between a successful
 * start and the end), then run invalidate_end() with the same range
 * pointer and publish, per page, the version their invalidation left
 * (done_ver).
 *
 * Owner threads each own a few "devices". A device mirrors the versions of
 * the pages its subscription covers, like a driver mirroring PTEs: the
 * fault path is read_begin() (read_sample(), then read_wait() while it
 * says -EAGAIN), read the versions, take the device lock, read_retry(),
 * program the mirror. The invalidate callback takes the device lock,
 * calls set_seq() and drops the mirror (non-blockable: trylock, refuse
 * when busy); a third of the subscriptions have mni's two-pass ops, whose
 * finish must run on a live subscription. Owners also move their
 * subscriptions (update, under the
 * device lock), and insert and remove them, freeing
 * each one once remove() is done (remove_wait() when remove_begin() says
 * a callback runs on it, as mni_interval_notifier_remove() does).
 *
 * Three runs, each in a child:
 *   main:    the above. Checked:
 *     1. a fault that passes read_retry() never holds a version older than
 *        one whose invalidation had completed before the check;
 *     2. while an invalidation of a range is between a successful start
 *        and its end, no device covering that range holds a valid mirror
 *        (unless its owner has already called remove());
 *     3. no callback runs on a subscription after its remove() returned
 *        (a flag, and ASan on the freed object);
 *     4. callbacks run with no engine lock held, inside the lockdep map;
 *     5. every thread made progress and the engine ends idle and empty.
 *   storm:   invalidators over the low half of the pages, whose callbacks
 *        sleep, with one owner faulting and removing there, while the
 *        other owners work on the high half, which nothing invalidates:
 *        their read_begin() never waits (-EAGAIN), their reads never
 *        retry, their removes never wait, with zero stale reads.
 *   release: the main run, with one release pass in the middle: every
 *        read_begin() that starts after it returned collides.
 *
 * Environment: MNI_STRESS_SECONDS (default 4, split over the runs),
 * MNI_SEED.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <time.h>

#include "mni.h"
#include "mni_itree.h"
#include "shared_ref.h"
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

#define NPAGES		96
#define STORM_SPLIT	48	/* storm: invalidations stay below this page */
#define PAGE_SIZE	4096UL
#define N_INVALIDATORS	2
#define N_OWNERS	3
#define DEVS_PER_OWNER	6
#define NDEVS		(N_OWNERS * DEVS_PER_OWNER)
#define QUARANTINE	8

enum run_mode { RUN_MAIN, RUN_STORM, RUN_RELEASE };

struct dev;

struct ssub {
	struct mmu_interval_notifier sub;
	struct dev *dev;
	int live;		/* atomic: inserted, remove() not yet returned */
	/* Two-pass subscriptions (mni's ops): their preallocated finish. */
	struct mni_interval_notifier_finish finish;
	int finish_busy;	/* atomic: handed to a pass, not yet run */
};

struct dev {
	pthread_mutex_t lock;	/* the driver lock: guards all below */
	struct ssub *cur;	/* subscription, NULL when none */
	unsigned long first, last;	/* pages covered */
	bool removing;		/* remove() called: no longer promised calls */
	bool valid;
	bool storm;		/* storm run: in the invalidated half */
	unsigned long ver[NPAGES];
};

/* Shared with the parent, which reports after the child is gone. */
struct results {
	unsigned long stale_reads, valid_during_inval, callback_after_remove;
	unsigned long bad_remove, bad_value, bad_lock, bad_release;
	unsigned long storm_waited, storm_retried, storm_remove_waited;
	unsigned long invalidations, eagain, callbacks, bumps;
	unsigned long faults_ok, faults_retried, faults_given_up;
	unsigned long read_waits, read_timeouts, after_release;
	unsigned long inserts, removes, removes_waited, sleeps;
	unsigned long puts, puts_released, updates, finishes;
	unsigned long quiet_faults, quiet_max_ns;
	unsigned long progress[N_INVALIDATORS + N_OWNERS];
	int engine_idle;
	char first_error[256];
};

static struct results *R;
static struct mni_itree it;
static unsigned long cpu_ver[NPAGES];
static unsigned long done_ver[NPAGES];
static struct dev devs[NDEVS];
static int stop;
static int released;		/* atomic: the release pass has returned */
static enum run_mode mode;
static unsigned long long seed;
static struct mm_struct *const fake_mm = (struct mm_struct *)0x20000;

static void add(unsigned long *counter, unsigned long n)
{
	__atomic_add_fetch(counter, n, __ATOMIC_RELAXED);
}

static void add_max(unsigned long *counter, unsigned long n)
{
	unsigned long old = __atomic_load_n(counter, __ATOMIC_RELAXED);

	while (old < n && !__atomic_compare_exchange_n(counter, &old, n, false,
						       __ATOMIC_RELAXED,
						       __ATOMIC_RELAXED))
		;
}

static __printf(2, 3) void error(unsigned long *counter, const char *fmt, ...)
{
	static int once;
	va_list ap;

	__atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
	if (__atomic_exchange_n(&once, 1, __ATOMIC_RELAXED))
		return;
	va_start(ap, fmt);
	vsnprintf(R->first_error, sizeof(R->first_error), fmt, ap);
	va_end(ap);
}

static unsigned long long rnd(unsigned long long *state)
{
	unsigned long long z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned long rnd_below(unsigned long long *state, unsigned long n)
{
	return rnd(state) % n;
}

static void jitter(unsigned long long *state)
{
	switch (rnd_below(state, 16)) {
	case 0:
		sched_yield();
		break;
	case 1:
		usleep(rnd_below(state, 30));
		break;
	}
}

static bool stopping(void)
{
	return __atomic_load_n(&stop, __ATOMIC_RELAXED);
}

/* ---- the driver side ------------------------------------------------ */

static bool dev_invalidate(struct mmu_interval_notifier *sub,
			   const struct mmu_notifier_range *range,
			   unsigned long cur_seq)
{
	struct ssub *s = container_of(sub, struct ssub, sub);
	struct dev *d = s->dev;

	if (!__atomic_load_n(&s->live, __ATOMIC_ACQUIRE))
		error(&R->callback_after_remove,
		      "callback on a subscription whose remove() returned");
	if (!(cur_seq & 1))
		error(&R->bad_value, "even cur_seq %#lx", cur_seq);
	if (shim_spin_depth() ||
	    shim_lock_map_depth(&mni_invalidate_map) != 1)
		error(&R->bad_lock, "callback under a spinlock or outside the map");
	if (mmu_notifier_range_blockable(range))
		pthread_mutex_lock(&d->lock);
	else if (pthread_mutex_trylock(&d->lock))
		return false;
	mmu_interval_set_seq(sub, cur_seq);
	d->valid = false;
	pthread_mutex_unlock(&d->lock);
	add(&R->callbacks, 1);
	/* The storm: slow callbacks, which nothing else may wait for. */
	if (mode == RUN_STORM && mmu_notifier_range_blockable(range))
		usleep(200 + (cur_seq >> 1) % 800);
	return true;
}

static const struct mmu_interval_notifier_ops dev_ops = {
	.invalidate = dev_invalidate,
};

/*
 * mni's two-pass ops: the start is dev_invalidate(), which drops the
 * mirror, and hands back the subscription's own finish unless a pass
 * still holds it; the finish checks that it runs on a live subscription
 * before the walk is over (remove() and a put's release wait for it;
 * ASan sees the rest) and gives the object back.
 */
static bool dev_start(struct mmu_interval_notifier *sub,
		      const struct mmu_notifier_range *range,
		      unsigned long cur_seq,
		      struct mni_interval_notifier_finish **finish)
{
	struct ssub *s = container_of(sub, struct ssub, sub);
	int idle = 0;

	if (!dev_invalidate(sub, range, cur_seq))
		return false;
	if (__atomic_compare_exchange_n(&s->finish_busy, &idle, 1, false,
					__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		*finish = &s->finish;
	return true;
}

static void dev_finish(struct mni_interval_notifier_finish *finish)
{
	struct ssub *s = container_of(finish, struct ssub, finish);

	if (!__atomic_load_n(&s->live, __ATOMIC_ACQUIRE))
		error(&R->callback_after_remove,
		      "a finish on a subscription whose remove() returned");
	if (finish->notifier != &s->sub)
		error(&R->bad_value, "a finish for another subscription");
	add(&R->finishes, 1);
	__atomic_store_n(&s->finish_busy, 0, __ATOMIC_RELEASE);
}

static const struct mni_interval_notifier_ops dev_two_pass_ops = {
	.invalidate_start = dev_start,
	.invalidate_finish = dev_finish,
};

/*
 * read_begin(), as mni_read_begin() makes it: the sample without the lock
 * while nothing is in flight, else under it, and sleep while an
 * overlapping invalidation runs.
 */
static unsigned long dev_read_begin(struct ssub *s, unsigned long long *rs,
				    bool quiet)
{
	struct mni_reader r;
	unsigned long seq;
	int ret;

	if (mni_itree_read_unlocked(&it, &s->sub, &seq))
		return seq;
	ret = mni_itree_read_prepare(&it, &s->sub, &seq, &r);
	if (quiet && ret)
		error(&R->storm_waited,
		      "read_sample = %d on a sub no invalidation overlaps", ret);
	while (ret == -EAGAIN) {
		bool timed = !rnd_below(rs, 4);

		ret = mni_itree_read_wait(&it, &r,
					  timed ? 1 : MAX_SCHEDULE_TIMEOUT,
					  !rnd_below(rs, 2), &seq);
		add(&R->read_waits, 1);
		if (ret == -ETIMEDOUT && timed) {
			add(&R->read_timeouts, 1);
			ret = mni_itree_read_prepare(&it, &s->sub, &seq, &r);
		}
	}
	if (ret)
		error(&R->bad_value, "read_begin of an inserted sub = %d", ret);
	return seq;
}

/* The fault path of a driver: mirror the pages of @d. */
static void dev_fault(struct dev *d, struct ssub *s, unsigned long long *rs)
{
	unsigned long snap[NPAGES], p, seq;
	bool quiet = mode == RUN_STORM && !d->storm;
	int tries;

	for (tries = 0; tries < 1000; tries++) {
		bool after = __atomic_load_n(&released, __ATOMIC_ACQUIRE);
		u64 t0 = ktime_get_ns();

		seq = dev_read_begin(s, rs, quiet);
		if (quiet) {
			add(&R->quiet_faults, 1);
			add_max(&R->quiet_max_ns, ktime_get_ns() - t0);
		}
		for (p = d->first; p <= d->last; p++) {
			snap[p] = __atomic_load_n(&cpu_ver[p], __ATOMIC_ACQUIRE);
			if (!rnd_below(rs, 8))
				jitter(rs);
		}
		pthread_mutex_lock(&d->lock);
		if (mmu_interval_read_retry(&s->sub, seq)) {
			pthread_mutex_unlock(&d->lock);
			add(&R->faults_retried, 1);
			if (quiet)
				error(&R->storm_retried,
				      "read_retry on a sub no invalidation overlaps");
			if (after) {
				/* Dead: every read collides; the driver gives up. */
				add(&R->after_release, 1);
				break;
			}
			continue;
		}
		if (after)
			error(&R->bad_release,
			      "a read_begin after release passed read_retry");
		for (p = d->first; p <= d->last; p++) {
			unsigned long done =
				__atomic_load_n(&done_ver[p], __ATOMIC_ACQUIRE);

			if (snap[p] < done)
				error(&R->stale_reads,
				      "page %lu: read version %lu after an invalidation that left %lu completed",
				      p, snap[p], done);
			d->ver[p] = snap[p];
		}
		d->valid = true;
		pthread_mutex_unlock(&d->lock);
		add(&R->faults_ok, 1);
		return;
	}
	add(&R->faults_given_up, 1);
}

/* A range for @d: its pages [*first, *last], bytes [*start, *lastb]. */
static void dev_pick_range(struct dev *d, unsigned long long *rs,
			   unsigned long *first, unsigned long *last,
			   unsigned long *start, unsigned long *lastb)
{
	unsigned long lo = 0, hi = NPAGES, n;

	if (mode == RUN_STORM) {
		lo = d->storm ? 0 : STORM_SPLIT;
		hi = d->storm ? STORM_SPLIT : NPAGES;
	}
	*first = lo + rnd_below(rs, hi - lo);
	n = 1 + rnd_below(rs, rnd_below(rs, 4) ? 4 : 16);
	*last = *first + n - 1 < hi ? *first + n - 1 : hi - 1;
	/* Byte ranges that start and end inside the first and last page. */
	*start = *first * PAGE_SIZE + rnd_below(rs, PAGE_SIZE);
	*lastb = *last * PAGE_SIZE + PAGE_SIZE - 1 - rnd_below(rs, PAGE_SIZE);
	if (*first == *last && *lastb < *start)
		*lastb = *start;
}

static void dev_insert(struct dev *d, unsigned long long *rs)
{
	unsigned long first, last;
	struct ssub *s = calloc(1, sizeof(*s));

	if (!s)
		abort();
	dev_pick_range(d, rs, &first, &last, &s->sub.interval_tree.start,
		       &s->sub.interval_tree.last);
	s->dev = d;
	s->sub.ops = rnd_below(rs, 3) ? &dev_ops : &dev_two_pass_ops.base;
	s->sub.mm = fake_mm;

	pthread_mutex_lock(&d->lock);
	d->cur = s;
	d->first = first;
	d->last = last;
	d->valid = false;
	pthread_mutex_unlock(&d->lock);
	__atomic_store_n(&s->live, 1, __ATOMIC_RELEASE);
	mni_itree_insert(&it, &s->sub);
	add(&R->inserts, 1);
}

/*
 * Move @d's subscription, as a driver splitting or growing a range would:
 * under the driver lock its callbacks take (update never waits), and the
 * device drops its mirror. Invalidations whose walk runs across the move
 * and overlap the old or the new range still call it; checks 1 and 2 see
 * to the rest.
 */
static void dev_update(struct dev *d, unsigned long long *rs)
{
	unsigned long first, last, start, lastb;
	int ret;

	dev_pick_range(d, rs, &first, &last, &start, &lastb);
	pthread_mutex_lock(&d->lock);
	ret = mni_itree_update(&it, &d->cur->sub, start, lastb);
	if (ret) {
		error(&R->bad_value, "update of an inserted sub = %d", ret);
	} else {
		d->first = first;
		d->last = last;
		d->valid = false;
	}
	pthread_mutex_unlock(&d->lock);
	add(&R->updates, 1);
}

/* A put subscription's release: no callback runs on it, and none will. */
static void dev_release(struct mmu_interval_notifier *sub)
{
	struct ssub *s = container_of(sub, struct ssub, sub);

	__atomic_store_n(&s->live, 0, __ATOMIC_RELEASE);
	add(&R->puts_released, 1);
	/* A callback after this is ASan's use-after-free. */
	free(s);
}

/*
 * As mni_interval_notifier_remove() does; then the object may go. Or, with
 * @put, as mni_interval_notifier_put() does: the engine frees it.
 */
static struct ssub *dev_remove(struct dev *d, bool put)
{
	struct ssub *s = d->cur;
	int ret;

	/*
	 * Once remove() is called no invalidation owes this device a
	 * callback: its mirror is the driver's business until the teardown
	 * below.
	 */
	pthread_mutex_lock(&d->lock);
	d->removing = true;
	pthread_mutex_unlock(&d->lock);
	if (put) {
		add(&R->puts, 1);
		ret = mni_itree_put(&it, &s->sub, dev_release);
		if (ret < 0 || ret > 1)
			error(&R->bad_remove, "put of an inserted sub returned %d", ret);
		if (!ret)
			shim_release_put(&it, &s->sub, dev_release);
		pthread_mutex_lock(&d->lock);
		d->cur = NULL;
		d->removing = false;
		d->valid = false;
		pthread_mutex_unlock(&d->lock);
		return NULL;
	}
	ret = mni_itree_remove_begin(&it, &s->sub);
	if (ret < 0 || ret > 1)
		error(&R->bad_remove, "remove of an inserted sub returned %d", ret);
	if (ret == 1 && mode == RUN_STORM && !d->storm)
		error(&R->storm_remove_waited,
		      "remove of a sub no invalidation overlaps had to wait");
	if (ret == 1) {
		mni_itree_remove_wait(&it, &s->sub);
		add(&R->removes_waited, 1);
	}
	__atomic_store_n(&s->live, 0, __ATOMIC_RELEASE);
	pthread_mutex_lock(&d->lock);
	d->cur = NULL;
	d->removing = false;
	d->valid = false;
	pthread_mutex_unlock(&d->lock);
	add(&R->removes, 1);
	return s;
}

struct owner {
	int id;
	unsigned long long rs;
	struct ssub *quarantine[QUARANTINE];
	unsigned int nq;
};

/* Free now, or after a few more removes so a late callback hits the flag. */
static void retire(struct owner *o, struct ssub *s)
{
	if (!s)
		return;		/* put: the engine frees it */
	if (rnd_below(&o->rs, 2)) {
		free(s);
		return;
	}
	free(o->quarantine[o->nq % QUARANTINE]);
	o->quarantine[o->nq++ % QUARANTINE] = s;
}

static void *owner_fn(void *arg)
{
	struct owner *o = arg;
	struct dev *mine = &devs[o->id * DEVS_PER_OWNER];
	unsigned int i;

	while (!stopping()) {
		struct dev *d = &mine[rnd_below(&o->rs, DEVS_PER_OWNER)];
		unsigned int r = rnd_below(&o->rs, 10);

		if (!d->cur)
			dev_insert(d, &o->rs);
		else if (r < 6)
			dev_fault(d, d->cur, &o->rs);
		else if (r < 7)
			dev_update(d, &o->rs);
		else
			retire(o, dev_remove(d, !rnd_below(&o->rs, 3)));
		__atomic_add_fetch(&R->progress[N_INVALIDATORS + o->id], 1,
				   __ATOMIC_RELAXED);
		jitter(&o->rs);
	}
	for (i = 0; i < DEVS_PER_OWNER; i++)
		if (mine[i].cur)
			retire(o, dev_remove(&mine[i], false));
	for (i = 0; i < QUARANTINE; i++)
		free(o->quarantine[i]);
	return NULL;
}

/* ---- the CPU side ---------------------------------------------------- */

/* While [first, last] is being invalidated, no device over it is valid. */
static void check_devices(unsigned long first, unsigned long last)
{
	int i;

	for (i = 0; i < NDEVS; i++) {
		struct dev *d = &devs[i];

		pthread_mutex_lock(&d->lock);
		if (d->cur && !d->removing && d->valid && d->first <= last &&
		    d->last >= first)
			error(&R->valid_during_inval,
			      "device %d (pages %lu-%lu) valid during an invalidation of pages %lu-%lu",
			      i, d->first, d->last, first, last);
		pthread_mutex_unlock(&d->lock);
	}
}

struct invalidator {
	int id;
	unsigned long long rs;
	double release_at;	/* RUN_RELEASE, invalidator 0: when */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *invalidator_fn(void *arg)
{
	struct invalidator *inv = arg;
	unsigned long vers[NPAGES];
	unsigned long span = mode == RUN_STORM ? STORM_SPLIT : NPAGES;

	while (!stopping()) {
		unsigned long first = rnd_below(&inv->rs, span);
		unsigned long n = 1 + rnd_below(&inv->rs,
						rnd_below(&inv->rs, 8) ? 8 : span);
		unsigned long last = first + n - 1 < span ? first + n - 1 : span - 1;
		bool blockable = rnd_below(&inv->rs, 6) != 0;
		struct mmu_notifier_range range = {
			.mm = fake_mm,
			.start = first * PAGE_SIZE,
			.end = (last + 1) * PAGE_SIZE,
			.flags = blockable ? MMU_NOTIFIER_RANGE_BLOCKABLE : 0,
			.event = MMU_NOTIFY_UNMAP,
		};
		unsigned long p;
		int ret;

		if (inv->release_at && now() >= inv->release_at) {
			inv->release_at = 0;
			mni_itree_release(&it, fake_mm);
			__atomic_store_n(&released, 1, __ATOMIC_RELEASE);
			continue;
		}
		ret = mni_itree_invalidate_start(&it, &range);
		add(&R->invalidations, 1);
		if (ret == -EAGAIN) {
			/* The core skips the change and still calls the end. */
			add(&R->eagain, 1);
		} else {
			if (ret)
				error(&R->bad_value, "invalidate_start returned %d", ret);
			check_devices(first, last);
			for (p = first; p <= last; p++) {
				vers[p] = __atomic_add_fetch(&cpu_ver[p], 1,
							     __ATOMIC_ACQ_REL);
				if (!rnd_below(&inv->rs, 16))
					jitter(&inv->rs);
			}
			add(&R->bumps, last - first + 1);
			check_devices(first, last);
		}
		jitter(&inv->rs);
		mni_itree_invalidate_end(&it, &range);
		if (!ret) {
			for (p = first; p <= last; p++) {
				unsigned long old = __atomic_load_n(&done_ver[p],
								    __ATOMIC_RELAXED);

				while (old < vers[p] &&
				       !__atomic_compare_exchange_n(&done_ver[p], &old,
						vers[p], false, __ATOMIC_RELEASE,
						__ATOMIC_RELAXED))
					;
			}
		}
		__atomic_add_fetch(&R->progress[inv->id], 1, __ATOMIC_RELAXED);
		if (!rnd_below(&inv->rs, 4))
			usleep(rnd_below(&inv->rs, 50));
	}
	return NULL;
}

/* ---- the runs, each in a child; the parent reports ------------------- */

static unsigned long env_ul(const char *name, unsigned long def)
{
	const char *s = getenv(name);

	return s && *s ? strtoul(s, NULL, 0) : def;
}

static void count_subs(void *arg, const struct mmu_interval_notifier *sub,
		       enum mni_sub_state state)
{
	(void)sub;
	(void)state;
	(*(unsigned long *)arg)++;
}

static void run_stress(double seconds)
{
	pthread_t threads[N_INVALIDATORS + N_OWNERS];
	struct invalidator invs[N_INVALIDATORS];
	struct owner owners[N_OWNERS];
	struct mni_itree_info info;
	unsigned long nsubs = 0;
	int i, n = 0;

	if (mni_itree_init(&it, 1))
		abort();
	for (i = 0; i < NDEVS; i++) {
		pthread_mutex_init(&devs[i].lock, NULL);
		/* The storm's own owner: faults and removes under the storm. */
		devs[i].storm = i < DEVS_PER_OWNER;
	}
	for (i = 0; i < N_INVALIDATORS; i++) {
		invs[i] = (struct invalidator){ .id = i, .rs = seed * 31 + i };
		if (mode == RUN_RELEASE && !i)
			invs[i].release_at = now() + seconds / 2;
		pthread_create(&threads[n++], NULL, invalidator_fn, &invs[i]);
	}
	for (i = 0; i < N_OWNERS; i++) {
		owners[i] = (struct owner){ .id = i, .rs = seed * 37 + 100 + i };
		pthread_create(&threads[n++], NULL, owner_fn, &owners[i]);
	}
	usleep(seconds * 1e6);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < n; i++)
		pthread_join(threads[i], NULL);

	mni_itree_inspect(&it, &info, count_subs, &nsubs);
	R->engine_idle = !info.in_flight && !nsubs && !info.subscriptions &&
			 !shim_shared_refs(&it) &&
			 info.dead == (mode == RUN_RELEASE) && (info.seq & 1);
	R->sleeps = shim_sleeps();
	mni_itree_destroy(&it);
}

static int passed, failed;

#define REPORT(ok, name)						\
	do {								\
		bool __ok = (ok);					\
		printf("%sok %d - %s\n", __ok ? "" : "not ",		\
		       passed + failed + 1, name);			\
		__ok ? passed++ : failed++;				\
	} while (0)

static bool run_child(enum run_mode m, double seconds, const char *name)
{
	int status, i;
	bool ran, progress = true;
	pid_t pid;

	memset(R, 0, sizeof(*R));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		exit(1);
	if (!pid) {
		mode = m;
		alarm(seconds + 60);
		run_stress(seconds);
		exit(0);	/* LeakSanitizer checks the run */
	}
	while (waitpid(pid, &status, 0) < 0)
		;
	ran = WIFEXITED(status) && !WEXITSTATUS(status);
	if (!ran)
		tap_diag("%s: the run died: %s %d", name, WIFSIGNALED(status) ?
			  "signal" : "exit status", WIFSIGNALED(status) ?
			  WTERMSIG(status) : WEXITSTATUS(status));
	if (R->first_error[0])
		tap_diag("%s: first error: %s", name, R->first_error);
	tap_diag("%s: %lu invalidations (%lu -EAGAIN), %lu callbacks, %lu page bumps",
		  name, R->invalidations, R->eagain, R->callbacks, R->bumps);
	tap_diag("%s: %lu faults (%lu retried, %lu gave up, %lu collided after release), %lu read_waits (%lu timed out), %lu sleeps",
		  name, R->faults_ok, R->faults_retried, R->faults_given_up,
		  R->after_release, R->read_waits, R->read_timeouts, R->sleeps);
	tap_diag("%s: %lu inserts, %lu removes (%lu waited for a callback)",
		  name, R->inserts, R->removes, R->removes_waited);
	tap_diag("%s: %lu puts, %lu released, %lu updates, %lu two-pass finishes",
		  name, R->puts, R->puts_released, R->updates, R->finishes);
	if (m == RUN_STORM)
		tap_diag("%s: %lu read_begins outside the storm, longest %lu us",
			  name, R->quiet_faults, R->quiet_max_ns / 1000);
	for (i = 0; i < N_INVALIDATORS + N_OWNERS; i++)
		if (!R->progress[i])
			progress = false;
	return ran && progress && R->engine_idle && !R->bad_value &&
	       !R->bad_lock && !R->bad_remove && !R->callback_after_remove &&
	       R->puts && R->puts == R->puts_released && R->updates &&
	       R->finishes;
}

int main(void)
{
	double seconds = env_ul("MNI_STRESS_SECONDS", 4);
	unsigned long main_read_waits;
	bool ok;

	mni_itree_set_put_done(shim_put_done);
	seed = env_ul("MNI_SEED", (unsigned long)time(NULL) * 2654435761UL ^ getpid());
	R = mmap(NULL, sizeof(*R), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (R == MAP_FAILED)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# stress: seed %llu (replay: MNI_SEED=%llu), %.1f s, %d invalidators, %d owners x %d devices, %d pages\n",
	       seed, seed, seconds, N_INVALIDATORS, N_OWNERS,
	       DEVS_PER_OWNER, NPAGES);
	printf("1..8\n");

	ok = run_child(RUN_MAIN, seconds / 2, "main");
	REPORT(ok && !R->stale_reads && R->faults_ok,
	       "stress: no read passed read_retry with a version older than a completed invalidation's");
	REPORT(ok && !R->valid_during_inval,
	       "stress: no device mirror valid while its range is being invalidated");
	REPORT(ok, "stress: no callback after remove() or a put's release, every put released once, callbacks unlocked inside the map, every thread made progress, engine idle and empty at the end");
	main_read_waits = R->read_waits;

	ok = run_child(RUN_STORM, seconds / 4, "storm");
	REPORT(ok && !R->storm_waited && !R->storm_retried &&
	       !R->storm_remove_waited && R->quiet_faults,
	       "storm: read_begin, read_retry and remove outside the storm never wait or collide");
	/*
	 * Coverage: the main run's callbacks are too quick for a remove to
	 * meet one reliably in a short run; the storm's sleeping ones are not.
	 */
	REPORT(ok && main_read_waits && R->removes_waited,
	       "stress: read_wait (main run) and remove_wait (storm) both slept and returned");
	REPORT(ok && !R->stale_reads && !R->valid_during_inval && R->faults_ok,
	       "storm: no stale read, no valid mirror during an invalidation");

	ok = run_child(RUN_RELEASE, seconds / 4, "release");
	REPORT(ok && !R->bad_release && R->after_release,
	       "release: every read_begin after the release pass collides");
	REPORT(ok && !R->stale_reads && !R->valid_during_inval,
	       "release: no stale read, no valid mirror during an invalidation");
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
