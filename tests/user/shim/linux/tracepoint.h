/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tracepoint.h - userspace stand-in: TRACE_EVENT() and DEFINE_EVENT()
 * each make a trace_<name>() that hands its arguments to shim_trace(),
 * which counts events by name; the record layout and format are dropped.
 */
#ifndef _SHIM_LINUX_TRACEPOINT_H
#define _SHIM_LINUX_TRACEPOINT_H

void shim_trace(const char *event, ...);
/* Events named @event so far, all threads. */
unsigned long shim_trace_count(const char *event);

#define TP_PROTO(args...)	args
#define TP_ARGS(args...)	args

#define TRACE_EVENT(name, proto, args, tstruct, assign, print)		\
	static inline void trace_##name(proto)				\
	{								\
		shim_trace(#name, args);				\
	}

#define DECLARE_EVENT_CLASS(name, proto, args, tstruct, assign, print)

/* No format file to decode events for. */
#define TRACE_DEFINE_ENUM(a)

#define DEFINE_EVENT(template, name, proto, args)			\
	static inline void trace_##name(proto)				\
	{								\
		shim_trace(#name, args);				\
	}

#endif /* _SHIM_LINUX_TRACEPOINT_H */
