#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# run-tests.sh BUILD_DIR - run the userspace engine tests as one TAP stream
#
# Each binary becomes a TAP subtest; its own closing "N passed, N failed,
# N skipped" is kept as a comment, and the run ends with exactly one such
# line summed over all binaries. A binary that dies before its summary, or exits
# non-zero with nothing failed (a sanitizer report at exit), counts one
# more failure. Raw output is kept in BUILD_DIR/logs/.
#
# MNI_T="NAME..." (exact names, as tests/select.sh resolves `make
# check-quick T=`) runs only those: the model binaries with the model tests
# named, the stress binaries if "stress" is named; the others not at all.

set -u
B=${1:-build}
mkdir -p "$B/logs"

export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:exitcode=66:second_deadlock_stack=1}"

# name  binary  environment
TESTS="model		asan/model	-
stress		asan/stress	-
model-tsan	tsan/model	MNI_ROUNDS=${MNI_TSAN_ROUNDS:-3}
stress-tsan	tsan/stress	-
model-batch4	asan-b4/model	MNI_ROUNDS=4
stress-batch4	asan-b4/stress	MNI_STRESS_SECONDS=2
callbacks	asan/callbacks	-
boundary	asan/boundary	-
boundary-tsan	tsan/boundary	-"

# args BINARY: the arguments BINARY runs with under MNI_T; false if none
# of its tests is named.
args() {
	case ${1##*/} in
	stress)
		for t in $MNI_T; do
			[ "$t" = stress ] && return 0
		done
		return 1
		;;
	esac
	sel=
	for t in $("$B/$1" --list | grep -v '^#'); do
		for w in $MNI_T; do
			[ "$w" = "$t" ] && sel="$sel $t"
		done
	done
	[ -n "$sel" ] && echo "$sel"
}

if [ -n "${MNI_T:-}" ]; then
	sel=
	while IFS="	" read -r name bin envs; do
		a=$(args "$bin") && sel="$sel$name	$bin	$envs	$a
"
	done <<LIST
$TESTS
LIST
	TESTS=${sel%
}
	[ -n "$TESTS" ] || { echo "0 passed, 0 failed, 0 skipped"; exit 0; }
fi

total_pass=0
total_fail=0
total_skip=0
n=0
status=0

echo "TAP version 13"
echo "1..$(echo "$TESTS" | wc -l)"
# Read the list on fd 3 so the binaries keep the terminal's stdin.
while IFS="	" read -r name bin envs targs <&3; do
	n=$((n + 1))
	log="$B/logs/$name.log"
	[ "$envs" = "-" ] && envs=
	start=$(date +%s.%N)
	# shellcheck disable=SC2086
	env $envs "$B/$bin" $targs >"$log" 2>&1
	rc=$?
	end=$(date +%s.%N)
	summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$log" | tail -n 1)
	if [ -n "$summary" ]; then
		p=${summary%% passed*}
		f=${summary#*, }
		f=${f%% failed*}
		s=$(echo "$summary" | sed -nE 's/.* ([0-9]+) skipped$/\1/p')
	else
		p=0
		f=0
		s=0
	fi
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		extra="exit status $rc with no failed test (sanitizer report or crash?)"
	else
		extra=
	fi
	echo "# Subtest: $name"
	sed -E -e 's/^([0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?)$/# '"$name"': \1/' \
	    -e 's/^/    /' "$log"
	[ -n "$extra" ] && echo "    # $extra"
	awk -v n="$name" -v s="$start" -v e="$end" -v l="$log" \
		'BEGIN { printf "    # %s: %.1f s, log %s\n", n, e - s, l }'
	if [ $rc -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		status=1
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + ${s:-0}))
done 3<<LIST
$TESTS
LIST

echo "$total_pass passed, $total_fail failed, $total_skip skipped"
exit $status
