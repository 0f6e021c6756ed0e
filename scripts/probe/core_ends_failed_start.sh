#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Defines MNI_HAVE_CORE_ENDS_FAILED_START if it succeeds.
#
# 5.12 (backported to Debian's 5.10): after a failed invalidate_range_start
# the core calls every invalidate_range_end and WARNs if the failing
# notifier has one. That is behaviour, which no compile test can see; the
# same commit added this sentence to the header, so the sentence is the
# agreed detector.
# $1: kernel source tree (kbuild's $(srctree)).
grep -q 'are not allowed to implement' "$1/include/linux/mmu_notifier.h"
