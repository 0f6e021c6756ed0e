#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# guest-check.sh [TEST...] - the conformance run, inside the QEMU guest
#
# Runs under busybox sh with its files in /guest/ (see run.sh --add):
# mmu_interval_notifier.ko, mni_test_mni.ko, mni_test_kern.ko, mni_suite.
# Loads the modules, runs mni_suite on the kernel flavour and on the mni
# flavour (only the TESTs named, if any), compares the two test by test,
# checks that a consumer pins the engine and that the engine unloads once
# its consumers are gone. Prints one combined TAP stream ending with
# "N passed, N failed, N skipped" and exits non-zero on any failure.
#
# From the host, after `make` (the engine) and `make -C tests driver suite`:
#   tests/qemu/run.sh --kernel "$(tests/qemu/kernel.sh 6.1.0-56-amd64)" \
#       --log /tmp/check.log --add mmu_interval_notifier.ko \
#       --add tests/driver/mni_test_mni.ko --add tests/driver/mni_test_kern.ko \
#       --add tests/suite/mni_suite --script tests/qemu/guest-check.sh \
#       [-- TEST...]

G=/guest
W=/tmp/guest-check
mkdir -p "$W"

# Tests the kernel flavour must skip: the kernel's engine crashes or WARNs
# on these inputs, so mni_test_kern refuses them (EOPNOTSUPP).
KERN_SKIPS="insert_null_ops insert_null_invalidate insert_dead_mm remove_foreign remove_twice"

num=0 npass=0 nfail=0 nskip=0

ok() {
	num=$((num + 1)) npass=$((npass + 1))
	echo "ok $num $*"
}

not_ok() {
	num=$((num + 1)) nfail=$((nfail + 1))
	echo "not ok $num $*"
}

skip() {
	num=$((num + 1)) nskip=$((nskip + 1))
	echo "ok $num $1 # SKIP $2"
}

# check NAME CMD...: one TAP line for a command that must succeed.
check() {
	name=$1
	shift
	if out=$("$@" 2>&1); then
		ok "$name"
	else
		not_ok "$name"
		[ -z "$out" ] || echo "$out" | sed 's/^/# /'
	fi
}

# check_fails NAME CMD...: one TAP line for a command that must fail.
check_fails() {
	name=$1
	shift
	if out=$("$@" 2>&1); then
		not_ok "$name # succeeded"
	else
		ok "$name"
		[ -z "$out" ] || echo "$out" | sed 's/^/# /'
	fi
}

is_kern_skip() {
	for t in $KERN_SKIPS; do
		[ "$t" = "$1" ] && return 0
	done
	return 1
}

# run_suite FLAVOUR [TEST...]: run mni_suite on /dev/mni_test_FLAVOUR, fold
# its TAP into ours as FLAVOUR/test lines, and record "test result" pairs
# (pass, fail, skip) in $W/FLAVOUR.res.
run_suite() {
	flav=$1
	shift
	dev=/dev/mni_test_$flav
	: >"$W/$flav.res"
	if [ ! -c "$dev" ]; then
		not_ok "$flav/suite # no $dev"
		return
	fi
	t0=$(date +%s)
	"$G/mni_suite" "$dev" "$@" >"$W/$flav.tap" 2>&1
	rc=$?
	summary=
	while IFS= read -r line; do
		case $line in
		"ok "*)
			rest=${line#ok }
			rest=${rest#* }
			name=${rest%% *}
			case $rest in
			*" # SKIP "*)
				skip "$flav/$name" "${rest#* # SKIP }"
				echo "$name skip" >>"$W/$flav.res"
				;;
			*)
				ok "$flav/$name"
				echo "$name pass" >>"$W/$flav.res"
				;;
			esac
			;;
		"not ok "*)
			rest=${line#not ok }
			rest=${rest#* }
			name=${rest%% *}
			not_ok "$flav/$rest"
			echo "$name fail" >>"$W/$flav.res"
			;;
		"# "*)
			echo "# [$flav] ${line#\# }"
			;;
		*" passed, "*" failed, "*" skipped")
			summary=$line
			;;
		"TAP version"* | 1..*)
			;;
		*)
			echo "# [$flav] $line"
			;;
		esac
	done <"$W/$flav.tap"
	echo "# [$flav] suite: ${summary:-no summary line}, exit $rc, $(($(date +%s) - t0)) s"
	if [ -z "$summary" ]; then
		not_ok "$flav/suite # mni_suite did not finish (exit $rc)"
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

# Every test must end the same on both engines, but for KERN_SKIPS.
compare() {
	same=0 diff=0 documented=0
	cat "$W/kern.res" "$W/mni.res" | while read -r n _; do echo "$n"; done |
		sort -u >"$W/names"
	while read -r name; do
		k=$(result_of "$name" "$W/kern.res")
		m=$(result_of "$name" "$W/mni.res")
		if [ "$k" = "$m" ]; then
			same=$((same + 1))
		elif [ "$k" = skip ] && is_kern_skip "$name"; then
			# mni's own result already has its own line.
			documented=$((documented + 1))
		else
			diff=$((diff + 1))
			not_ok "compare/$name # kern: $k, mni: $m"
		fi
	done <"$W/names"
	if [ "$diff" = 0 ]; then
		ok "compare # $same tests alike, $documented documented kernel-flavour skips"
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

run_suite kern "$@"
run_suite mni "$@"
compare

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

echo "1..$num"
echo "$npass passed, $nfail failed, $nskip skipped"
[ "$nfail" = 0 ]
