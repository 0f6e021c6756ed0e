// SPDX-License-Identifier: GPL-2.0
/*
 * stress.c - the engine under concurrent invalidations, inserts, removes
 * and faults, checked against the collision-retry contract
 *
 * A "CPU page table" of NPAGES pages holds one version number per page.
 * Invalidator threads run invalidate_start() over a random page range,
 * bump the version of every page in it (only there: between a successful
 * start and the end), then run invalidate_end() and publish, per page, the
 * version their invalidation left (done_ver).
 *
 * Owner threads each own a few "devices". A device mirrors the versions of
 * the pages its subscription covers, like a driver mirroring PTEs: the
 * fault path is read_begin(), read the versions, take the device lock,
 * read_retry(), program the mirror. The invalidate callback takes the
 * device lock, calls set_seq() and drops the mirror (non-blockable:
 * trylock, refuse when busy). Owners also insert and remove their
 * subscriptions, freeing each one once remove() has returned (waiting for
 * the epoch, as mni_interval_notifier_remove() does, when told to).
 *
 * Checked:
 *   1. a fault that passes read_retry() never holds a version older than
 *      one whose invalidation had completed before the check;
 *   2. while an invalidation of a range is between a successful start and
 *      its end, no device covering that range holds a valid mirror (unless
 *      its owner has already called remove(): from then on no callback is
 *      owed to it);
 *   3. no callback runs on a subscription after its remove() returned
 *      (a flag, and ASan on the freed object);
 *   4. every thread made progress and the engine ends idle and empty.
 *
 * Environment: MNI_STRESS_SECONDS (default 4), MNI_SEED.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <time.h>

#include "mni_itree.h"
#include "utap.h"

#define NPAGES		96
#define PAGE_SHIFT	12
#define PAGE_SIZE	4096UL
#define N_INVALIDATORS	2
#define N_OWNERS	3
#define DEVS_PER_OWNER	6
#define NDEVS		(N_OWNERS * DEVS_PER_OWNER)
#define QUARANTINE	8

struct dev;

struct ssub {
	struct mmu_interval_notifier sub;
	struct dev *dev;
	int live;		/* atomic: inserted, remove() not yet returned */
};

struct dev {
	pthread_mutex_t lock;	/* the driver lock: guards all below */
	struct ssub *cur;	/* subscription, NULL when none */
	unsigned long first, last;	/* pages covered */
	bool removing;		/* remove() called: no longer promised calls */
	bool valid;
	unsigned long ver[NPAGES];
};

/* Shared with the parent, which reports after the child is gone. */
struct results {
	unsigned long stale_reads, valid_during_inval, callback_after_remove;
	unsigned long bad_remove, bad_value, bad_lock;
	unsigned long invalidations, eagain, releases, callbacks, bumps;
	unsigned long faults_ok, faults_retried, faults_given_up;
	unsigned long inserts, removes, removes_waited, wait_sleeps;
	unsigned long progress[N_INVALIDATORS + N_OWNERS];
	int engine_idle;
	char first_error[256];
};

static struct results *R;
static struct mni_itree it;
static struct mni_stats stats;
static unsigned long cpu_ver[NPAGES];
static unsigned long done_ver[NPAGES];
static struct dev devs[NDEVS];
static int stop;
static unsigned long long seed;
static struct mm_struct *const fake_mm = (struct mm_struct *)0x20000;

static void add(unsigned long *counter, unsigned long n)
{
	__atomic_add_fetch(counter, n, __ATOMIC_RELAXED);
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
	return true;
}

static const struct mmu_interval_notifier_ops dev_ops = {
	.invalidate = dev_invalidate,
};

/* The fault path of a driver: mirror the pages of @d. */
static void dev_fault(struct dev *d, struct ssub *s, unsigned long long *rs)
{
	unsigned long snap[NPAGES], p, seq;
	int tries;

	for (tries = 0; tries < 1000; tries++) {
		seq = mni_itree_read_begin(&it, &s->sub);
		for (p = d->first; p <= d->last; p++) {
			snap[p] = __atomic_load_n(&cpu_ver[p], __ATOMIC_ACQUIRE);
			if (!rnd_below(rs, 8))
				jitter(rs);
		}
		pthread_mutex_lock(&d->lock);
		if (mmu_interval_read_retry(&s->sub, seq)) {
			pthread_mutex_unlock(&d->lock);
			add(&R->faults_retried, 1);
			continue;
		}
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

static void dev_insert(struct dev *d, unsigned long long *rs)
{
	unsigned long first = rnd_below(rs, NPAGES);
	unsigned long n = 1 + rnd_below(rs, rnd_below(rs, 4) ? 4 : 16);
	unsigned long last = first + n - 1 < NPAGES ? first + n - 1 : NPAGES - 1;
	struct ssub *s = calloc(1, sizeof(*s));

	if (!s)
		abort();
	s->dev = d;
	/* Byte ranges that start and end inside the first and last page. */
	s->sub.interval_tree.start = first * PAGE_SIZE + rnd_below(rs, PAGE_SIZE);
	s->sub.interval_tree.last = last * PAGE_SIZE + PAGE_SIZE - 1 -
				    rnd_below(rs, PAGE_SIZE);
	if (first == last && s->sub.interval_tree.last < s->sub.interval_tree.start)
		s->sub.interval_tree.last = s->sub.interval_tree.start;
	s->sub.ops = &dev_ops;
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

/* As mni_interval_notifier_remove() does; then the object may go. */
static struct ssub *dev_remove(struct dev *d)
{
	struct ssub *s = d->cur;
	unsigned long epoch = 0;
	int ret;

	/*
	 * Once remove() is called, and certainly once its epoch ended, no
	 * invalidation owes this device a callback: its mirror is the
	 * driver's business until the teardown below.
	 */
	pthread_mutex_lock(&d->lock);
	d->removing = true;
	pthread_mutex_unlock(&d->lock);
	ret = mni_itree_remove(&it, &s->sub, &epoch);
	if (ret < 0 || ret > 1)
		error(&R->bad_remove, "remove of an inserted sub returned %d", ret);
	if (ret == 1) {
		wait_event(it.wq, mni_itree_epoch_ended(&it, epoch));
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
		else if (r < 7)
			dev_fault(d, d->cur, &o->rs);
		else
			retire(o, dev_remove(d));
		__atomic_add_fetch(&R->progress[N_INVALIDATORS + o->id], 1,
				   __ATOMIC_RELAXED);
		jitter(&o->rs);
	}
	for (i = 0; i < DEVS_PER_OWNER; i++)
		if (mine[i].cur)
			retire(o, dev_remove(&mine[i]));
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
};

static void *invalidator_fn(void *arg)
{
	struct invalidator *inv = arg;
	unsigned long vers[NPAGES];

	while (!stopping()) {
		unsigned long first = rnd_below(&inv->rs, NPAGES);
		unsigned long n = 1 + rnd_below(&inv->rs,
						rnd_below(&inv->rs, 8) ? 8 : NPAGES);
		unsigned long last = first + n - 1 < NPAGES ? first + n - 1 : NPAGES - 1;
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

		if (!rnd_below(&inv->rs, 200)) {
			mni_itree_release(&it, fake_mm);
			add(&R->releases, 1);
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
		mni_itree_invalidate_end(&it);
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

/* ---- the run, in a child; the parent reports ------------------------ */

static unsigned long env_ul(const char *name, unsigned long def)
{
	const char *s = getenv(name);

	return s && *s ? strtoul(s, NULL, 0) : def;
}

static void run_stress(unsigned long seconds)
{
	pthread_t threads[N_INVALIDATORS + N_OWNERS];
	struct invalidator invs[N_INVALIDATORS];
	struct owner owners[N_OWNERS];
	int i, n = 0;

	mni_itree_init(&it, &stats, 1);
	for (i = 0; i < NDEVS; i++)
		pthread_mutex_init(&devs[i].lock, NULL);
	for (i = 0; i < N_INVALIDATORS; i++) {
		invs[i] = (struct invalidator){ .id = i, .rs = seed * 31 + i };
		pthread_create(&threads[n++], NULL, invalidator_fn, &invs[i]);
	}
	for (i = 0; i < N_OWNERS; i++) {
		owners[i] = (struct owner){ .id = i, .rs = seed * 37 + 100 + i };
		pthread_create(&threads[n++], NULL, owner_fn, &owners[i]);
	}
	sleep(seconds);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < n; i++)
		pthread_join(threads[i], NULL);

	spin_lock(&it.lock);
	R->engine_idle = !(it.seq & 1) && !it.active &&
			 RB_EMPTY_ROOT(&it.root.rb_root) && hlist_empty(&it.deferred);
	spin_unlock(&it.lock);
	R->wait_sleeps = shim_wait_sleeps();
}

int main(void)
{
	unsigned long seconds = env_ul("MNI_STRESS_SECONDS", 4);
	int passed = 0, failed = 0, status, i;
	bool ran, progress = true;
	pid_t pid;

	seed = env_ul("MNI_SEED", (unsigned long)time(NULL) * 2654435761UL ^ getpid());
	R = mmap(NULL, sizeof(*R), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (R == MAP_FAILED)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# stress: seed %llu, %lu s, %d invalidators, %d owners x %d devices, %d pages\n",
	       (unsigned long long)seed, seconds, N_INVALIDATORS, N_OWNERS,
	       DEVS_PER_OWNER, NPAGES);
	printf("1..5\n");

	pid = fork();
	if (pid < 0)
		return 1;
	if (!pid) {
		alarm(seconds + 60);
		run_stress(seconds);
		exit(0);	/* LeakSanitizer checks the run */
	}
	while (waitpid(pid, &status, 0) < 0)
		;
	ran = WIFEXITED(status) && !WEXITSTATUS(status);
	if (!ran)
		utap_diag("the stress run died: %s %d", WIFSIGNALED(status) ?
			  "signal" : "exit status", WIFSIGNALED(status) ?
			  WTERMSIG(status) : WEXITSTATUS(status));
	if (R->first_error[0])
		utap_diag("first error: %s", R->first_error);
	utap_diag("%lu invalidations (%lu -EAGAIN, %lu releases), %lu callbacks, %lu page bumps",
		  R->invalidations, R->eagain, R->releases, R->callbacks, R->bumps);
	utap_diag("%lu faults (%lu retried, %lu gave up), %lu sleeps in the wait queue",
		  R->faults_ok, R->faults_retried, R->faults_given_up,
		  R->wait_sleeps);
	utap_diag("%lu inserts, %lu removes (%lu waited for an epoch)",
		  R->inserts, R->removes, R->removes_waited);
	for (i = 0; i < N_INVALIDATORS + N_OWNERS; i++)
		if (!R->progress[i])
			progress = false;

#define REPORT(ok, name)						\
	do {								\
		bool __ok = (ok);					\
		printf("%sok %d - %s\n", __ok ? "" : "not ",		\
		       passed + failed + 1, name);			\
		__ok ? passed++ : failed++;				\
	} while (0)
	REPORT(ran && !R->stale_reads && !R->bad_value && R->faults_ok,
	       "stress: no read passed read_retry with a version older than a completed invalidation's");
	REPORT(ran && !R->valid_during_inval,
	       "stress: no device mirror valid while its range is being invalidated");
	REPORT(ran && !R->callback_after_remove && !R->bad_remove,
	       "stress: no callback after remove() returned");
	REPORT(ran && !R->bad_lock,
	       "stress: callbacks run unlocked, inside the lockdep map");
	REPORT(ran && progress && R->engine_idle,
	       "stress: every thread made progress, engine idle and empty at the end");
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
