/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compiler.h - userspace stand-in for the kernel's compiler helpers
 *
 * __always_inline comes from glibc's <sys/cdefs.h>; __printf() and
 * __noreturn from the Makefile's command line, so that no source file
 * spells out __attribute__ (checkpatch allows that only in the kernel's
 * own compiler_attributes.h).
 *
 * READ_ONCE()/WRITE_ONCE() are relaxed atomics rather than volatile
 * accesses, so ThreadSanitizer sees them as the marked accesses they are
 * in the kernel (KCSAN treats them the same way).
 */
#ifndef _SHIM_LINUX_COMPILER_H
#define _SHIM_LINUX_COMPILER_H

#include <sys/cdefs.h>

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

#define READ_ONCE(x)	__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, val)						\
	__atomic_store_n(&(x), (val), __ATOMIC_RELAXED)

/*
 * The kernel's barriers, as C11 fences and atomics: smp_mb() a full fence,
 * the release store and acquire load marked accesses ThreadSanitizer sees.
 * ThreadSanitizer has no fences: there smp_mb() is a sequentially
 * consistent read-modify-write of one word all of them share.
 */
#ifdef __SANITIZE_THREAD__
extern unsigned long shim_mb_word;
#define smp_mb()	((void)__atomic_fetch_add(&shim_mb_word, 0, __ATOMIC_SEQ_CST))
#else
#define smp_mb()	__atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif
/*
 * The read and write barriers: C11 acquire and release fences, or where
 * ThreadSanitizer has none, smp_mb().
 */
#ifdef __SANITIZE_THREAD__
#define smp_rmb()	smp_mb()
#define smp_wmb()	smp_mb()
#else
#define smp_rmb()	__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define smp_wmb()	__atomic_thread_fence(__ATOMIC_RELEASE)
#endif
#define smp_store_release(p, val)					\
	__atomic_store_n((p), (val), __ATOMIC_RELEASE)
#define smp_load_acquire(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)

#endif /* _SHIM_LINUX_COMPILER_H */
