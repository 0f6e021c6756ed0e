/* SPDX-License-Identifier: GPL-2.0 */
/* kernel.h - userspace stand-in: container_of, min/max, limits, errno */
#ifndef _SHIM_LINUX_KERNEL_H
#define _SHIM_LINUX_KERNEL_H

#include <errno.h>
#include <limits.h>
#include <linux/compiler.h>
#include <linux/stddef.h>
#include <linux/types.h>

#define container_of(ptr, type, member)					\
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#define ARRAY_SIZE(arr) (sizeof(arr) / sizeof((arr)[0]))

/* Without the kernel's type check: -Wsign-compare catches most misuse. */
#define max(x, y)							\
	({								\
		typeof(x) __x = (x);					\
		typeof(y) __y = (y);					\
		__x > __y ? __x : __y;					\
	})

#define min(x, y)							\
	({								\
		typeof(x) __x = (x);					\
		typeof(y) __y = (y);					\
		__x < __y ? __x : __y;					\
	})

#endif /* _SHIM_LINUX_KERNEL_H */
