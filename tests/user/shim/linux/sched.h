/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sched.h - userspace stand-in: might_sleep() checks no shim lock is held;
 * the clock comes along, as it does through the kernel's header
 */
#ifndef _SHIM_LINUX_SCHED_H
#define _SHIM_LINUX_SCHED_H

#include <linux/ktime.h>
#include <linux/spinlock.h>

#define might_sleep()							\
	do {								\
		if (shim_spin_depth())					\
			shim_bug(__FILE__, __LINE__,			\
				 "might_sleep() under a spinlock");	\
	} while (0)

#endif /* _SHIM_LINUX_SCHED_H */
