// SPDX-License-Identifier: GPL-2.0
/*
 * shim.c - the runtime behind the userspace stand-ins in shim/linux/
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/percpu.h>
#include <linux/printk.h>
#include <linux/spinlock.h>
#include <linux/tracepoint.h>
#include <linux/slab.h>
#include <linux/swait.h>

#include "mni.h"

#include "mni_itree.h"
#include "mni_sub.h"

#define SHIM_MAX_HELD 8

/* What the calling thread holds: spinlocks, and lockdep maps. */
struct shim_held {
	const raw_spinlock_t *locks[SHIM_MAX_HELD];
	int depth;
	const struct lockdep_map *maps[SHIM_MAX_HELD];
	int map_depth;
};

static __thread struct shim_held held;
__thread int shim_map_nest;

static unsigned long pr_err_calls;

void shim_bug(const char *file, int line, const char *what)
{
	fprintf(stderr, "shim: BUG at %s:%d: %s\n", file, line, what);
	printf("# shim: BUG at %s:%d: %s\n", file, line, what);
	fflush(stdout);
	abort();
}

static void shim_check(int err, const char *what)
{
	if (err) {
		fprintf(stderr, "shim: %s: %s\n", what, strerror(err));
		abort();
	}
}

void shim_spin_init(raw_spinlock_t *lock)
{
	shim_check(pthread_mutex_init(&lock->m, NULL), "pthread_mutex_init");
}

void shim_spin_lock(raw_spinlock_t *lock)
{
	if (shim_spin_held(lock))
		shim_bug(__FILE__, __LINE__, "raw_spin_lock() recursion");
	if (held.depth == SHIM_MAX_HELD)
		shim_bug(__FILE__, __LINE__, "too many spinlocks held");
	shim_check(pthread_mutex_lock(&lock->m), "pthread_mutex_lock");
	held.locks[held.depth++] = lock;
}

void shim_spin_lock_irqs_on(raw_spinlock_t *lock, const char *file, int line)
{
	(void)lock;
	shim_bug(file, line, "engine lock taken with interrupts on");
}

void shim_spin_unlock(raw_spinlock_t *lock)
{
	int i;

	for (i = held.depth - 1; i >= 0; i--)
		if (held.locks[i] == lock)
			break;
	if (i < 0)
		shim_bug(__FILE__, __LINE__, "raw_spin_unlock() of a lock not held");
	memmove(&held.locks[i], &held.locks[i + 1],
		(held.depth - i - 1) * sizeof(held.locks[0]));
	held.depth--;
	shim_check(pthread_mutex_unlock(&lock->m), "pthread_mutex_unlock");
}

bool shim_spin_held(const raw_spinlock_t *lock)
{
	int i;

	for (i = 0; i < held.depth; i++)
		if (held.locks[i] == lock)
			return true;
	return false;
}

int shim_spin_depth(void)
{
	return held.depth;
}

void shim_lock_map_acquire(struct lockdep_map *map)
{
	if (held.map_depth == SHIM_MAX_HELD)
		shim_bug(__FILE__, __LINE__, "too many lockdep maps held");
	/* Like lockdep: the maps are not recursive. */
	if (shim_lock_map_depth(map) > shim_map_nest)
		shim_bug(__FILE__, __LINE__,
			 "lock_map_acquire() of a map this thread holds (lockdep: possible recursive locking)");
	held.maps[held.map_depth++] = map;
	__atomic_add_fetch(&map->acquired, 1, __ATOMIC_RELAXED);
}

void shim_lock_map_release(struct lockdep_map *map)
{
	/* Like lockdep: maps are released in the reverse order. */
	if (!held.map_depth || held.maps[held.map_depth - 1] != map)
		shim_bug(__FILE__, __LINE__, "lock_map_release() out of order");
	held.map_depth--;
}

int shim_lock_map_depth(const struct lockdep_map *map)
{
	int i, n = 0;

	for (i = 0; i < held.map_depth; i++)
		n += held.maps[i] == map;
	return n;
}

int shim_lock_map_total(void)
{
	return held.map_depth;
}

unsigned long shim_lock_map_acquired(const struct lockdep_map *map)
{
	return __atomic_load_n(&map->acquired, __ATOMIC_RELAXED);
}

void shim_pr_err(const char *fmt)
{
	static int verbose = -1;
	int v = __atomic_load_n(&verbose, __ATOMIC_RELAXED);

	__atomic_add_fetch(&pr_err_calls, 1, __ATOMIC_RELAXED);
	if (v < 0) {
		v = !!getenv("MNI_SHIM_VERBOSE");
		__atomic_store_n(&verbose, v, __ATOMIC_RELAXED);
	}
	if (v)
		fprintf(stderr, "shim: pr_err: %s", fmt);
}

unsigned long shim_pr_err_count(void)
{
	return __atomic_load_n(&pr_err_calls, __ATOMIC_RELAXED);
}

__thread bool shim_fatal_signal;
__thread char shim_task;
unsigned long shim_mb_word;
__thread bool shim_no_sleep;
__thread bool shim_irqs_off;
__thread unsigned int shim_kmalloc_fail, shim_kmalloc_skip;

/* The wait the thread prepared for, so schedule_timeout() can sleep on it. */
static __thread struct swait_queue *cur_wait;

static unsigned long sleeps, wakes, kmalloc_calls, kmalloc_failed;

void init_swait_queue_head(struct swait_queue_head *q)
{
	shim_check(pthread_mutex_init(&q->m, NULL), "pthread_mutex_init");
	shim_check(pthread_cond_init(&q->c, NULL), "pthread_cond_init");
	q->gen = 0;
	q->queued = 0;
	q->sleeping = 0;
}

bool swait_active(struct swait_queue_head *q)
{
	bool active;

	shim_check(pthread_mutex_lock(&q->m), "pthread_mutex_lock");
	active = q->queued;
	shim_check(pthread_mutex_unlock(&q->m), "pthread_mutex_unlock");
	return active;
}

void swake_up_all(struct swait_queue_head *q)
{
	shim_check(pthread_mutex_lock(&q->m), "pthread_mutex_lock");
	q->gen++;
	shim_check(pthread_cond_broadcast(&q->c), "pthread_cond_broadcast");
	shim_check(pthread_mutex_unlock(&q->m), "pthread_mutex_unlock");
	__atomic_add_fetch(&wakes, 1, __ATOMIC_RELAXED);
}

long prepare_to_swait_event(struct swait_queue_head *q,
			    struct swait_queue *wait, int state)
{
	if (held.depth)
		shim_bug(__FILE__, __LINE__, "prepare_to_swait_event() under a spinlock");
	if (cur_wait && cur_wait != wait)
		shim_bug(__FILE__, __LINE__, "two waits prepared at once");
	shim_check(pthread_mutex_lock(&q->m), "pthread_mutex_lock");
	if (state == TASK_KILLABLE && shim_fatal_signal) {
		/* As the kernel does: dequeue, and let the caller bail out. */
		if (wait->queued) {
			q->queued--;
			wait->queued = false;
		}
		shim_check(pthread_mutex_unlock(&q->m), "pthread_mutex_unlock");
		cur_wait = NULL;
		return -512;	/* -ERESTARTSYS */
	}
	if (!wait->queued) {
		q->queued++;
		wait->queued = true;
	}
	wait->head = q;
	wait->gen = q->gen;
	shim_check(pthread_mutex_unlock(&q->m), "pthread_mutex_unlock");
	cur_wait = wait;
	return 0;
}

void finish_swait(struct swait_queue_head *q, struct swait_queue *wait)
{
	shim_check(pthread_mutex_lock(&q->m), "pthread_mutex_lock");
	if (wait->queued) {
		q->queued--;
		wait->queued = false;
	}
	shim_check(pthread_mutex_unlock(&q->m), "pthread_mutex_unlock");
	cur_wait = NULL;
}

static void shim_sleep_checks(void)
{
	if (held.depth)
		shim_bug(__FILE__, __LINE__, "sleep under a spinlock");
	if (held.map_depth)
		shim_bug(__FILE__, __LINE__, "sleep inside a lockdep map");
	if (shim_no_sleep)
		shim_bug(__FILE__, __LINE__, "sleep where the test forbids one");
}

long schedule_timeout(long timeout)
{
	struct swait_queue *w = cur_wait;
	struct swait_queue_head *q;
	struct timespec ts;
	u64 deadline = 0;
	int err = 0;

	if (timeout <= 0)
		return 0;
	shim_sleep_checks();
	__atomic_add_fetch(&sleeps, 1, __ATOMIC_RELAXED);
	if (timeout != MAX_SCHEDULE_TIMEOUT)
		deadline = ktime_get_ns() + (u64)timeout * 1000000ULL;
	if (!w) {
		/* Nothing to wake us: a plain sleep of the whole timeout. */
		ts.tv_sec = timeout / 1000;
		ts.tv_nsec = (timeout % 1000) * 1000000L;
		nanosleep(&ts, NULL);
		return 0;
	}
	q = w->head;
	shim_check(pthread_mutex_lock(&q->m), "pthread_mutex_lock");
	q->sleeping++;
	while (q->gen == w->gen && err != ETIMEDOUT) {
		if (!deadline) {
			shim_check(pthread_cond_wait(&q->c, &q->m),
				   "pthread_cond_wait");
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		{
			u64 left = deadline > ktime_get_ns() ?
				   deadline - ktime_get_ns() : 0;
			u64 abs = (u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec + left;

			ts.tv_sec = abs / 1000000000ULL;
			ts.tv_nsec = abs % 1000000000ULL;
		}
		err = pthread_cond_timedwait(&q->c, &q->m, &ts);
		if (err && err != ETIMEDOUT)
			shim_check(err, "pthread_cond_timedwait");
	}
	q->sleeping--;
	/* The next sleep waits for the next wake-up. */
	w->gen = q->gen;
	shim_check(pthread_mutex_unlock(&q->m), "pthread_mutex_unlock");
	if (!deadline)
		return MAX_SCHEDULE_TIMEOUT;
	{
		u64 now = ktime_get_ns();

		return now >= deadline ? 0 :
		       (long)((deadline - now + 999999) / 1000000);
	}
}

long schedule_timeout_uninterruptible(long timeout)
{
	return schedule_timeout(timeout);
}

unsigned long shim_sleeps(void)
{
	return __atomic_load_n(&sleeps, __ATOMIC_RELAXED);
}

unsigned int shim_swait_sleeping(struct swait_queue_head *q)
{
	unsigned int n;

	shim_check(pthread_mutex_lock(&q->m), "pthread_mutex_lock");
	n = q->sleeping;
	shim_check(pthread_mutex_unlock(&q->m), "pthread_mutex_unlock");
	return n;
}

unsigned long shim_swait_wakes(void)
{
	return __atomic_load_n(&wakes, __ATOMIC_RELAXED);
}

void *shim_kmalloc(size_t size, gfp_t flags)
{
	__atomic_add_fetch(&kmalloc_calls, 1, __ATOMIC_RELAXED);
	if (flags & __GFP_DIRECT_RECLAIM)
		might_sleep();
	if (shim_kmalloc_fail && shim_kmalloc_skip)
		shim_kmalloc_skip--;
	else if (shim_kmalloc_fail) {
		shim_kmalloc_fail--;
		__atomic_add_fetch(&kmalloc_failed, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	return malloc(size);
}

void shim_kfree(const void *p)
{
	free((void *)p);
}

unsigned long shim_kmalloc_failed(void)
{
	return __atomic_load_n(&kmalloc_failed, __ATOMIC_RELAXED);
}

unsigned long shim_kmalloc_calls(void)
{
	return __atomic_load_n(&kmalloc_calls, __ATOMIC_RELAXED);
}

static pthread_mutex_t preempt_lock = PTHREAD_MUTEX_INITIALIZER;

void shim_preempt_disable(void)
{
	shim_check(pthread_mutex_lock(&preempt_lock), "pthread_mutex_lock");
}

void shim_preempt_enable(void)
{
	shim_check(pthread_mutex_unlock(&preempt_lock), "pthread_mutex_unlock");
}

/*
 * Trace events are counted in a small table filled lock-free: a mutex here
 * would order the threads that trace and hide races from ThreadSanitizer.
 */
#define SHIM_TRACE_SLOTS 32

static struct {
	const char *name;	/* atomic: set once */
	unsigned long count;	/* atomic */
} trace_slots[SHIM_TRACE_SLOTS];

void (*shim_trace_hook)(const char *event);

void shim_trace(const char *event, ...)
{
	int i;

	for (i = 0; i < SHIM_TRACE_SLOTS; i++) {
		const char *name = __atomic_load_n(&trace_slots[i].name,
						   __ATOMIC_ACQUIRE);

		if (!name) {
			const char *none = NULL;

			if (__atomic_compare_exchange_n(&trace_slots[i].name,
							&none, event, false,
							__ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE))
				name = event;
			else
				name = none;
		}
		if (!strcmp(name, event)) {
			__atomic_add_fetch(&trace_slots[i].count, 1,
					   __ATOMIC_RELAXED);
			return;
		}
	}
	shim_bug(__FILE__, __LINE__, "too many trace events");
}

unsigned long shim_trace_count(const char *event)
{
	int i;

	for (i = 0; i < SHIM_TRACE_SLOTS; i++) {
		const char *name = __atomic_load_n(&trace_slots[i].name,
						   __ATOMIC_ACQUIRE);

		if (!name)
			break;
		if (!strcmp(name, event))
			return __atomic_load_n(&trace_slots[i].count,
					       __ATOMIC_RELAXED);
	}
	return 0;
}

/*
 * The count of shared user references per engine (tests/user/shared_ref.h):
 * a few engines live at once, each found by its address.
 */
#define SHIM_SHARED_SLOTS 16
static struct {
	const struct mni_itree *it;
	long refs;
} shared_slots[SHIM_SHARED_SLOTS];
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
__thread bool shim_put_last;

/* The slot of @it, taken if it has none; shared_lock held. */
static long *shim_shared_slot(const struct mni_itree *it)
{
	int i, free = -1;

	for (i = 0; i < SHIM_SHARED_SLOTS; i++) {
		if (shared_slots[i].it == it)
			return &shared_slots[i].refs;
		if (free < 0 && !shared_slots[i].it)
			free = i;
	}
	if (free < 0)
		shim_bug(__FILE__, __LINE__, "too many engines");
	shared_slots[free].it = it;
	return &shared_slots[free].refs;
}

void shim_shared_ref(const struct mni_itree *it, int delta)
{
	long *refs;

	pthread_mutex_lock(&shared_lock);
	refs = shim_shared_slot(it);
	*refs += delta;
	if (*refs < 0 || *refs > 2)
		shim_bug(__FILE__, __LINE__, "shared user references out of range");
	pthread_mutex_unlock(&shared_lock);
}

long shim_shared_refs(const struct mni_itree *it)
{
	long refs;

	pthread_mutex_lock(&shared_lock);
	refs = *shim_shared_slot(it);
	pthread_mutex_unlock(&shared_lock);
	return refs;
}

/*
 * Everything quiet: one shared reference exactly while the engine has
 * users. Then forget the engine: its memory may hold another one next.
 */
void shim_shared_check(struct mni_itree *it)
{
	bool used;
	long *refs;

	raw_spin_lock_irq(&it->lock);
	used = it->nr_subs || it->nr_holds;
	raw_spin_unlock_irq(&it->lock);
	pthread_mutex_lock(&shared_lock);
	refs = shim_shared_slot(it);
	if (*refs != used)
		shim_bug(__FILE__, __LINE__,
			 "shared user references do not match the engine's users");
	*refs = 0;
	pthread_mutex_unlock(&shared_lock);
}

/*
 * src/mni_mm.c's job in the kernel, given to the engine as its put-done
 * callback (mni_itree_set_put_done()): the release, and the shared reference.
 */
void shim_put_done(struct mni_itree *it, struct mmu_interval_notifier *sub,
		   mni_release_t release, bool last)
{
	release(sub);
	if (last)
		shim_shared_ref(it, -1);
}

/* src/mni_sub.c's job in the kernel: what traces name a subscription by. */
void *mni_sub_name(const struct mmu_interval_notifier *sub)
{
	return (void *)sub->ops;
}

/* src/mni_sub.c's job in the kernel: the owner a range names. */
void *mni_range_owner(const struct mmu_notifier_range *range)
{
	if (range->event == MMU_NOTIFY_MIGRATE ||
	    range->event == MMU_NOTIFY_EXCLUSIVE)
		return range->owner;
	return NULL;
}

/*
 * src/mni_sub.c's job in the kernel: call a subscriber, one-pass or with
 * mni's two-pass ops (a bare base: no ->invalidate), whose finishes are
 * collected newest first and run oldest first. The kernel's own two-pass
 * ops (7.1+) do not exist here.
 */
bool mni_sub_invalidate(struct mmu_interval_notifier *sub,
			const struct mmu_notifier_range *range,
			unsigned long cur_seq, struct mni_finishes *finishes)
{
	const struct mni_interval_notifier_ops *ops;
	struct mni_interval_notifier_finish *finish = NULL;
	bool done;

	if (sub->ops->invalidate)
		return sub->ops->invalidate(sub, range, cur_seq);
	ops = container_of(sub->ops, struct mni_interval_notifier_ops, base);
	done = ops->invalidate_start(sub, range, cur_seq, &finish);
	if (done && finish) {
		finish->notifier = sub;
		finish->link.next = finishes->mni.first;
		finishes->mni.first = &finish->link;
	}
	return done;
}

void mni_sub_finish_pass(struct mni_finishes *finishes)
{
	struct llist_node *node, *prev = NULL, *next;
	struct mni_interval_notifier_finish *f;

	if (finishes->kern.first)
		abort();
	for (node = finishes->mni.first; node; node = next) {
		next = node->next;
		node->next = prev;
		prev = node;
	}
	/*
	 * Oldest first, each off the list before its call, so that the ones
	 * still to run stay there for mni_sub_finish_take().
	 */
	finishes->mni.first = prev;
	while ((node = finishes->mni.first)) {
		finishes->mni.first = node->next;
		f = container_of(node, struct mni_interval_notifier_finish,
				 link);
		container_of(f->notifier->ops, struct mni_interval_notifier_ops,
			     base)->invalidate_finish(f);
	}
}

bool mni_sub_finish_take(struct mni_finishes *from,
			 const struct mmu_interval_notifier *sub,
			 struct mni_finishes *to)
{
	struct llist_node **link = &from->mni.first, *node;
	struct mni_interval_notifier_finish *f;
	bool taken = false;

	if (from->kern.first)
		abort();
	while ((node = *link)) {
		f = container_of(node, struct mni_interval_notifier_finish,
				 link);
		if (f->notifier != sub) {
			link = &node->next;
			continue;
		}
		taken = true;
		if (!to)
			break;
		*link = node->next;
		node->next = to->mni.first;
		to->mni.first = node;
	}
	return taken;
}

void mni_sub_finish_drop(struct mni_finishes *finishes,
			 const struct mmu_interval_notifier *sub)
{
	struct mni_finishes gone = {};

	mni_sub_finish_take(finishes, sub, &gone);
}
