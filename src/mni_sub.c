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

/* The subscription a finish on @kern's or mni's list was collected for. */
static struct mmu_interval_notifier *mni_finish_sub(struct llist_node *node,
						    bool kern)
{
	if (kern)
		return mni_kern_finish_sub(node);
	return llist_entry(node, struct mni_interval_notifier_finish,
			   link)->notifier;
}

static void mni_finish_run(struct llist_node *node, bool kern)
{
	struct mni_interval_notifier_finish *f;

	if (kern) {
		mni_kern_finish_run(node);
		return;
	}
	f = llist_entry(node, struct mni_interval_notifier_finish, link);
	mni_two_pass_ops(f->notifier->ops)->invalidate_finish(f);
}

/*
 * Run the finishes on @head in the order their starts ran. Each leaves the
 * list before it is called (it may free its object), so that the ones
 * still to run stay on @head, where a remove() made from a finish finds
 * its subscription's (mni_sub_finish_take()).
 */
static void mni_finish_list_run(struct llist_head *head, bool kern)
{
	struct llist_node *node;

	head->first = llist_reverse_order(head->first);
	while ((node = head->first)) {
		head->first = node->next;
		mni_finish_run(node, kern);
	}
}

/**
 * mni_sub_finish_pass - run the second passes collected by one invalidation
 * @finishes: filled by mni_sub_invalidate(); empty on return
 *
 * Each kind runs in the order its starts ran: the kernel's kind first,
 * then mni's.
 */
void mni_sub_finish_pass(struct mni_finishes *finishes)
{
	mni_finish_list_run(&finishes->kern, true);
	mni_finish_list_run(&finishes->mni, false);
}

static bool mni_finish_list_take(struct llist_head *from, struct llist_head *to,
				 const struct mmu_interval_notifier *sub,
				 bool kern)
{
	struct llist_node **link = &from->first, *node;
	bool taken = false;

	while ((node = *link)) {
		if (mni_finish_sub(node, kern) != sub) {
			link = &node->next;
			continue;
		}
		taken = true;
		if (!to)
			break;
		*link = node->next;
		node->next = to->first;
		to->first = node;
	}
	return taken;
}

/**
 * mni_sub_finish_take - move @sub's pending second passes to another list
 * @from: a pass's collection, not yet run or being run
 * @sub: the subscription
 * @to: where they go, to be run (mni_sub_finish_pass()) or dropped;
 *	NULL: only tell whether there are any
 *
 * Context: the task that fills and runs @from (its walker), which alone
 * touches it.
 * Return: true if @sub had any.
 */
bool mni_sub_finish_take(struct mni_finishes *from,
			 const struct mmu_interval_notifier *sub,
			 struct mni_finishes *to)
{
	bool kern = mni_finish_list_take(&from->kern, to ? &to->kern : NULL,
					 sub, true);

	return mni_finish_list_take(&from->mni, to ? &to->mni : NULL, sub,
				    false) || kern;
}

/**
 * mni_sub_finish_drop - forget @sub's pending second passes
 * @finishes: a pass's collection
 * @sub: a subscription its own callback removed: it gets no second pass
 *
 * Only @sub's address is compared; the finish objects are read, @sub is not.
 * Context: as mni_sub_finish_take().
 */
void mni_sub_finish_drop(struct mni_finishes *finishes,
			 const struct mmu_interval_notifier *sub)
{
	struct mni_finishes gone = {};

	mni_sub_finish_take(finishes, sub, &gone);
}
