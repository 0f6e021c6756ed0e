/* SPDX-License-Identifier: GPL-2.0 */
/*
 * export.h - userspace stand-in: lib/rbtree.c includes it; the tools/
 * copy of that file exports nothing, so nothing is needed here.
 */
#ifndef _SHIM_LINUX_EXPORT_H
#define _SHIM_LINUX_EXPORT_H

#endif /* _SHIM_LINUX_EXPORT_H */
