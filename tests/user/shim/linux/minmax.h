/* SPDX-License-Identifier: GPL-2.0 */
/* minmax.h - userspace stand-in: min() and max() live in the kernel.h shim */
#ifndef _SHIM_LINUX_MINMAX_H
#define _SHIM_LINUX_MINMAX_H

#include <linux/kernel.h>

#endif /* _SHIM_LINUX_MINMAX_H */
