/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mni_stats.h - the counters of one mm
 *
 * Kept beside the engine lock, in its cache line, and bumped under that
 * lock by paths that take it anyway: counting adds no cache line to the
 * invalidation path, and an mm's memory does not grow with the number of
 * possible CPUs, as per-CPU counters would make it.
 */
#ifndef _MNI_STATS_H
#define _MNI_STATS_H

#include <linux/minmax.h>
#include <linux/types.h>

/**
 * struct mni_stats - what one mm's engine did
 * @invalidations: invalidate_range_start calls seen, overlapping or not
 * @callbacks: subscriber callbacks made
 * @refused: callbacks that returned false in non-blockable context
 * @no_record: non-blockable invalidations refused for want of a spare
 *	record (each one also counts in @invalidations)
 * @remove_waits: remove() calls that waited for a callback still running
 * @waits: read_begin() calls that slept for overlapping invalidations
 * @wait_ns: nanoseconds those calls slept, in total
 * @wait_max_ns: the longest of those sleeps
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

/* Add @s into @sum (the longest wait is the longest of both). */
static inline void mni_stats_add(struct mni_stats *sum,
				 const struct mni_stats *s)
{
	sum->invalidations += s->invalidations;
	sum->callbacks += s->callbacks;
	sum->refused += s->refused;
	sum->no_record += s->no_record;
	sum->remove_waits += s->remove_waits;
	sum->waits += s->waits;
	sum->wait_ns += s->wait_ns;
	sum->wait_max_ns = max(sum->wait_max_ns, s->wait_max_ns);
}

#endif /* _MNI_STATS_H */
