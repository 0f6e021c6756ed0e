// SPDX-License-Identifier: GPL-2.0
/*
 * Defines MNI_HAVE_HRTIMER_SETUP if it compiles.
 *
 * 6.13 ("hrtimers: Introduce hrtimer_setup() to replace hrtimer_init()"):
 * the callback is given with the clock and mode; 6.17 removed
 * hrtimer_init().
 */
#include <linux/hrtimer.h>

static enum hrtimer_restart mni_probe_fn(struct hrtimer *timer)
{
	return HRTIMER_NORESTART;
}

static void __maybe_unused mni_probe(struct hrtimer *timer)
{
	hrtimer_setup(timer, mni_probe_fn, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
}
