/* SPDX-License-Identifier: GPL-2.0 */
/* stddef.h - userspace stand-in: NULL, offsetof, bool */
#ifndef _SHIM_LINUX_STDDEF_H
#define _SHIM_LINUX_STDDEF_H

#include <stdbool.h>
#include <stddef.h>

#endif /* _SHIM_LINUX_STDDEF_H */
