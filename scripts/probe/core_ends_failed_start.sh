#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# 5.12 (backported to Debian's 5.10): after a failed invalidate_range_start
# the core calls every invalidate_range_end and WARNs if the failing
# notifier has one. The same commit added this sentence to the header.
# $1: kernel source tree.
grep -q 'are not allowed to implement' "$1/include/linux/mmu_notifier.h" &&
	echo '#define MNI_HAVE_CORE_ENDS_FAILED_START 1'
exit 0
