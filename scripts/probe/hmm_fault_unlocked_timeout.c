// SPDX-License-Identifier: GPL-2.0
/*
 * Defines MNI_HAVE_HMM_FAULT_UNLOCKED_TIMEOUT if it compiles.
 *
 * 7.3 (mm/hmm.c) exports
 *   int hmm_range_fault_unlocked_timeout(struct hmm_range *range,
 *					  unsigned long timeout);
 * which calls the kernel's own mmu_interval_read_begin() on
 * range->notifier. The type is checked where the answer is used, so a
 * kernel that changed it stops the build there instead of reading "no".
 */
#include <linux/hmm.h>

static void *__maybe_unused mni_probe(void)
{
	return &hmm_range_fault_unlocked_timeout;
}
