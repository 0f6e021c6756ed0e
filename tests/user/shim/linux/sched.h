/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sched.h - userspace stand-in: might_sleep() checks no shim lock is held;
 * schedule_timeout() sleeps on the simple wait queue the thread prepared
 * for (see swait.h), or just sleeps; a jiffy is a millisecond here.
 */
#ifndef _SHIM_LINUX_SCHED_H
#define _SHIM_LINUX_SCHED_H

#include <linux/ktime.h>
#include <linux/spinlock.h>

#define TASK_RUNNING		0x0000
#define TASK_UNINTERRUPTIBLE	0x0002
#define TASK_WAKEKILL		0x0100
#define TASK_KILLABLE		(TASK_WAKEKILL | TASK_UNINTERRUPTIBLE)

#define MAX_SCHEDULE_TIMEOUT	LONG_MAX

#define might_sleep()							\
	do {								\
		if (shim_spin_depth())					\
			shim_bug(__FILE__, __LINE__,			\
				 "might_sleep() under a spinlock");	\
	} while (0)

/*
 * Per thread: a fatal signal is pending (prepare_to_swait_event() with
 * TASK_KILLABLE then reports it), and a sleep is a bug (single-threaded
 * tests that know nothing can wake them set it).
 */
extern __thread bool shim_fatal_signal;

/* current: one distinct address per thread, which is all the engine compares. */
struct task_struct;
extern __thread char shim_task;
#define current ((struct task_struct *)&shim_task)
extern __thread bool shim_no_sleep;

/*
 * Userspace runs every call in task context; a test sets shim_irqs_off to
 * make the calls of its thread as if interrupts were off (a put from a
 * hardirq handler, say).
 */
extern __thread bool shim_irqs_off;
#define irqs_disabled()		(shim_irqs_off)

/* Return: jiffies left, 0 if the timeout expired. Never sleeps for 0. */
long schedule_timeout(long timeout);
long schedule_timeout_uninterruptible(long timeout);
/* Real sleeps taken so far (waits on a queue and plain sleeps), all threads. */
unsigned long shim_sleeps(void);

#endif /* _SHIM_LINUX_SCHED_H */
