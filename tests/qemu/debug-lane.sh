#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The debug-kernel lanes: build (or reuse) a debug kernel
# (tests/qemu/debug-kernel.sh KERNEL), build the module and drivers against
# it, and run the guest script there.
#   6.1 (default)  the KASAN + lockdep + kmemleak kernel, modules in
#                  build/debug: the conformance suite, then a kmemleak scan
#                  (guest-debug.sh)
#   6.12-rt        the PREEMPT_RT + DEBUG_ATOMIC_SLEEP + lockdep + KASAN
#                  kernel, modules in build/debug-6.12-rt: the tests whose
#                  callbacks run in non-blockable context, and the torture
#                  (guest-rt.sh)
# Usage: debug-lane.sh LOGDIR [KERNEL]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
logs=${1:-$top/build/logs}
kver=${2:-6.1}
cd "$top"

case $kver in
6.1)
	out=build/debug log=check-6.1-debug.log timeout=2400
	# With the test-only hooks (MNI_DEBUG_HOOKS): exit_vs_punch_hole widens
	# release's window between its two notifiers there.
	build=(MNI_DEBUG_HOOKS=1)
	opts=(--append "numa=fake=2 mni_cycles=50"
	      --add tests/qemu/guest-lifecycle.sh --add tests/qemu/guest-check.sh
	      --script tests/qemu/guest-debug.sh) ;;
6.12-rt)
	out=build/debug-6.12-rt log=check-6.12-rt-debug.log timeout=1200
	# The module as packaged: no test-only hooks.
	build=()
	opts=(--add tests/qemu/guest-check.sh --script tests/qemu/guest-rt.sh) ;;
*)
	echo "usage: $0 LOGDIR [6.1 | 6.12-rt]" >&2
	exit 2 ;;
esac

kernel=$(tests/qemu/debug-kernel.sh "$kver")
scripts/build-tree.sh "$kernel/build" "$out" ${build[@]+"${build[@]}"}
mkdir -p "$logs"
exec tests/qemu/run.sh --kernel "$kernel/bzImage" \
	--log "$logs/$log" --timeout "$timeout" \
	--add "$out/mmu_interval_notifier.ko" \
	--add "$out/tests/driver/mni_test_mni.ko" \
	--add "$out/tests/driver/mni_test_kern.ko" \
	--add tests/suite/mni_suite \
	--add tests/suite/mni_triggers \
	--add tests/suite/mni_faults \
	--add tests/qemu/guest-tap.sh \
	"${opts[@]}"
