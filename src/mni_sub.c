// SPDX-License-Identifier: GPL-2.0
/*
 * mni_sub.c - calling a subscriber, as its ops define it
 *
 * The engine (mni_itree.c) stays free of kernel-version questions and of
 * the kinds of ops: it calls these, and tests/user gives it its own.
 *
 * Three kinds of ops reach the engine in mmu_interval_notifier.ops:
 *  - the kernel's one-pass ops: ->invalidate();
 *  - the kernel's two-pass ops (7.1+): ->invalidate_start() and
 *    ->invalidate_finish(), with the kernel's finish type;
 *  - mni's two-pass ops, on every kernel: the base of a
 *    struct mni_interval_notifier_ops, which has no callback at all. Only
 *    mni_interval_notifier_insert_two_pass() stores such a base: plain
 *    inserts refuse bare ops. So a bare ops is always mni's.
 */
#include "mni.h"
#include "mni_kcompat.h"
#include "mni_sub.h"

/* The mni two-pass ops whose base @ops is, or NULL for the kernel's kinds. */
static const struct mni_interval_notifier_ops *
mni_two_pass_ops(const struct mmu_interval_notifier_ops *ops)
{
	if (!mni_ops_is_bare(ops))
		return NULL;
	return container_of(ops, struct mni_interval_notifier_ops, base);
}

/**
 * mni_sub_invalidate - call one subscription for an invalidation
 * @sub: the subscription
 * @range: the range being invalidated
 * @cur_seq: the sequence for mmu_interval_set_seq()
 * @finishes: collects the second passes two-pass ops ask for
 *
 * A finish is collected only from a start that returned true, so a
 * refusing subscription gets no second pass. The engine allocates
 * nothing here: the finish objects are the subscribers'.
 *
 * Return: the callback's result: false if it refused (non-blockable only).
 */
bool mni_sub_invalidate(struct mmu_interval_notifier *sub,
			const struct mmu_notifier_range *range,
			unsigned long cur_seq, struct mni_finishes *finishes)
{
	const struct mni_interval_notifier_ops *ops = mni_two_pass_ops(sub->ops);
	struct mni_interval_notifier_finish *finish = NULL;
	bool done;

	if (!ops)
		return mni_call_invalidate(sub, range, cur_seq,
					   &finishes->kern);
	done = ops->invalidate_start(sub, range, cur_seq, &finish);
	if (done && finish) {
		finish->notifier = sub;
		/*
		 * The walker's own list on its stack: no atomics needed, and
		 * open-coded: 5.10 has no __llist_add().
		 */
		finish->link.next = finishes->mni.first;
		finishes->mni.first = &finish->link;
	}
	return done;
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
 * mni_sub_name - what names @sub in debugfs and traces
 * @sub: a subscription of this module
 *
 * Return: its first-pass callback, whichever kind of ops it has.
 */
void *mni_sub_name(const struct mmu_interval_notifier *sub)
{
	const struct mni_interval_notifier_ops *ops = mni_two_pass_ops(sub->ops);

	return ops ? ops->invalidate_start : mni_ops_owner(sub->ops);
}

/**
 * mni_sub_finish_pass - run the second passes collected by one invalidation
 * @finishes: filled by mni_sub_invalidate(); empty on return
 *
 * Each kind runs in the order its starts ran: the kernel's kind first,
 * then mni's. A finish may free its object: the next is read before.
 */
void mni_sub_finish_pass(struct mni_finishes *finishes)
{
	struct mni_interval_notifier_finish *f, *next;
	struct llist_node *first;

	mni_call_finishes(&finishes->kern);
	first = llist_reverse_order(finishes->mni.first);
	finishes->mni.first = NULL;
	llist_for_each_entry_safe(f, next, first, link)
		mni_two_pass_ops(f->notifier->ops)->invalidate_finish(f);
}
