// SPDX-License-Identifier: GPL-2.0
/*
 * Defines MNI_HAVE_WQ_PERCPU if it compiles.
 *
 * 6.17 ("workqueue: Add new WQ_PERCPU flag", also in 6.12 stable): a
 * workqueue says whether it is per-CPU (WQ_PERCPU) or unbound (WQ_UNBOUND);
 * 7.x WARNs at alloc_workqueue() when it says neither. Before, no flag
 * meant per-CPU.
 */
#include <linux/workqueue.h>

static unsigned int __maybe_unused mni_probe_flags = WQ_PERCPU;
