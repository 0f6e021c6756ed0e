/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mni_stats.h - per-CPU counters of one mm
 *
 * Bumped with this_cpu_*() on the invalidation path, so counting adds no
 * shared cache line there; readers sum over CPUs and accept a snapshot
 * that is not atomic across counters.
 */
#ifndef _MNI_STATS_H
#define _MNI_STATS_H

#include <linux/percpu.h>
#include <linux/types.h>

/**
 * struct mni_stats - what one mm's engine did, on one CPU
 * @invalidations: invalidate_range_start calls seen, overlapping or not
 * @callbacks: subscriber callbacks made
 * @refused: callbacks that returned false in non-blockable context
 * @no_record: non-blockable invalidations refused for want of a spare
 *	record (each one also counts in @invalidations)
 * @remove_waits: remove() calls that waited for a callback still running
 * @waits: read_begin() calls that slept for overlapping invalidations
 * @wait_ns: nanoseconds those calls slept, in total
 * @wait_max_ns: the longest of those sleeps on this CPU
 */
struct mni_stats {
	u64 invalidations;
	u64 callbacks;
	u64 refused;
	u64 no_record;
	u64 remove_waits;
	u64 waits;
	u64 wait_ns;
	u64 wait_max_ns;
};

#endif /* _MNI_STATS_H */
