/* SPDX-License-Identifier: GPL-2.0 */
/*
 * wait.h - userspace stand-in: a wait queue is a mutex, a condition
 * variable and a generation count that wake_up_all() bumps.
 *
 * wait_event() has the kernel's shape: the condition is evaluated with no
 * wait-queue lock held (it takes the engine lock itself), after the waiter
 * has read the generation, so a wake-up between the check and the sleep is
 * not lost; every wake-up re-checks the condition.
 *
 * For single-threaded tests a thread may set shim_wait_nonblock: a
 * wait_event() whose condition is false then counts itself in
 * shim_wait_would_block and returns instead of sleeping.
 */
#ifndef _SHIM_LINUX_WAIT_H
#define _SHIM_LINUX_WAIT_H

#include <pthread.h>
#include <linux/sched.h>

struct wait_queue_head {
	pthread_mutex_t m;
	pthread_cond_t c;
	unsigned long gen;	/* bumped by every wake_up_all() */
	unsigned int sleeping;	/* threads inside pthread_cond_wait() */
};

#define wait_queue_head_t struct wait_queue_head

/* One wait_event() in progress. */
struct shim_waiter {
	struct wait_queue_head *head;
	unsigned long gen;
	bool started, done;
};

extern __thread bool shim_wait_nonblock;
extern __thread unsigned long shim_wait_would_block;

void init_waitqueue_head(struct wait_queue_head *wq);
void wake_up_all(struct wait_queue_head *wq);
/* Before each check of the condition: false ends the wait. */
bool shim_wait_prepare(struct shim_waiter *w);
/* The condition was false: sleep until the next wake-up. */
void shim_wait_sleep(struct shim_waiter *w);
/* Threads asleep in @wq right now. */
unsigned int shim_wait_sleeping(struct wait_queue_head *wq);
/* Sleeps taken in any wait queue so far, all threads. */
unsigned long shim_wait_sleeps(void);

#define wait_event(wq, condition)					\
	do {								\
		struct shim_waiter __w = { .head = &(wq) };		\
									\
		while (shim_wait_prepare(&__w) && !(condition))		\
			shim_wait_sleep(&__w);				\
	} while (0)

#endif /* _SHIM_LINUX_WAIT_H */
