/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mni_kcompat.h - kernel-version differences, decided by the probes in
 * scripts/probe/ (see Kbuild). The only reader of the generated
 * mni_config.h; each entry names the release that changed.
 */
#ifndef _MNI_KCOMPAT_H
#define _MNI_KCOMPAT_H

#include <linux/export.h>
#include <linux/mmu_notifier.h>

#include "mni_config.h"

/*
 * 6.13 ("module: Convert symbol namespace to string literal"): the
 * namespace argument of EXPORT_SYMBOL_NS_GPL() is a string literal; before,
 * a bare identifier that the macro stringifies (after expanding MNI_NS).
 */
#ifdef MNI_HAVE_EXPORT_NS_STRING
#define MNI_NS "MNI"
#else
#define MNI_NS MNI
#endif

/*
 * 5.12 (in Debian's 5.10 as a backport): after an invalidate_range_start
 * fails, the core calls invalidate_range_end of every notifier that has
 * one, and WARNs when the failing notifier has one itself. Before, it
 * called no end at all.
 */
#ifdef MNI_HAVE_CORE_ENDS_FAILED_START
#define MNI_CORE_ENDS_FAILED_START true
#else
#define MNI_CORE_ENDS_FAILED_START false
#endif

/*
 * 7.1: mmu_interval_notifier_ops gained the two-pass
 * invalidate_start/invalidate_finish. This engine runs only the one-pass
 * ->invalidate and refuses ops that ask for two passes.
 */
#ifdef MNI_HAVE_TWO_PASS_OPS
static inline bool
mni_ops_is_two_pass(const struct mmu_interval_notifier_ops *ops)
{
	return ops->invalidate_start || ops->invalidate_finish;
}
#else
static inline bool
mni_ops_is_two_pass(const struct mmu_interval_notifier_ops *ops)
{
	return false;
}
#endif

#endif /* _MNI_KCOMPAT_H */
