// SPDX-License-Identifier: GPL-2.0
/*
 * Defines MNI_HAVE_EVENT_EXCLUSIVE if it compiles.
 *
 * 5.14 ("mm: device exclusive memory access"): enum mmu_notifier_event
 * gained MMU_NOTIFY_EXCLUSIVE, after MMU_NOTIFY_MIGRATE (5.9). The
 * tracepoints name every event the kernel has.
 */
#include <linux/mmu_notifier.h>

static const enum mmu_notifier_event __maybe_unused mni_probe_event =
	MMU_NOTIFY_EXCLUSIVE;
