#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# guest-check.sh [TEST...] - the conformance run, inside the QEMU guest
#
# Runs under busybox sh with its files in /guest/ (see run.sh --add):
# mmu_interval_notifier.ko, mni_test_mni.ko, mni_test_kern.ko, mni_suite,
# guest-tap.sh (and, when there, mni_triggers, mni_faults and mni_hmm).
# Loads the modules, runs mni_suite on the kernel flavour and on the mni
# flavour (only the TESTs named, if any), compares the two test by test,
# checks that a consumer pins the engine and that the engine unloads once
# its consumers are gone. If mni_triggers is there too it runs it on both
# flavours and compares them the same way (TAP names "triggers-FLAVOUR/..."),
# and so mni_fuzz if it is there (the debug-6.1 lane adds it: "fuzz-..."),
# both flavours with the same seed, mni_faults (TAP names
# "faults-FLAVOUR/...") and mni_hmm ("hmm-FLAVOUR/...", no comparison: the
# kernel flavour has a helper only from 7.3); with no TEST named, guest-lifecycle.sh's
# load/work/unload loop runs last. Prints one combined TAP stream ending with
# "N passed, N failed, N skipped" and exits non-zero on any failure.
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

# run_suite FLAVOUR [TEST...]: run mni_suite on /dev/mni_test_FLAVOUR, fold
# its TAP into ours as FLAVOUR/test lines, and record "test result" pairs
# (pass, fail, skip, or engine-skip: a skip the test declared for its
# engine alone, tap_skip_engine(), "# SKIP engine: REASON") in
# $W/FLAVOUR.res.
# SUITE (default mni_suite) names the binary and TAG (default empty) is put
# before FLAVOUR in the TAP names and result files.
run_suite() {
	flav=$1
	shift
	dev=/dev/mni_test_$flav
	bin=${SUITE:-mni_suite}
	: >"$W/$TAG$flav.res"
	if [ ! -c "$dev" ]; then
		not_ok "$TAG$flav/suite # no $dev"
		return
	fi
	t0=$(date +%s)
	"$G/$bin" "$dev" "$@" >"$W/$TAG$flav.tap" 2>&1
	rc=$?
	summary=
	while IFS= read -r line; do
		case $line in
		"ok "*)
			rest=${line#ok }
			rest=${rest#* }
			name=${rest%% *}
			case $rest in
			*" # SKIP engine: "*)
				skip "$TAG$flav/$name" "${rest#* # SKIP }"
				echo "$name engine-skip" >>"$W/$TAG$flav.res"
				;;
			*" # SKIP "*)
				skip "$TAG$flav/$name" "${rest#* # SKIP }"
				echo "$name skip" >>"$W/$TAG$flav.res"
				;;
			*)
				ok "$TAG$flav/$name"
				echo "$name pass" >>"$W/$TAG$flav.res"
				;;
			esac
			;;
		"not ok "*)
			rest=${line#not ok }
			rest=${rest#* }
			name=${rest%% *}
			not_ok "$TAG$flav/$rest"
			echo "$name fail" >>"$W/$TAG$flav.res"
			;;
		"# "*)
			echo "# [$TAG$flav] ${line#\# }"
			;;
		*" passed, "*" failed, "*" skipped")
			summary=$line
			;;
		"TAP version"* | 1..*)
			;;
		*)
			echo "# [$TAG$flav] $line"
			;;
		esac
	done <"$W/$TAG$flav.tap"
	echo "# [$TAG$flav] suite: ${summary:-no summary line}, exit $rc, $(($(date +%s) - t0)) s"
	if [ -z "$summary" ]; then
		not_ok "$TAG$flav/suite # $bin did not finish (exit $rc)"
	fi
}

result_of() {
	while read -r n r; do
		if [ "$n" = "$1" ]; then
			echo "$r"
			return
		fi
	done <"$2"
	echo missing
}

# Every test must end the same on both engines, but where one of them
# skipped it for a reason of its engine alone, which the test states.
compare() {
	same=0 diff=0 documented=0
	cat "$W/${TAG}kern.res" "$W/${TAG}mni.res" | while read -r n _; do echo "$n"; done |
		sort -u >"$W/names"
	while read -r name; do
		k=$(result_of "$name" "$W/${TAG}kern.res")
		m=$(result_of "$name" "$W/${TAG}mni.res")
		if [ "$k" = "$m" ]; then
			same=$((same + 1))
		elif [ "$k" = engine-skip ] || [ "$m" = engine-skip ]; then
			# The other engine's result already has its own line.
			documented=$((documented + 1))
		else
			diff=$((diff + 1))
			not_ok "${TAG}compare/$name # kern: $k, mni: $m"
		fi
	done <"$W/names"
	if [ "$diff" = 0 ]; then
		ok "${TAG}compare # $same tests alike, $documented skipped by the test on one engine"
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

# The two-pass tests again on the mni flavour with the kernel's 7.1
# two-pass ops handed to this engine (TAP names "kops-mni/..."), as a 7.1
# driver built against mni_compat.h does; each must end as with mni's own.
KOPS_TESTS="two_pass_unmap_and_dontneed two_pass_order_across_subscriptions
two_pass_mixed_with_classic two_pass_null_finish two_pass_exit_release
two_pass_reap_refused two_pass_read_begin_waits_finish"
kops_run() {
	kops=/sys/module/mni_test_mni/parameters/two_pass_kern_ops
	names=
	for t in $KOPS_TESTS; do
		if [ $# = 0 ]; then
			names="$names $t"
			continue
		fi
		for a in "$@"; do
			[ "$a" = "$t" ] && names="$names $t"
		done
	done
	[ -n "$names" ] || return 0
	if [ ! -e "$kops" ]; then
		skip kops-mni "the kernel has no two-pass ops before 7.1"
		return 0
	fi
	echo 1 >"$kops"
	# shellcheck disable=SC2086
	TAG=kops- run_suite mni $names
	echo 0 >"$kops"
	same=0 diff=0
	for t in $names; do
		k=$(result_of "$t" "$W/kops-mni.res")
		m=$(result_of "$t" "$W/mni.res")
		if [ "$k" = "$m" ]; then
			same=$((same + 1))
		else
			diff=$((diff + 1))
			not_ok "kops-compare/$t # mni's ops: $m, the kernel's: $k"
		fi
	done
	[ "$diff" != 0 ] || ok "kops-compare # $same tests alike"
}

if [ $# = 0 ] || [ -n "$suite_args" ]; then
	# shellcheck disable=SC2086
	run_suite kern $suite_args
	# shellcheck disable=SC2086
	run_suite mni $suite_args
	compare
	# shellcheck disable=SC2086
	kops_run $suite_args
fi
if [ ! -x "$G/mni_triggers" ]; then
	skip triggers "no $G/mni_triggers"
elif [ $# = 0 ] || [ -n "$trig_args" ]; then
	# shellcheck disable=SC2086
	SUITE=mni_triggers TAG=triggers- run_suite kern $trig_args
	# shellcheck disable=SC2086
	SUITE=mni_triggers TAG=triggers- run_suite mni $trig_args
	TAG=triggers- compare
fi
if [ -x "$G/mni_fuzz" ] && { [ $# = 0 ] || [ -n "$fuzz_args" ]; }; then
	# shellcheck disable=SC2086
	SUITE=mni_fuzz TAG=fuzz- run_suite kern $fuzz_args
	# shellcheck disable=SC2086
	SUITE=mni_fuzz TAG=fuzz- run_suite mni $fuzz_args
	TAG=fuzz- compare
fi
# Allocation failures (debug kernel; they skip without fault injection) and
# real OOM kills, on both flavours (TAP names "faults-FLAVOUR/...").
if [ ! -x "$G/mni_faults" ]; then
	skip faults "no $G/mni_faults"
elif [ $# = 0 ] || [ -n "$fault_args" ]; then
	# shellcheck disable=SC2086
	SUITE=mni_faults TAG=faults- run_suite kern $fault_args
	# shellcheck disable=SC2086
	SUITE=mni_faults TAG=faults- run_suite mni $fault_args
	TAG=faults- compare
fi

# 7.3's hmm_range_fault_unlocked_timeout() through mni_compat.h; the kernel
# flavour has the kernel's from 7.3 and skips before, so no comparison.
if [ ! -x "$G/mni_hmm" ]; then
	skip hmm "no $G/mni_hmm"
elif [ $# = 0 ] || [ -n "$hmm_args" ]; then
	# shellcheck disable=SC2086
	SUITE=mni_hmm TAG=hmm- run_suite kern $hmm_args
	# shellcheck disable=SC2086
	SUITE=mni_hmm TAG=hmm- run_suite mni $hmm_args
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
