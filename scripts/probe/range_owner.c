// SPDX-License-Identifier: GPL-2.0
/*
 * Defines MNI_HAVE_RANGE_OWNER if it compiles.
 *
 * 5.14 ("mm: device exclusive memory access") renamed
 * mmu_notifier_range.migrate_pgmap_owner (5.9, "mm/notifier: add migration
 * invalidation type") to owner, which MMU_NOTIFY_EXCLUSIVE carries too.
 */
#include <linux/mmu_notifier.h>

static void * __maybe_unused
mni_probe_range_owner(const struct mmu_notifier_range *range)
{
	return range->owner;
}
