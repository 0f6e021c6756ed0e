#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# guest-debug.sh - the conformance run on the debug kernel (KASAN, lockdep,
# kmemleak, DEBUG_VM, DEBUG_ATOMIC_SLEEP), inside the QEMU guest
#
# Runs guest-check.sh (which loads, tests and unloads every module), then
# asks kmemleak for a scan: after the modules are gone nothing they
# allocated may be left. Ends with one summary line counting both.

G=/guest
out=/tmp/guest-debug.out

sh "$G/guest-check.sh" "$@" | tee "$out"
sum=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
pass=$(echo "$sum" | sed -E 's/^([0-9]+) passed.*/\1/')
fail=$(echo "$sum" | sed -E 's/.* ([0-9]+) failed.*/\1/')
skip=$(echo "$sum" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
[ -n "$pass" ] || { pass=0; fail=1; }
num=$((pass + fail + ${skip:-0}))

kml=/sys/kernel/debug/kmemleak
num=$((num + 1))
if [ ! -w "$kml" ]; then
	fail=$((fail + 1))
	echo "not ok $num kmemleak # no $kml"
else
	# kmemleak reports only objects older than 5 s, and wants two scans.
	sleep 6
	echo scan >"$kml"
	echo scan >"$kml"
	if [ -s "$kml" ]; then
		fail=$((fail + 1))
		echo "not ok $num kmemleak: leaks after unload"
		sed 's/^/# /' "$kml" | head -60
	else
		pass=$((pass + 1))
		echo "ok $num kmemleak: nothing leaked"
	fi
fi

echo "$pass passed, $fail failed, ${skip:-0} skipped"
[ "$fail" = 0 ]
