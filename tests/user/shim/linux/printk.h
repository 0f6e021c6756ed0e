/* SPDX-License-Identifier: GPL-2.0 */
/*
 * printk.h - userspace stand-in: error messages are counted (a test
 * compares the count with what it expects); with MNI_SHIM_VERBOSE set in
 * the environment they are also printed to stderr, unformatted: "%ps" has
 * no userspace meaning.
 */
#ifndef _SHIM_LINUX_PRINTK_H
#define _SHIM_LINUX_PRINTK_H

#include <linux/kernel.h>

void shim_pr_err(const char *fmt);
/* Number of pr_err*() calls so far, all threads. */
unsigned long shim_pr_err_count(void);

#define pr_err(fmt, ...)		shim_pr_err(fmt)
#define pr_err_ratelimited(fmt, ...)	shim_pr_err(fmt)

#endif /* _SHIM_LINUX_PRINTK_H */
