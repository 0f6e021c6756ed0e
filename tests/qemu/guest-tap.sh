# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# guest-tap.sh - the TAP helpers of the guest scripts (guest-check.sh,
# guest-observe.sh), sourced from /guest/: numbered test lines, counters,
# and the plan and summary line that end a run.

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

# tap_end: the plan and "N passed, N failed, N skipped"; false on a failure.
tap_end() {
	echo "1..$num"
	echo "$npass passed, $nfail failed, $nskip skipped"
	[ "$nfail" = 0 ]
}
