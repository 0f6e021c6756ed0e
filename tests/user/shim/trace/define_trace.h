/* SPDX-License-Identifier: GPL-2.0 */
/*
 * define_trace.h - userspace stand-in: the kernel re-reads the trace
 * header here to emit the event definitions; the stubs need nothing more.
 */
