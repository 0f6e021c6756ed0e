/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mni_kcompat.h - kernel-version differences, decided by the probes in
 * scripts/probe/ (see Kbuild). The only reader of the generated
 * mni_config.h; each entry names the release that changed.
 */
#ifndef _MNI_KCOMPAT_H
#define _MNI_KCOMPAT_H

#include <linux/export.h>
#include <linux/highmem.h>
#include <linux/hrtimer.h>
#include <linux/llist.h>
#include <linux/mmu_notifier.h>
#include <linux/stringify.h>
#include <linux/timer.h>
#include <linux/workqueue.h>

#include "mni_config.h"

/*
 * 6.13 ("module: Convert symbol namespace to string literal"): the
 * namespace argument of EXPORT_SYMBOL_NS_GPL() is a string literal; before,
 * a bare identifier that the macro stringifies (after expanding MNI_NS).
 */
#ifdef MNI_HAVE_EXPORT_NS_STRING
#define MNI_NS "MNI"
#else
#define MNI_NS MNI
#endif

/*
 * 5.18 ("export: fix string handling of namespace in EXPORT_SYMBOL_NS"):
 * before, EXPORT_SYMBOL_NS_GPL() stringified its namespace argument without
 * expanding it, so EXPORT_SYMBOL_NS_GPL(sym, MNI_NS) exported into "MNI_NS"
 * (Debian's 5.10 has no backport). Carry that fix: upstream's definition.
 */
#ifndef MNI_HAVE_EXPORT_NS_EXPANDED
#undef EXPORT_SYMBOL_NS_GPL
#define EXPORT_SYMBOL_NS_GPL(sym, ns) \
	__EXPORT_SYMBOL(sym, "_gpl", __stringify(ns))
#endif

/*
 * 6.17 ("workqueue: Add new WQ_PERCPU flag", also in 6.12 stable):
 * alloc_workqueue() takes WQ_PERCPU or WQ_UNBOUND and WARNs from 7.x when
 * it gets neither. Before, no flag meant per-CPU.
 */
#ifndef MNI_HAVE_WQ_PERCPU
#define WQ_PERCPU 0
#endif

/*
 * 6.13 ("hrtimers: Introduce hrtimer_setup() to replace hrtimer_init()"):
 * the callback comes with the clock and the mode; hrtimer_init() is gone
 * from 6.17. Before 6.13, hrtimer_init() and then the callback.
 */
#ifndef MNI_HAVE_HRTIMER_SETUP
static inline void hrtimer_setup(struct hrtimer *timer,
				 enum hrtimer_restart (*function)(struct hrtimer *),
				 clockid_t clock_id, enum hrtimer_mode mode)
{
	hrtimer_init(timer, clock_id, mode);
	timer->function = function;
}
#endif

/*
 * 6.2 ("timers: Rename del_timer_sync() to timer_delete_sync()"); 6.15
 * removed the old name.
 */
#ifndef MNI_HAVE_TIMER_DELETE_SYNC
static inline int timer_delete_sync(struct timer_list *timer)
{
	return del_timer_sync(timer);
}
#endif

/*
 * 5.11 ("mm/highmem: Provide kmap_local*"): kmap_local_page() and
 * kunmap_local(). Before, kmap_atomic() and kunmap_atomic() are the
 * short-lived mappings, which also disable preemption: callers must not
 * sleep while a page is mapped either way. Object-like macros: checkpatch
 * rightly flags calls of the deprecated names, which only this fallback
 * for old kernels may use.
 */
#ifndef MNI_HAVE_KMAP_LOCAL_PAGE
#define kmap_local_page kmap_atomic
#define kunmap_local kunmap_atomic
#endif

/*
 * 5.14 ("mm: device exclusive memory access"): MMU_NOTIFY_EXCLUSIVE. The
 * tracepoints name each event (mni_trace.h); this one only where it exists.
 * Macros, expanded where mni_trace.h uses them, so TRACE_DEFINE_ENUM() has
 * the meaning of that pass of the trace header.
 */
#ifdef MNI_HAVE_EVENT_EXCLUSIVE
#define MNI_EVENT_EXCLUSIVE		MMU_NOTIFY_EXCLUSIVE
#define MNI_TRACE_ENUM_EXCLUSIVE	TRACE_DEFINE_ENUM(MMU_NOTIFY_EXCLUSIVE)
#else
/* Matches no event: a kernel's events count up from 0. */
#define MNI_EVENT_EXCLUSIVE		(-1)
#define MNI_TRACE_ENUM_EXCLUSIVE
#endif

/*
 * The device that starts a migration (MMU_NOTIFY_MIGRATE, 5.9) or takes
 * exclusive access (MMU_NOTIFY_EXCLUSIVE, 5.14) names itself in the range:
 * range->owner from 5.14 ("mm: device exclusive memory access"), before
 * that range->migrate_pgmap_owner. NULL for every other event.
 */
static inline void *
mni_range_owner_of(const struct mmu_notifier_range *range)
{
#ifdef MNI_HAVE_RANGE_OWNER
	if (range->event == MMU_NOTIFY_MIGRATE ||
	    range->event == MNI_EVENT_EXCLUSIVE)
		return range->owner;
#else
	if (range->event == MMU_NOTIFY_MIGRATE)
		return range->migrate_pgmap_owner;
#endif
	return NULL;
}

/*
 * 7.1 ("mm/mmu_notifier: Allow two-pass struct mmu_interval_notifiers"):
 * mmu_interval_notifier_ops gained, beside ->invalidate(),
 * ->invalidate_start(), which may hand back a
 * struct mmu_interval_notifier_finish, and ->invalidate_finish(), which the
 * core calls for each finish once the whole pass is done, in the order
 * collected, before the invalidation goes on (also after a refusal). Ops
 * with ->invalidate_start use it instead of ->invalidate and must have
 * ->invalidate_finish.
 */
#ifdef MNI_HAVE_TWO_PASS_OPS
/*
 * Has @ops no callback at all? The base of mni's own two-pass ops
 * (struct mni_interval_notifier_ops) must be so, and plain inserts refuse
 * such ops, which is how the engine tells the two apart.
 */
static inline bool mni_ops_is_bare(const struct mmu_interval_notifier_ops *ops)
{
	return !ops->invalidate && !ops->invalidate_start &&
	       !ops->invalidate_finish;
}

/* Why the engine cannot call @ops (not NULL), or NULL if it can. */
static inline const char *
mni_ops_fault(const struct mmu_interval_notifier_ops *ops)
{
	if (ops->invalidate_start)
		return ops->invalidate_finish ? NULL :
		       "invalidate_start but no invalidate_finish callback";
	return ops->invalidate ? NULL : "no invalidate callback";
}

static inline bool mni_call_invalidate(struct mmu_interval_notifier *sub,
				       const struct mmu_notifier_range *range,
				       unsigned long cur_seq,
				       struct llist_head *finishes)
{
	struct mmu_interval_notifier_finish *finish = NULL;
	bool done;

	if (!sub->ops->invalidate_start)
		return sub->ops->invalidate(sub, range, cur_seq);
	done = sub->ops->invalidate_start(sub, range, cur_seq, &finish);
	if (done && finish) {
		finish->notifier = sub;
		__llist_add(&finish->link, finishes);
	}
	return done;
}

/* The subscription a finish of the kernel's kind was collected for. */
static inline struct mmu_interval_notifier *
mni_kern_finish_sub(struct llist_node *node)
{
	return llist_entry(node, struct mmu_interval_notifier_finish,
			   link)->notifier;
}

/* Run one finish of the kernel's kind, off its list already. */
static inline void mni_kern_finish_run(struct llist_node *node)
{
	struct mmu_interval_notifier_finish *f =
		llist_entry(node, struct mmu_interval_notifier_finish, link);

	f->notifier->ops->invalidate_finish(f);
}

/*
 * The first-pass callback of the kernel's kind of @ops, which names a
 * subscription in debugfs and traces (mni_sub_name()); NULL when bare.
 */
static inline void *mni_ops_owner(const struct mmu_interval_notifier_ops *ops)
{
	if (ops->invalidate)
		return ops->invalidate;
	return ops->invalidate_start;
}
#else
static inline bool mni_ops_is_bare(const struct mmu_interval_notifier_ops *ops)
{
	return !ops->invalidate;
}

static inline const char *
mni_ops_fault(const struct mmu_interval_notifier_ops *ops)
{
	return ops->invalidate ? NULL : "no invalidate callback";
}

static inline bool mni_call_invalidate(struct mmu_interval_notifier *sub,
				       const struct mmu_notifier_range *range,
				       unsigned long cur_seq,
				       struct llist_head *finishes)
{
	return sub->ops->invalidate(sub, range, cur_seq);
}

/* No finish of the kernel's kind is ever collected before 7.1. */
static inline struct mmu_interval_notifier *
mni_kern_finish_sub(struct llist_node *node)
{
	return NULL;
}

static inline void mni_kern_finish_run(struct llist_node *node)
{
}

static inline void *mni_ops_owner(const struct mmu_interval_notifier_ops *ops)
{
	return ops->invalidate;
}
#endif

/*
 * 7.3 (mm/hmm.c): hmm_range_fault_unlocked_timeout(). mni_compat.h maps
 * that name to mni_hmm_range_fault_unlocked_timeout() on every kernel, so
 * where the kernel has one, the two must have the same type; elsewhere
 * ours must have 7.3's.
 */
#ifdef MNI_HAVE_HMM_FAULT_UNLOCKED_TIMEOUT
#define MNI_CHECK_HMM_FAULT_UNLOCKED_TIMEOUT(ours)			\
	static_assert(__same_type(&hmm_range_fault_unlocked_timeout, &(ours)))
#else
#define MNI_CHECK_HMM_FAULT_UNLOCKED_TIMEOUT(ours)			\
	static_assert(__same_type(&(ours),				\
				  int (*)(struct hmm_range *, unsigned long)))
#endif

#endif /* _MNI_KCOMPAT_H */
