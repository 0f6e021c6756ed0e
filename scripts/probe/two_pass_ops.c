// SPDX-License-Identifier: GPL-2.0
/*
 * Defines MNI_HAVE_TWO_PASS_OPS if it compiles.
 *
 * 7.1 ("mm/mmu_notifier: Allow two-pass struct mmu_interval_notifiers"):
 * struct mmu_interval_notifier_ops gained, beside ->invalidate(),
 *   bool (*invalidate_start)(struct mmu_interval_notifier *interval_sub,
 *			      const struct mmu_notifier_range *range,
 *			      unsigned long cur_seq,
 *			      struct mmu_interval_notifier_finish **finish);
 *   void (*invalidate_finish)(struct mmu_interval_notifier_finish *finish);
 */
#include <linux/build_bug.h>
#include <linux/mmu_notifier.h>

static_assert(__same_type(((struct mmu_interval_notifier_ops *)NULL)->invalidate_start,
			  bool (*)(struct mmu_interval_notifier *,
				   const struct mmu_notifier_range *,
				   unsigned long,
				   struct mmu_interval_notifier_finish **)));
static_assert(__same_type(((struct mmu_interval_notifier_ops *)NULL)->invalidate_finish,
			  void (*)(struct mmu_interval_notifier_finish *)));
