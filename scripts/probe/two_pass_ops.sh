#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# 7.1: struct mmu_interval_notifier_ops gained invalidate_start and
# invalidate_finish beside invalidate.
# $1: kernel source tree.
grep -q '(\*invalidate_start)' "$1/include/linux/mmu_notifier.h" &&
	echo '#define MNI_HAVE_TWO_PASS_OPS 1'
exit 0
