#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# guest-lockdep.sh - expected failure: a consumer that holds its callback's
# lock around read_begin() must draw a lockdep report naming this module's
# map. Runs in its own boot (a report turns lockdep off for the rest of it).

num=0 pass=0 fail=0
t() {	# t OK|FAIL description
	num=$((num + 1))
	if [ "$1" = OK ]; then
		pass=$((pass + 1)); echo "ok $num $2"
	else
		fail=$((fail + 1)); echo "not ok $num $2"
	fi
}

insmod /guest/mmu_interval_notifier.ko && t OK "load mmu_interval_notifier" ||
	t FAIL "load mmu_interval_notifier"
insmod /guest/mni_lockdep_bait.ko && t OK "load the bait consumer" ||
	t FAIL "load the bait consumer"
log=$(dmesg)
echo "$log" | grep -q "possible circular locking dependency detected" &&
	t OK "lockdep reports a circular dependency" ||
	t FAIL "lockdep reports a circular dependency"
echo "$log" | grep -q "mni_invalidate_range" &&
	t OK "the report names the mni_invalidate_range map" ||
	t FAIL "the report names the mni_invalidate_range map"
echo "$log" | grep -q "bait_lock" &&
	t OK "the report names the consumer's lock" ||
	t FAIL "the report names the consumer's lock"
echo "$log" | grep -qE "KASAN|BUG:|Oops|general protection" &&
	t FAIL "no other splat" || t OK "no other splat"
rmmod mni_lockdep_bait && rmmod mmu_interval_notifier &&
	t OK "unload" || t FAIL "unload"
echo "$log" | grep -A30 "possible circular locking" | sed 's/^/# /' | head -40

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
