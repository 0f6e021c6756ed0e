/* SPDX-License-Identifier: GPL-2.0 */
/* sched/signal.h - userspace stand-in: the signal state lives in sched.h */
#ifndef _SHIM_LINUX_SCHED_SIGNAL_H
#define _SHIM_LINUX_SCHED_SIGNAL_H

#include <linux/sched.h>

static inline bool fatal_signal_pending(void *task)
{
	(void)task;
	return shim_fatal_signal;
}

#endif /* _SHIM_LINUX_SCHED_SIGNAL_H */
