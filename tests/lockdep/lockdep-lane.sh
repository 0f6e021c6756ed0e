#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Expected-failure lane on the debug kernel: the bait consumer must make
# lockdep report a cycle through mni_invalidate_range. The console scan
# is off for this boot (every line allowed): the guest checks the report.
# Usage: lockdep-lane.sh LOGDIR
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
logs=${1:-$top/build/logs}
cd "$top"

kernel=$(tests/qemu/debug-kernel.sh)
[ -f build/debug/Module.symvers ] ||
	scripts/build-tree.sh "$kernel/build" build/debug
mkdir -p build/lockdep "$logs"
cp tests/lockdep/Kbuild tests/lockdep/mni_lockdep_bait.c build/lockdep/
make -s -C "$kernel/build" M="$top/build/lockdep" W=1 \
	KBUILD_EXTRA_SYMBOLS="$top/build/debug/Module.symvers" \
	ccflags-y="-I$top/include" modules
exec tests/qemu/run.sh --kernel "$kernel/bzImage" \
	--log "$logs/lockdep-6.1-debug.log" --timeout 600 --allow '.' \
	--add build/debug/mmu_interval_notifier.ko \
	--add build/lockdep/mni_lockdep_bait.ko \
	--script tests/lockdep/guest-lockdep.sh
