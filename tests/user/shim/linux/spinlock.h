/* SPDX-License-Identifier: GPL-2.0 */
/*
 * spinlock.h - userspace stand-in: raw_spinlock_t is a pthread mutex
 *
 * The shim remembers, per thread, which locks the thread holds, so
 * lockdep_assert_held() is a real check and a test can assert that no
 * engine lock is held where the engine promises so (callbacks, sleeps).
 */
#ifndef _SHIM_LINUX_SPINLOCK_H
#define _SHIM_LINUX_SPINLOCK_H

#include <pthread.h>
#include <linux/lockdep.h>

struct raw_spinlock {
	pthread_mutex_t m;
};

typedef struct raw_spinlock raw_spinlock_t;

void shim_spin_init(raw_spinlock_t *lock);
void shim_spin_lock(raw_spinlock_t *lock);
void shim_spin_unlock(raw_spinlock_t *lock);
/* Does the calling thread hold @lock? */
bool shim_spin_held(const raw_spinlock_t *lock);
/* How many shim spinlocks does the calling thread hold? */
int shim_spin_depth(void);

#define raw_spin_lock_init(lock)	shim_spin_init(lock)
#define raw_spin_lock(lock)		shim_spin_lock(lock)
#define raw_spin_unlock(lock)		shim_spin_unlock(lock)

#define lockdep_assert_held(lock)					\
	do {								\
		if (!shim_spin_held(lock))				\
			shim_bug(__FILE__, __LINE__,			\
				 "lockdep_assert_held(" #lock ")");	\
	} while (0)

#endif /* _SHIM_LINUX_SPINLOCK_H */
