#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# select.sh 'PATTERN...' NAME=COMMAND... - `make check-quick T=PATTERN`
#
# Runs only the tests whose name matches one of the shell patterns
# (space- or comma-separated; e.g. 'insert_null_*,release'), in the lanes
# of `make check-quick` that have them, through scripts/check.sh:
#   user        the model tests of tests/user (model --list) and "stress";
#   stock-KVER  the QEMU suites of guest-check.sh, on both engines:
#               mni_suite's tests, mni_triggers' and mni_faults' (and
#               "load_sweep", mni_faults' module-init sweep).
# A pattern that matches no test (exit 2, with the list of names), or a
# run in which a named test printed no TAP line, fails: a check that
# examined nothing is not a pass.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2

die() {
	echo "check-quick T=: $*" >&2
	exit 2
}

[ $# -ge 1 ] || die "usage: tests/select.sh 'PATTERN...' NAME=COMMAND..."
pats=$(echo "$1" | tr ',' ' ')
shift
[ -n "${pats// /}" ] || die "T is empty"

# matches NAME: NAME matches one of the patterns.
matches() {
	local p
	for p in $pats; do
		# shellcheck disable=SC2254 # the pattern is the point
		case $1 in $p) return 0 ;; esac
	done
	return 1
}

# The names each lane knows, with the prefix guest-check.sh wants.
make -s -C tests/user build/asan/model >/dev/null ||
	die "cannot build tests/user/build/asan/model"
user_all="$(tests/user/build/asan/model --list | grep -v '^#') stress"
if ! suite_all=$(tests/suite/mni_suite --list) ||
	! trig_all=$(tests/suite/mni_triggers --list) ||
	! fault_all="$(tests/suite/mni_faults --list) load_sweep"; then
	die "no tests/suite binaries: run make -C tests suite"
fi

user_sel='' qemu_args='' names=''
for n in $user_all; do
	matches "$n" && user_sel="$user_sel $n" && names="$names $n"
done
for n in $suite_all; do
	matches "$n" && qemu_args="$qemu_args $n" && names="$names $n"
done
for n in $trig_all; do
	matches "$n" && qemu_args="$qemu_args t:$n" && names="$names $n"
done
for n in $fault_all; do
	matches "$n" && qemu_args="$qemu_args f:$n" && names="$names $n"
done
# A pattern that matches nothing is a typo as often as not: no run.
unmatched=''
for p in $pats; do
	hit=0
	for n in $names; do
		# shellcheck disable=SC2254 # the pattern is the point
		case $n in $p) hit=1 && break ;; esac
	done
	[ "$hit" = 1 ] || unmatched="$unmatched $p"
done
if [ -n "$unmatched" ]; then
	echo "check-quick T='$pats': no test matches:$unmatched. The names:" >&2
	# One word a name, however the lists were broken.
	# shellcheck disable=SC2086 # split on purpose
	for l in "user:$user_all" "mni_suite: $suite_all" \
		"mni_triggers: $trig_all" "mni_faults: $fault_all"; do
		echo "  "$l | fold -s -w 76 | sed '2,$s/^/    /'
	done >&2
	exit 2
fi
echo "# T='$pats':$names"

lanes=()
for lane in "$@"; do
	name=${lane%%=*}
	cmd=${lane#*=}
	case $name in
	user)
		[ -z "$user_sel" ] || lanes+=("$name=MNI_T='${user_sel# }' $cmd")
		;;
	stock-*)
		[ -z "$qemu_args" ] || lanes+=("$name=$cmd --${qemu_args}")
		;;
	*)
		echo "# lane $name: not run under T="
		;;
	esac
done

out=$(mktemp)
trap 'rm -f "$out"' EXIT
# Some tests only: not a result for README's table of tested kernels.
MNI_KERNELS_TABLE=0 scripts/check.sh "${lanes[@]}" | tee "$out"
rc=${PIPESTATUS[0]}

# Every name chosen must have a TAP line of its own ("ok 3 kern/NAME",
# "    ok 2 NAME", "ok 7 triggers-mni/NAME", "ok 9 faults/load_sweep").
missing=''
for n in $names; do
	[ "$n" = stress ] && re='ok [0-9]+ - stress' ||
		re="ok [0-9]+ (- )?([a-z-]+/)?$n( |\$)"
	grep -Eq "^[[:space:]]*(not )?$re" "$out" || missing="$missing $n"
done
if [ -n "$missing" ]; then
	sum=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	p=$(echo "$sum" | sed -nE 's/^([0-9]+) passed.*/\1/p')
	f=$(echo "$sum" | sed -nE 's/.* ([0-9]+) failed.*/\1/p')
	s=$(echo "$sum" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
	echo "not ok - T=: examined by no lane:$missing"
	echo "${p:-0} passed, $((${f:-0} + 1)) failed, ${s:-0} skipped"
	exit 1
fi
exit "$rc"
