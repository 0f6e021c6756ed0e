// SPDX-License-Identifier: GPL-2.0
/*
 * shim.c - the runtime behind the userspace stand-ins in shim/linux/
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/percpu.h>
#include <linux/printk.h>
#include <linux/spinlock.h>
#include <linux/tracepoint.h>
#include <linux/wait.h>

#include "mni_itree.h"

#define SHIM_MAX_HELD 8

/* What the calling thread holds: spinlocks, and lockdep maps. */
struct shim_held {
	const struct spinlock *locks[SHIM_MAX_HELD];
	int depth;
	const struct lockdep_map *maps[SHIM_MAX_HELD];
	int map_depth;
};

static __thread struct shim_held held;

__thread bool shim_wait_nonblock;
__thread unsigned long shim_wait_would_block;

static unsigned long pr_err_calls;
static unsigned long wait_sleeps;

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

void shim_spin_init(spinlock_t *lock)
{
	shim_check(pthread_mutex_init(&lock->m, NULL), "pthread_mutex_init");
}

void shim_spin_lock(spinlock_t *lock)
{
	if (shim_spin_held(lock))
		shim_bug(__FILE__, __LINE__, "spin_lock() recursion");
	if (held.depth == SHIM_MAX_HELD)
		shim_bug(__FILE__, __LINE__, "too many spinlocks held");
	shim_check(pthread_mutex_lock(&lock->m), "pthread_mutex_lock");
	held.locks[held.depth++] = lock;
}

void shim_spin_unlock(spinlock_t *lock)
{
	int i;

	for (i = held.depth - 1; i >= 0; i--)
		if (held.locks[i] == lock)
			break;
	if (i < 0)
		shim_bug(__FILE__, __LINE__, "spin_unlock() of a lock not held");
	memmove(&held.locks[i], &held.locks[i + 1],
		(held.depth - i - 1) * sizeof(held.locks[0]));
	held.depth--;
	shim_check(pthread_mutex_unlock(&lock->m), "pthread_mutex_unlock");
}

bool shim_spin_held(const spinlock_t *lock)
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

void init_waitqueue_head(struct wait_queue_head *wq)
{
	shim_check(pthread_mutex_init(&wq->m, NULL), "pthread_mutex_init");
	shim_check(pthread_cond_init(&wq->c, NULL), "pthread_cond_init");
	wq->gen = 0;
	wq->sleeping = 0;
}

void wake_up_all(struct wait_queue_head *wq)
{
	shim_check(pthread_mutex_lock(&wq->m), "pthread_mutex_lock");
	wq->gen++;
	shim_check(pthread_cond_broadcast(&wq->c), "pthread_cond_broadcast");
	shim_check(pthread_mutex_unlock(&wq->m), "pthread_mutex_unlock");
}

bool shim_wait_prepare(struct shim_waiter *w)
{
	if (!w->started) {
		might_sleep();
		if (held.map_depth)
			shim_bug(__FILE__, __LINE__,
				 "wait_event() inside a lockdep map");
		w->started = true;
	}
	if (w->done)
		return false;
	shim_check(pthread_mutex_lock(&w->head->m), "pthread_mutex_lock");
	w->gen = w->head->gen;
	shim_check(pthread_mutex_unlock(&w->head->m), "pthread_mutex_unlock");
	return true;
}

void shim_wait_sleep(struct shim_waiter *w)
{
	struct wait_queue_head *wq = w->head;

	if (shim_wait_nonblock) {
		shim_wait_would_block++;
		w->done = true;
		return;
	}
	if (held.depth)
		shim_bug(__FILE__, __LINE__, "sleep under a spinlock");
	shim_check(pthread_mutex_lock(&wq->m), "pthread_mutex_lock");
	if (wq->gen == w->gen) {
		__atomic_add_fetch(&wait_sleeps, 1, __ATOMIC_RELAXED);
		wq->sleeping++;
		while (wq->gen == w->gen)
			shim_check(pthread_cond_wait(&wq->c, &wq->m),
				   "pthread_cond_wait");
		wq->sleeping--;
	}
	shim_check(pthread_mutex_unlock(&wq->m), "pthread_mutex_unlock");
}

unsigned int shim_wait_sleeping(struct wait_queue_head *wq)
{
	unsigned int n;

	shim_check(pthread_mutex_lock(&wq->m), "pthread_mutex_lock");
	n = wq->sleeping;
	shim_check(pthread_mutex_unlock(&wq->m), "pthread_mutex_unlock");
	return n;
}

unsigned long shim_wait_sleeps(void)
{
	return __atomic_load_n(&wait_sleeps, __ATOMIC_RELAXED);
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

/* src/mni_sub.c's job in the kernel: call a one-pass subscriber. */
bool mni_sub_invalidate(struct mmu_interval_notifier *sub,
			const struct mmu_notifier_range *range,
			unsigned long cur_seq, struct llist_head *finishes)
{
	(void)finishes;
	return sub->ops->invalidate(sub, range, cur_seq);
}

void mni_sub_finish_pass(struct llist_head *finishes)
{
	if (finishes->first)
		abort();
}
