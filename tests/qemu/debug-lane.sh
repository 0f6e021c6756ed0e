#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The debug-kernel lanes: build (or reuse) a debug kernel
# (tests/qemu/debug-kernel.sh KERNEL), build the module and drivers against
# it, and run the guest script there.
#   6.1 (default)  the KASAN + lockdep + kmemleak kernel, modules in
#                  build/debug: the conformance suite, the triggers and
#                  mni_fuzz (MNI_FUZZ_SECS's default per flavour), then a
#                  kmemleak scan (guest-debug.sh)
#   6.12-rt        the PREEMPT_RT + DEBUG_ATOMIC_SLEEP + lockdep + KASAN
#                  kernel, modules in build/debug-6.12-rt: the tests whose
#                  callbacks run in non-blockable context, and the torture
#                  (guest-rt.sh)
#   fuzz           (make fuzz) on the 6.1 debug kernel, mni_fuzz alone for
#                  MNI_FUZZ_SECONDS in all (default 1800), half on each
#                  flavour, with seed MNI_FUZZ_SEED if set; then kmemleak
#   soak           (make soak) on the 6.1 debug kernel, the stale-read
#                  torture and its storm mode for MNI_SOAK_SECONDS in all
#                  (default 3600): per flavour a third plain and a sixth
#                  storm; then kmemleak
# Usage: debug-lane.sh LOGDIR [KERNEL | fuzz | soak]
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
	      --add tests/suite/mni_fuzz
	      --add tests/qemu/guest-lifecycle.sh --add tests/qemu/guest-check.sh
	      --script tests/qemu/guest-debug.sh) ;;
fuzz)
	secs=${MNI_FUZZ_SECONDS:-1800}
	kver=6.1 out=build/debug log=fuzz-6.1-debug.log timeout=$((secs + 900))
	build=(MNI_DEBUG_HOOKS=1)
	opts=(--append "numa=fake=2 mni_fuzz_secs=$((secs / 2))${MNI_FUZZ_SEED:+ mni_fuzz_seed=$MNI_FUZZ_SEED}"
	      --add tests/suite/mni_fuzz --add tests/qemu/guest-check.sh
	      --script tests/qemu/guest-debug.sh -- z:fuzz) ;;
soak)
	secs=${MNI_SOAK_SECONDS:-3600}
	kver=6.1 out=build/debug log=soak-6.1-debug.log timeout=$((secs + 900))
	build=(MNI_DEBUG_HOOKS=1)
	# mni_triggers runs the storm mode for half of mni_torture_secs.
	opts=(--append "numa=fake=2 mni_torture_secs=$((secs / 3))"
	      --add tests/qemu/guest-check.sh --script tests/qemu/guest-debug.sh
	      -- t:stale_read_torture t:stale_read_torture_storm) ;;
6.12-rt)
	out=build/debug-6.12-rt log=check-6.12-rt-debug.log timeout=1200
	# The module as packaged: no test-only hooks.
	build=()
	opts=(--add tests/qemu/guest-check.sh --script tests/qemu/guest-rt.sh) ;;
*)
	echo "usage: $0 LOGDIR [6.1 | 6.12-rt | fuzz | soak]" >&2
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
