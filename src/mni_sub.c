// SPDX-License-Identifier: GPL-2.0
/*
 * mni_sub.c - calling a subscriber, as the running kernel's ops define it
 *
 * The engine (mni_itree.c) stays free of kernel-version questions: it calls
 * these two, and tests/user gives it its own.
 */
#include "mni_itree.h"
#include "mni_kcompat.h"

/**
 * mni_sub_invalidate - call one subscription for an invalidation
 * @sub: the subscription
 * @range: the range being invalidated
 * @cur_seq: the sequence for mmu_interval_set_seq()
 * @finishes: collects second passes that two-pass ops ask for (7.1+)
 *
 * Return: the callback's result: false if it refused (non-blockable only).
 */
bool mni_sub_invalidate(struct mmu_interval_notifier *sub,
			const struct mmu_notifier_range *range,
			unsigned long cur_seq, struct llist_head *finishes)
{
	return mni_call_invalidate(sub, range, cur_seq, finishes);
}

/**
 * mni_range_owner - who started @range, for the owner filter
 * @range: an invalidation
 *
 * Return: the owner a migration or an exclusive-access invalidation names,
 * else NULL.
 */
void *mni_range_owner(const struct mmu_notifier_range *range)
{
	return mni_range_owner_of(range);
}

/**
 * mni_sub_finish_pass - run the second passes collected by one invalidation
 * @finishes: filled by mni_sub_invalidate(); empty on return
 */
void mni_sub_finish_pass(struct llist_head *finishes)
{
	mni_call_finishes(finishes);
}
