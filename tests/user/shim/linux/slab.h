/* SPDX-License-Identifier: GPL-2.0 */
/*
 * slab.h - userspace stand-in: kmalloc() is malloc(), and can be told to
 * fail: shim_kmalloc_fail is, per thread, how many of the next calls
 * return NULL, once shim_kmalloc_skip more calls have succeeded. Allocations that may sleep are checked against held locks.
 */
#ifndef _SHIM_LINUX_SLAB_H
#define _SHIM_LINUX_SLAB_H

#include <stddef.h>
#include <linux/types.h>

typedef unsigned int gfp_t;

#define __GFP_HIGH		0x20u
#define __GFP_DIRECT_RECLAIM	0x400u
#define __GFP_KSWAPD_RECLAIM	0x800u
#define __GFP_IO		0x40u
#define __GFP_FS		0x80u
#define __GFP_NOWARN		0x2000u
#define GFP_ATOMIC		(__GFP_HIGH | __GFP_KSWAPD_RECLAIM)
#define GFP_NOWAIT		(__GFP_KSWAPD_RECLAIM)
#define GFP_KERNEL		(__GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM | \
				 __GFP_IO | __GFP_FS)

extern __thread unsigned int shim_kmalloc_fail, shim_kmalloc_skip;

void *shim_kmalloc(size_t size, gfp_t flags);
void shim_kfree(const void *p);
/* kmalloc() calls that failed (injected), all threads. */
unsigned long shim_kmalloc_failed(void);
/* kmalloc() calls so far, all threads. */
unsigned long shim_kmalloc_calls(void);

#define kmalloc(size, flags)	shim_kmalloc(size, flags)
#define kfree(p)		shim_kfree(p)

#endif /* _SHIM_LINUX_SLAB_H */
