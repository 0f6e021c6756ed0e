/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bug.h - userspace stand-in: an impossible state aborts the test, as
 * panic_on_warn=1 stops the QEMU runs
 */
#ifndef _SHIM_LINUX_BUG_H
#define _SHIM_LINUX_BUG_H

#include <linux/build_bug.h>
#include <linux/lockdep.h>

#define WARN_ON_ONCE(cond) ({						\
	bool __warn_cond = !!(cond);					\
	if (__warn_cond)						\
		shim_bug(__FILE__, __LINE__, "WARN_ON_ONCE(" #cond ")");\
	__warn_cond;							\
})

#endif /* _SHIM_LINUX_BUG_H */
