/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mni_trace.h - tracepoints of mmu_interval_notifier.ko
 *
 * An mm is named by the engine's id for it (also the "id:" of its block in
 * debugfs), a subscription by its range and the invalidate (or, two-pass,
 * invalidate_start) callback of its ops: no raw pointer reaches the trace
 * buffer.
 *
 * tests/user builds the engine in userspace with stubs of
 * <linux/tracepoint.h> and <trace/define_trace.h> that count the events.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM mni

#if !defined(_MNI_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _MNI_TRACE_H

#include <linux/mmu_notifier.h>
#include <linux/tracepoint.h>

/*
 * For mni_sub_name() in TP_fast_assign(), which only the file defining
 * CREATE_TRACE_POINTS compiles (tests/user's stubs never do).
 */
#ifdef CREATE_TRACE_POINTS
#include "mni_kcompat.h"
#include "mni_sub.h"
#endif

/*
 * Events by name: in the trace (__print_symbolic()) and in the format file
 * for userspace decoders (TRACE_DEFINE_ENUM()). MMU_NOTIFY_EXCLUSIVE comes
 * from mni_kcompat.h, which only the file creating the tracepoints reads:
 * elsewhere no event is printed and the names stay empty.
 */
#ifndef MNI_EVENT_EXCLUSIVE
#define MNI_EVENT_EXCLUSIVE		(-1)
#define MNI_TRACE_ENUM_EXCLUSIVE
#endif
TRACE_DEFINE_ENUM(MMU_NOTIFY_UNMAP);
TRACE_DEFINE_ENUM(MMU_NOTIFY_CLEAR);
TRACE_DEFINE_ENUM(MMU_NOTIFY_PROTECTION_VMA);
TRACE_DEFINE_ENUM(MMU_NOTIFY_PROTECTION_PAGE);
TRACE_DEFINE_ENUM(MMU_NOTIFY_SOFT_DIRTY);
TRACE_DEFINE_ENUM(MMU_NOTIFY_RELEASE);
TRACE_DEFINE_ENUM(MMU_NOTIFY_MIGRATE);
MNI_TRACE_ENUM_EXCLUSIVE;

#define mni_show_event(event)						\
	__print_symbolic(event,						\
			 { MMU_NOTIFY_UNMAP, "unmap" },			\
			 { MMU_NOTIFY_CLEAR, "clear" },			\
			 { MMU_NOTIFY_PROTECTION_VMA, "protection_vma" }, \
			 { MMU_NOTIFY_PROTECTION_PAGE, "protection_page" }, \
			 { MMU_NOTIFY_SOFT_DIRTY, "soft_dirty" },	\
			 { MMU_NOTIFY_RELEASE, "release" },		\
			 { MMU_NOTIFY_MIGRATE, "migrate" },		\
			 { MNI_EVENT_EXCLUSIVE, "exclusive" })

TRACE_EVENT(mni_invalidate_start,
	TP_PROTO(unsigned long mm_id, const struct mmu_notifier_range *range,
		 unsigned long active, unsigned long seq),
	TP_ARGS(mm_id, range, active, seq),
	TP_STRUCT__entry(
		__field(unsigned long, mm_id)
		__field(unsigned long, start)
		__field(unsigned long, end)
		__field(unsigned int, event)
		__field(bool, blockable)
		__field(unsigned long, active)
		__field(unsigned long, seq)
	),
	TP_fast_assign(
		__entry->mm_id = mm_id;
		__entry->start = range->start;
		__entry->end = range->end;
		__entry->event = range->event;
		__entry->blockable = mmu_notifier_range_blockable(range);
		__entry->active = active;
		__entry->seq = seq;
	),
	TP_printk("mm=%lu range=[%#lx, %#lx) event=%s blockable=%d active=%lu seq=%lu",
		  __entry->mm_id, __entry->start, __entry->end,
		  mni_show_event(__entry->event), __entry->blockable,
		  __entry->active, __entry->seq)
);

TRACE_EVENT(mni_invalidate_end,
	TP_PROTO(unsigned long mm_id, unsigned long active, unsigned long seq),
	TP_ARGS(mm_id, active, seq),
	TP_STRUCT__entry(
		__field(unsigned long, mm_id)
		__field(unsigned long, active)
		__field(unsigned long, seq)
	),
	TP_fast_assign(
		__entry->mm_id = mm_id;
		__entry->active = active;
		__entry->seq = seq;
	),
	TP_printk("mm=%lu active=%lu seq=%lu",
		  __entry->mm_id, __entry->active, __entry->seq)
);

DECLARE_EVENT_CLASS(mni_sub_class,
	TP_PROTO(unsigned long mm_id, const struct mmu_interval_notifier *sub,
		 long arg),
	TP_ARGS(mm_id, sub, arg),
	TP_STRUCT__entry(
		__field(unsigned long, mm_id)
		__field(unsigned long, start)
		__field(unsigned long, last)
		__field(void *, owner)
		__field(long, arg)
	),
	TP_fast_assign(
		__entry->mm_id = mm_id;
		/*
		 * mni_callback's record is filled without the engine lock:
		 * pairs with WRITE_ONCE() in mni_sub_set_range().
		 */
		__entry->start = READ_ONCE(sub->interval_tree.start);
		__entry->last = READ_ONCE(sub->interval_tree.last);
		__entry->owner = mni_sub_name(sub);
		__entry->arg = arg;
	),
	TP_printk("mm=%lu sub=[%#lx, %#lx] owner=%ps %ld",
		  __entry->mm_id, __entry->start, __entry->last,
		  __entry->owner, __entry->arg)
);

/* arg: the callback's result (1 done, 0 refused). */
DEFINE_EVENT(mni_sub_class, mni_callback,
	TP_PROTO(unsigned long mm_id, const struct mmu_interval_notifier *sub,
		 long arg),
	TP_ARGS(mm_id, sub, arg));

/* arg: always 0 (an insert never waits; kept for trace parsers). */
DEFINE_EVENT(mni_sub_class, mni_insert,
	TP_PROTO(unsigned long mm_id, const struct mmu_interval_notifier *sub,
		 long arg),
	TP_ARGS(mm_id, sub, arg));

/* At the new range; arg: callbacks queued for walks in flight. */
DEFINE_EVENT(mni_sub_class, mni_update,
	TP_PROTO(unsigned long mm_id, const struct mmu_interval_notifier *sub,
		 long arg),
	TP_ARGS(mm_id, sub, arg));

/* arg: 1 if a callback was still running on it, so remove() waits. */
DEFINE_EVENT(mni_sub_class, mni_remove,
	TP_PROTO(unsigned long mm_id, const struct mmu_interval_notifier *sub,
		 long arg),
	TP_ARGS(mm_id, sub, arg));

/* arg: nanoseconds read_begin() slept. */
DEFINE_EVENT(mni_sub_class, mni_read_begin_wait,
	TP_PROTO(unsigned long mm_id, const struct mmu_interval_notifier *sub,
		 long arg),
	TP_ARGS(mm_id, sub, arg));

#endif /* _MNI_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE mni_trace
#include <trace/define_trace.h>
