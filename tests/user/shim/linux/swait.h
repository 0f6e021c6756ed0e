/* SPDX-License-Identifier: GPL-2.0 */
/*
 * swait.h - userspace stand-in: a simple wait queue is a mutex, a condition
 * variable and a generation count that swake_up_all() bumps.
 *
 * prepare_to_swait_event() queues the waiter and notes the generation;
 * schedule_timeout() then sleeps only while the generation is unchanged,
 * so a wake-up between the caller's check and its sleep is not lost, as
 * with the kernel's queue-then-test-then-schedule pattern.
 * swait_active() reports queued waiters, so an engine that skips the wake
 * when nobody is queued is tested as the kernel would run it.
 */
#ifndef _SHIM_LINUX_SWAIT_H
#define _SHIM_LINUX_SWAIT_H

#include <pthread.h>
#include <linux/sched.h>

struct swait_queue_head {
	pthread_mutex_t m;
	pthread_cond_t c;
	unsigned long gen;	/* bumped by every swake_up_all() */
	unsigned int queued;	/* between prepare and finish */
	unsigned int sleeping;	/* inside pthread_cond_(timed)wait() */
};

struct swait_queue {
	struct swait_queue_head *head;
	unsigned long gen;
	bool queued;
};

#define DECLARE_SWAITQUEUE(name) struct swait_queue name = { .head = NULL }

void init_swait_queue_head(struct swait_queue_head *q);
bool swait_active(struct swait_queue_head *q);
void swake_up_all(struct swait_queue_head *q);
/* Nonzero (-ERESTARTSYS) if @state is TASK_KILLABLE and a fatal signal is pending. */
long prepare_to_swait_event(struct swait_queue_head *q,
			    struct swait_queue *wait, int state);
void finish_swait(struct swait_queue_head *q, struct swait_queue *wait);

/* Threads asleep on @q right now. */
unsigned int shim_swait_sleeping(struct swait_queue_head *q);
/* swake_up_all() calls so far, all queues. */
unsigned long shim_swait_wakes(void);

#endif /* _SHIM_LINUX_SWAIT_H */
