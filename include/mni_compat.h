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
 */
#ifndef _MNI_COMPAT_H
#define _MNI_COMPAT_H

#include <linux/mmu_notifier.h>
#include "mni.h"

#define mmu_interval_notifier_insert		mni_interval_notifier_insert
#define mmu_interval_notifier_insert_locked	mni_interval_notifier_insert_locked
#define mmu_interval_notifier_remove		mni_interval_notifier_remove
#define mmu_interval_read_begin			mni_interval_read_begin

#endif /* _MNI_COMPAT_H */
