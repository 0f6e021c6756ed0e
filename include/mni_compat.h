/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mni_compat.h - build driver code written for the upstream interval
 * notifier API against mmu_interval_notifier.ko, unchanged.
 *
 * Include it after <linux/mmu_notifier.h> (it includes that header itself)
 * and add MNI_IMPORT_NS() once to the module. The four upstream functions
 * then resolve to this module's exports; mmu_interval_set_seq(),
 * mmu_interval_read_retry() and mmu_interval_check_retry() are the
 * kernel's own inlines and need no mapping.
 *
 * Kernel functions that call the kernel's interval notifier functions
 * themselves, on a subscription the caller passes, bypass those four
 * mappings. Each is mapped here to a function of this module with the
 * same contract, or made a build error that names why.
 */
#ifndef _MNI_COMPAT_H
#define _MNI_COMPAT_H

#include <linux/hmm.h>
#include <linux/mmu_notifier.h>
#include "mni.h"

#define mmu_interval_notifier_insert		mni_interval_notifier_insert
#define mmu_interval_notifier_insert_locked	mni_interval_notifier_insert_locked
#define mmu_interval_notifier_remove		mni_interval_notifier_remove
#define mmu_interval_read_begin			mni_interval_read_begin

/*
 * 7.3's helper samples the sequence with the kernel's read_begin, which
 * does not see this engine's invalidations. Mapped on every kernel: ours
 * exists on all of them, so code written for 7.3 builds on older ones too.
 * <linux/hmm.h> comes first, so the kernel's own declaration keeps its name.
 */
#define hmm_range_fault_unlocked_timeout	mni_hmm_range_fault_unlocked_timeout

/*
 * drm_gpusvm_get_pages() (7.2+) samples the sequence of the subscription it
 * is given with the kernel's read_begin and faults with the kernel's
 * helper: on a subscription of this module it can map pages that are being
 * unmapped. There is no stand-in. A call fails to compile with this
 * message (with a compiler without the error attribute, to link with this
 * name); the declaration has drm_gpusvm.h's prototype, so either header may
 * come first.
 */
struct drm_gpusvm;
struct drm_gpusvm_ctx;
struct drm_gpusvm_pages;
int
__compiletime_error("unusable with mni: drm_gpusvm_get_pages() uses the kernel's read_begin()")
mni_compat_unusable_drm_gpusvm_get_pages(struct drm_gpusvm *gpusvm,
					 struct drm_gpusvm_pages *svm_pages,
					 struct mm_struct *mm,
					 struct mmu_interval_notifier *notifier,
					 unsigned long pages_start,
					 unsigned long pages_end,
					 const struct drm_gpusvm_ctx *ctx);
#define drm_gpusvm_get_pages	mni_compat_unusable_drm_gpusvm_get_pages

#endif /* _MNI_COMPAT_H */
