#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# guest-check.sh [TEST...] - the conformance run, inside the QEMU guest
#
# Runs under busybox sh with its files in /guest/ (see run.sh --add):
# mmu_interval_notifier.ko, mni_test_mni.ko, mni_test_kern.ko, mni_suite,
# guest-tap.sh (and, when there, mni_triggers, mni_faults and mni_hmm).
# Loads the modules, runs mni_suite (only the TESTs named, if any), which
# runs each test on the kernel flavour and on the mni flavour and compares
# the two test by test, checks that a consumer pins the engine and that the
# engine unloads once its consumers are gone. If mni_triggers is there too
# it runs it the same way (TAP names "triggers-FLAVOUR/...",
# "triggers-compare"), and so mni_fuzz if it is there (the debug-6.1 lane
# adds it: "fuzz-..."), both flavours with the same seed, mni_faults (TAP
# names "faults-FLAVOUR/...") and mni_hmm ("hmm-FLAVOUR/...", no
# comparison: the kernel flavour has a helper only from 7.3); with no TEST
# named, guest-lifecycle.sh's load/work/unload loop runs last. Prints one
# combined TAP stream ending with "N passed, N failed, N skipped" and exits
# non-zero on any failure.
#
# From the host, after `make` (the engine) and `make -C tests driver suite`:
#   tests/qemu/run.sh --kernel "$(tests/qemu/kernel.sh 6.1.0-56-amd64)" \
#       --log /tmp/check.log --add mmu_interval_notifier.ko \
#       --add tests/driver/mni_test_mni.ko --add tests/driver/mni_test_kern.ko \
#       --add tests/suite/mni_suite --add tests/qemu/guest-tap.sh \
#       --script tests/qemu/guest-check.sh \
#       [-- TEST...]

G=/guest
W=/tmp/guest-check
mkdir -p "$W"

# ok, not_ok, skip, check, check_fails, tap_end.
# shellcheck source=tests/qemu/guest-tap.sh
. "$G/guest-tap.sh"

# run_suite TAG BIN [TEST...]: run BIN (only the TESTs named, if any) and
# fold its TAP into ours with TAG before each name. Without a DEVICE the
# binary runs its tests on both engines ("kern/NAME", "mni/NAME") and
# compares them itself ("compare", "compare/NAME"; see tests/lib/tap.h).
run_suite() {
	tag=$1 bin=$2
	shift 2
	t0=$(date +%s)
	"$G/$bin" "$@" >"$W/$bin.tap" 2>&1
	rc=$?
	summary=
	while IFS= read -r line; do
		case $line in
		"ok "*)
			rest=${line#ok }
			rest=${rest#* }
			case $rest in
			*" # SKIP "*)
				skip "$tag${rest%% *}" "${rest#* # SKIP }"
				;;
			*)
				ok "$tag$rest"
				;;
			esac
			;;
		"not ok "*)
			rest=${line#not ok }
			rest=${rest#* }
			not_ok "$tag$rest"
			;;
		"# "*)
			echo "# [$bin] ${line#\# }"
			;;
		*" passed, "*" failed, "*" skipped")
			summary=$line
			;;
		"TAP version"* | 1..*)
			;;
		*)
			echo "# [$bin] $line"
			;;
		esac
	done <"$W/$bin.tap"
	echo "# [$bin] ${summary:-no summary line}, exit $rc, $(($(date +%s) - t0)) s"
	if [ -z "$summary" ]; then
		not_ok "${tag}suite # $bin did not finish (exit $rc)"
	fi
}

module_loaded() {
	[ -d "/sys/module/$1" ]
}

echo "TAP version 13"
echo "# guest-check: $(uname -r), $(nproc) cpus"

check load/mmu_interval_notifier insmod "$G/mmu_interval_notifier.ko"
check load/mni_test_mni insmod "$G/mni_test_mni.ko"
check load/mni_test_kern insmod "$G/mni_test_kern.ko"

# Arguments "t:NAME" select mni_triggers tests, "z:NAME" mni_fuzz tests,
# "f:NAME" mni_faults tests ("f:load_sweep": the module-init allocation
# sweep after the unload), "h:NAME" mni_hmm tests, the others mni_suite tests; a suite none of
# whose tests was named does not run (all run without any).
# On the kernel command line mni_torture_secs=N sets the length of
# mni_triggers' stale_read_torture, mni_cycles=N the lifecycle loop, and
# mni_fuzz_secs, mni_fuzz_seed, mni_fuzz_procs and mni_fuzz_ops mni_fuzz's
# MNI_FUZZ_SECS (per flavour), _SEED, _PROCS and _OPS, and mni_oom_kills
# mni_faults' MNI_OOM_KILLS.
suite_args='' trig_args='' fuzz_args='' fault_args='' hmm_args=''
for a in "$@"; do
	case $a in
	h:*) hmm_args="$hmm_args ${a#h:}" ;;
	t:*) trig_args="$trig_args ${a#t:}" ;;
	z:*) fuzz_args="$fuzz_args ${a#z:}" ;;
	f:*) fault_args="$fault_args ${a#f:}" ;;
	*) suite_args="$suite_args $a" ;;
	esac
done
# f:load_sweep is not a test of the mni_faults suite: see below.
load_sweep=0 rest=''
for a in $fault_args; do
	if [ "$a" = load_sweep ]; then
		load_sweep=1
	else
		rest="$rest $a"
	fi
done
fault_args=$rest
cmdline_var() {
	read -r cl </proc/cmdline
	for w in $cl; do
		case $w in "$1="*) echo "${w#*=}" ;; esac
	done
}
torture_secs=$(cmdline_var mni_torture_secs)
[ -z "$torture_secs" ] || export MNI_TORTURE_SECS="$torture_secs"
v=$(cmdline_var mni_fuzz_secs) && [ -n "$v" ] && export MNI_FUZZ_SECS="$v"
v=$(cmdline_var mni_fuzz_seed) && [ -n "$v" ] && export MNI_FUZZ_SEED="$v"
v=$(cmdline_var mni_fuzz_procs) && [ -n "$v" ] && export MNI_FUZZ_PROCS="$v"
v=$(cmdline_var mni_fuzz_ops) && [ -n "$v" ] && export MNI_FUZZ_OPS="$v"
v=$(cmdline_var mni_oom_kills) && [ -n "$v" ] && export MNI_OOM_KILLS="$v"
# One seed for both flavours, printed by each run.
if [ -z "${MNI_FUZZ_SEED:-}" ]; then
	MNI_FUZZ_SEED=0x$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
	export MNI_FUZZ_SEED
fi

# mni_suite runs its two-pass tests a third time, on the mni flavour with
# the kernel's 7.1 two-pass ops handed to this engine ("kops-mni/NAME"), as
# a 7.1 driver built against mni_compat.h does; each must end as with mni's
# own (skipped before 7.1).
if [ $# = 0 ] || [ -n "$suite_args" ]; then
	# shellcheck disable=SC2086
	run_suite '' mni_suite $suite_args
fi
if [ ! -x "$G/mni_triggers" ]; then
	skip triggers "no $G/mni_triggers"
elif [ $# = 0 ] || [ -n "$trig_args" ]; then
	# shellcheck disable=SC2086
	run_suite triggers- mni_triggers $trig_args
fi
if [ -x "$G/mni_fuzz" ] && { [ $# = 0 ] || [ -n "$fuzz_args" ]; }; then
	# shellcheck disable=SC2086
	run_suite fuzz- mni_fuzz $fuzz_args
fi
# Allocation failures (debug kernel; they skip without fault injection) and
# real OOM kills, on both flavours (TAP names "faults-FLAVOUR/...").
if [ ! -x "$G/mni_faults" ]; then
	skip faults "no $G/mni_faults"
elif [ $# = 0 ] || [ -n "$fault_args" ]; then
	# shellcheck disable=SC2086
	run_suite faults- mni_faults $fault_args
fi

# 7.3's hmm_range_fault_unlocked_timeout() through mni_compat.h; the kernel
# flavour has the kernel's from 7.3 and skips before, so mni_hmm does not
# compare them.
if [ ! -x "$G/mni_hmm" ]; then
	skip hmm "no $G/mni_hmm"
elif [ $# = 0 ] || [ -n "$hmm_args" ]; then
	# shellcheck disable=SC2086
	run_suite hmm- mni_hmm $hmm_args
fi
# A consumer holds a reference on the engine module.
if module_loaded mni_test_mni; then
	check_fails unload/engine-pinned-by-consumer rmmod mmu_interval_notifier
fi
check unload/mni_test_mni rmmod mni_test_mni
check unload/mni_test_kern rmmod mni_test_kern
# Succeeds only if nothing still holds the engine: no leaked registration.
check unload/mmu_interval_notifier rmmod mmu_interval_notifier
if module_loaded mmu_interval_notifier; then
	not_ok "unload/gone # /sys/module/mmu_interval_notifier still there"
fi

# Allocation failures of module init: the engine is unloaded now.
if { [ $# = 0 ] || [ "$load_sweep" = 1 ]; } && [ -x "$G/mni_faults" ]; then
	"$G/mni_faults" --load-sweep "$G/mmu_interval_notifier.ko" >"$W/load-sweep.out" 2>&1
	rc=$?
	sed 's/^/# [faults-load] /' "$W/load-sweep.out"
	case $rc in
	0) ok faults/load_sweep ;;
	77) skip faults/load_sweep "no fault injection in this kernel" ;;
	*) not_ok "faults/load_sweep # exit $rc" ;;
	esac
fi

# Load / work / unload cycles of the engine: no leak, no warning, no
# refused unload (guest-lifecycle.sh; only with no TESTs named).
if [ $# = 0 ] && [ -f "$G/guest-lifecycle.sh" ] && [ -x "$G/mni_triggers" ]; then
	cycles=$(cmdline_var mni_cycles)
	t0=$(date +%s)
	# shellcheck disable=SC2086
	check "lifecycle/${cycles:-default}-cycles" sh "$G/guest-lifecycle.sh" $cycles
	echo "# lifecycle: $(($(date +%s) - t0)) s"
fi

tap_end
