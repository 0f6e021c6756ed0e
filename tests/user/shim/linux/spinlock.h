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

/*
 * The engine lock is always taken with interrupts off (put and set_owner
 * may be called from a hardirq handler): a plain raw_spin_lock() of it is
 * a bug the shim reports. The interrupt state itself is not modelled.
 */
void shim_spin_lock_irqs_on(raw_spinlock_t *lock, const char *file, int line);

#define raw_spin_lock_init(lock)	shim_spin_init(lock)
#define raw_spin_lock(lock)		shim_spin_lock_irqs_on(lock, __FILE__, __LINE__)
#define raw_spin_unlock(lock)		shim_spin_unlock(lock)
#define raw_spin_lock_irq(lock)		shim_spin_lock(lock)
#define raw_spin_unlock_irq(lock)	shim_spin_unlock(lock)
#define raw_spin_lock_irqsave(lock, flags)				\
	do {								\
		(flags) = 0;						\
		shim_spin_lock(lock);					\
	} while (0)
#define raw_spin_unlock_irqrestore(lock, flags)				\
	do {								\
		(void)(flags);						\
		shim_spin_unlock(lock);					\
	} while (0)

#define lockdep_assert_held(lock)					\
	do {								\
		if (!shim_spin_held(lock))				\
			shim_bug(__FILE__, __LINE__,			\
				 "lockdep_assert_held(" #lock ")");	\
	} while (0)

#endif /* _SHIM_LINUX_SPINLOCK_H */
