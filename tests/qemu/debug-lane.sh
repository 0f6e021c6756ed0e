#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The debug-kernel lane: build (or reuse) the 6.1 KASAN + lockdep +
# kmemleak kernel, build the module and drivers against it in build/debug,
# and run the conformance suite there, ending with a kmemleak scan.
# Usage: debug-lane.sh LOGDIR
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
logs=${1:-$top/build/logs}
cd "$top"

kernel=$(tests/qemu/debug-kernel.sh)
# With the test-only hooks (MNI_DEBUG_HOOKS): exit_vs_punch_hole widens
# release's window between its two notifiers there.
scripts/build-tree.sh "$kernel/build" build/debug MNI_DEBUG_HOOKS=1
mkdir -p "$logs"
exec tests/qemu/run.sh --kernel "$kernel/bzImage" \
	--log "$logs/check-6.1-debug.log" --timeout 2400 \
	--add build/debug/mmu_interval_notifier.ko \
	--add build/debug/tests/driver/mni_test_mni.ko \
	--add build/debug/tests/driver/mni_test_kern.ko \
	--add tests/suite/mni_suite \
	--add tests/suite/mni_triggers \
	--add tests/qemu/guest-lifecycle.sh \
	--add tests/qemu/guest-tap.sh \
	--append "numa=fake=2 mni_cycles=50" \
	--add tests/qemu/guest-check.sh \
	--script tests/qemu/guest-debug.sh
