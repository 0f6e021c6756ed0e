// SPDX-License-Identifier: GPL-2.0
/*
 * Positive control: must compile.
 *
 * It asks nothing, so it fails only when the probe pass itself is broken
 * (compiler, flags or headers unusable): every other probe would then
 * answer "no" for the wrong reason, and scripts/mni-config.sh stops the
 * build instead of writing such answers.
 */
#include <linux/mmu_notifier.h>
#include <linux/module.h>

static int __maybe_unused mni_probe(void)
{
	return 0;
}
