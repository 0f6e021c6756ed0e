/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tracepoint.h - userspace stand-in: TRACE_EVENT() and DEFINE_EVENT()
 * each make a trace_<name>() that fills the event's record as the kernel's
 * TP_fast_assign() would (so ASan sees every read the record makes, as an
 * enabled tracepoint makes them) and hands it to shim_trace(), which
 * counts events by name; the format is dropped. shim_trace_hook, when a
 * test sets it, runs before the record is filled.
 */
#ifndef _SHIM_LINUX_TRACEPOINT_H
#define _SHIM_LINUX_TRACEPOINT_H

void shim_trace(const char *event, ...);
/* Events named @event so far, all threads. */
unsigned long shim_trace_count(const char *event);
/* Set by a test before its threads start; NULL: none. */
extern void (*shim_trace_hook)(const char *event);

#define TP_PROTO(args...)	args
#define TP_ARGS(args...)	args
#define TP_STRUCT__entry(args...)	args
#define TP_fast_assign(args...)	args
#define __field(type, item)	type item;

/* The record escapes to shim_trace(), so no read filling it is dropped. */
#define SHIM_TRACE_RECORD(event, tstruct, assign)			\
	do {								\
		struct { tstruct } __rec, *__entry = &__rec;		\
									\
		if (shim_trace_hook)					\
			shim_trace_hook(event);				\
		assign;							\
		shim_trace(event, __entry);				\
	} while (0)

#define TRACE_EVENT(name, proto, args, tstruct, assign, print)		\
	static inline void trace_##name(proto)				\
	{								\
		SHIM_TRACE_RECORD(#name, tstruct, assign);		\
	}

#define DECLARE_EVENT_CLASS(name, proto, args, tstruct, assign, print)	\
	static inline void shim_trace_class_##name(const char *__event,	\
						   proto)		\
	{								\
		SHIM_TRACE_RECORD(__event, tstruct, assign);		\
	}

/* No format file to decode events for. */
#define TRACE_DEFINE_ENUM(a)

#define DEFINE_EVENT(template, name, proto, args)			\
	static inline void trace_##name(proto)				\
	{								\
		shim_trace_class_##template(#name, args);		\
	}

#endif /* _SHIM_LINUX_TRACEPOINT_H */
