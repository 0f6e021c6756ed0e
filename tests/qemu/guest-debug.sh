#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# guest-debug.sh - the conformance run on the debug kernel (KASAN, lockdep,
# kmemleak, DEBUG_VM, DEBUG_ATOMIC_SLEEP), inside the QEMU guest
#
# Runs guest-check.sh (which loads, tests and unloads every module; with
# mni_fuzz in the guest it fuzzes both flavours too), then asks kmemleak
# for a scan: after the modules are gone nothing they allocated may be
# left. Ends with one summary line counting both.

G=/guest
out=/tmp/guest-debug.out

# ok, not_ok, tap_continue, tap_summary.
# shellcheck source=tests/qemu/guest-tap.sh
. "$G/guest-tap.sh"

sh "$G/guest-check.sh" "$@" | tee "$out"
tap_continue "$out"

kml=/sys/kernel/debug/kmemleak
if [ ! -w "$kml" ]; then
	not_ok "kmemleak # no $kml"
else
	# kmemleak reports only objects older than 5 s, and wants two scans.
	sleep 6
	echo scan >"$kml"
	echo scan >"$kml"
	if [ -s "$kml" ]; then
		not_ok "kmemleak: leaks after unload"
		sed 's/^/# /' "$kml" | head -60
	else
		ok "kmemleak: nothing leaked"
	fi
fi

tap_summary
