/* SPDX-License-Identifier: GPL-2.0 */
/*
 * percpu.h - userspace stand-in: one "CPU"
 *
 * A per-CPU pointer is a plain pointer to a single instance, shared by all
 * threads. this_cpu_*() are atomic; get_cpu_ptr()/put_cpu_ptr() bracket a
 * section that the kernel makes exclusive by disabling preemption, so here
 * they take one process-wide mutex.
 */
#ifndef _SHIM_LINUX_PERCPU_H
#define _SHIM_LINUX_PERCPU_H

#include <linux/types.h>

#define __percpu

void shim_preempt_disable(void);
void shim_preempt_enable(void);

#define this_cpu_add(pcp, val)						\
	((void)__atomic_add_fetch(&(pcp), (val), __ATOMIC_RELAXED))
#define this_cpu_inc(pcp)	this_cpu_add(pcp, 1)
#define this_cpu_ptr(ptr)	(ptr)
#define per_cpu_ptr(ptr, cpu)	((void)(cpu), (ptr))
#define get_cpu_ptr(ptr)	(shim_preempt_disable(), (ptr))
#define put_cpu_ptr(ptr)	((void)(ptr), shim_preempt_enable())

#endif /* _SHIM_LINUX_PERCPU_H */
