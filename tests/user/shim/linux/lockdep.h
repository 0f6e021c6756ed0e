/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lockdep.h - userspace stand-in: lockdep maps count, per thread, how
 * often they are held, so a test can check that callbacks run inside the
 * engine's map and that nothing sleeps inside it.
 */
#ifndef _SHIM_LINUX_LOCKDEP_H
#define _SHIM_LINUX_LOCKDEP_H

#include <linux/kernel.h>

struct lock_class_key {
	int unused;
};

struct lockdep_map {
	const char *name;
	struct lock_class_key *key;
	unsigned long acquired;	/* atomic: acquisitions, all threads */
};

#define STATIC_LOCKDEP_MAP_INIT(_name, _key)				\
	{ .name = (_name), .key = (_key) }

void shim_lock_map_acquire(struct lockdep_map *map);
void shim_lock_map_release(struct lockdep_map *map);
/* Times the calling thread holds @map (acquire without release). */
int shim_lock_map_depth(const struct lockdep_map *map);
/* Times the calling thread holds any map. */
int shim_lock_map_total(void);
/*
 * Lockdep reports a map acquired by a thread that holds it already, and
 * so does the shim, unless the thread holds it at most this many times: a
 * test that nests invalidation passes on purpose (a callback that starts
 * another invalidation) sets it to the passes around the one it starts.
 */
extern __thread int shim_map_nest;
/* Acquisitions of @map so far, all threads. */
unsigned long shim_lock_map_acquired(const struct lockdep_map *map);

#define lock_map_acquire(map)	shim_lock_map_acquire(map)
#define lock_map_release(map)	shim_lock_map_release(map)
#define lock_is_held(map)	(shim_lock_map_depth(map) > 0)

/* A broken engine invariant: report it and abort the test process. */
void __noreturn shim_bug(const char *file, int line, const char *what);

#endif /* _SHIM_LINUX_LOCKDEP_H */
