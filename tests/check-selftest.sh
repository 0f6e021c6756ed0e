#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Self-check of scripts/check.sh, the runner of make check's lanes: the
# closing line sums the lanes, a lane failing without a summary counts one
# failure, a background lane's output comes at its place, "+NAME^A,B"
# starts only once A and B have ended, and a wait for no lane fails.
# Seconds, no QEMU. Prints TAP and a closing "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/mni-check-selftest.XXXXXX")
trap 'rm -rf "$work"' EXIT
n=0 passed=0 failed=0

result() {
	n=$((n + 1))
	if [ -z "$2" ]; then
		echo "ok $n - $1"
		passed=$((passed + 1))
	else
		echo "not ok $n - $1 # $2"
		failed=$((failed + 1))
	fi
}

runcheck() {
	MNI_KERNELS_TABLE=0 "$top/scripts/check.sh" "$@" >"$work/out" 2>&1
	echo $? >"$work/rc"
}

# The foreground lane "a" ends after the background lane "k"; "d" waits
# for both, "e" for "d". Each writes the time it starts and ends.
stamp() { echo "date +%s.%N >$work/$1.$2"; }
runcheck \
	"a=sleep 3; $(stamp a end); echo '1 passed, 0 failed'" \
	"+k=sleep 1; $(stamp k end); echo '2 passed, 0 failed, 1 skipped'" \
	"+d^k,a=$(stamp d start); sleep 1; $(stamp d end); echo '3 passed, 0 failed'" \
	"+e^d=$(stamp e start); echo 'no summary'; exit 4" \
	"f=echo '1 passed, 1 failed'"
why=
[ "$(tail -n 1 "$work/out")" = "7 passed, 2 failed, 1 skipped" ] ||
	why="closing line: $(tail -n 1 "$work/out")"
result "the closing line sums every lane, a failing lane without a summary is one failure" "$why"
why=
[ "$(cat "$work/rc")" = 1 ] || why="exit $(cat "$work/rc")"
result "a failed lane fails the check" "$why"
why=
# after A B: A's stamp exists, B's too, and A's time is not before B's.
after() {
	[ -e "$work/$1" ] && [ -e "$work/$2" ] &&
		awk -v a="$(cat "$work/$1")" -v b="$(cat "$work/$2")" \
			'BEGIN { exit !(a >= b) }'
}
for dep in k a; do
	after d.start "$dep.end" || why="${why}d started before $dep ended; "
done
after e.start d.end || why="${why}e started before d ended"
result "+NAME^A,B starts once A and B have ended" "$why"
why=
order=$(grep -E '^(1 passed, 0 failed|2 passed, 0 failed, 1 skipped|3 passed, 0 failed|no summary|1 passed, 1 failed)$' "$work/out" | tr '\n' '|')
[ "$order" = "1 passed, 0 failed|2 passed, 0 failed, 1 skipped|3 passed, 0 failed|no summary|1 passed, 1 failed|" ] ||
	why="order: $order"
result "each background lane's output comes at its place" "$why"

runcheck "+x^nope=true" "y=echo '1 passed, 0 failed'"
why=
grep -q '^not ok - lane x waits for nope, which is no lane$' "$work/out" &&
	[ "$(cat "$work/rc")" = 1 ] || why="exit $(cat "$work/rc"): $(head -n 1 "$work/out")"
result "a wait for no lane fails the check" "$why"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
