/* SPDX-License-Identifier: GPL-2.0 */
/* build_bug.h - userspace stand-in: BUILD_BUG_ON() as a C11 static assertion */
#ifndef _SHIM_LINUX_BUILD_BUG_H
#define _SHIM_LINUX_BUILD_BUG_H

#define BUILD_BUG_ON(cond) _Static_assert(!(cond), "BUILD_BUG_ON: " #cond)

#endif /* _SHIM_LINUX_BUILD_BUG_H */
