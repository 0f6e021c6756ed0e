// SPDX-License-Identifier: GPL-2.0
/*
 * Defines MNI_HAVE_KMAP_LOCAL_PAGE if it compiles.
 *
 * 5.11 ("mm/highmem: Provide and use CONFIG_GENERIC_KMAP_LOCAL", "mm/highmem:
 * Provide kmap_local*"): kmap_local_page() and kunmap_local(). Before only
 * kmap_atomic()/kunmap_atomic(), which also disable preemption, and the
 * sleeping kmap()/kunmap().
 */
#include <linux/highmem.h>

static void __maybe_unused mni_probe(struct page *page)
{
	void *addr = kmap_local_page(page);

	kunmap_local(addr);
}
