// SPDX-License-Identifier: GPL-2.0
/*
 * Defines MNI_HAVE_TIMER_DELETE_SYNC if it compiles.
 *
 * 6.2 ("timers: Rename del_timer_sync() to timer_delete_sync()"); 6.15
 * removed del_timer_sync().
 */
#include <linux/timer.h>

static int __maybe_unused mni_probe(struct timer_list *timer)
{
	return timer_delete_sync(timer);
}
