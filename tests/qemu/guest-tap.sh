# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# guest-tap.sh - the TAP helpers of the guest scripts (guest-check.sh,
# guest-observe.sh, guest-debug.sh, guest-rt.sh), sourced from /guest/:
# numbered test lines, counters, and the plan and summary line that end a
# run.

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

# tap_continue FILE: go on counting after a guest-check.sh run whose TAP is
# in FILE, from its last "N passed, N failed" line (none: one failure).
tap_continue() {
	sum=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
	npass=$(echo "$sum" | sed -nE 's/^([0-9]+) passed.*/\1/p')
	nfail=$(echo "$sum" | sed -nE 's/.* ([0-9]+) failed.*/\1/p')
	nskip=$(echo "$sum" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
	[ -n "$npass" ] || { npass=0; nfail=1; }
	nskip=${nskip:-0}
	num=$((npass + nfail + nskip))
}

# tap_summary: only "N passed, N failed, N skipped" (the run continued by
# tap_continue printed the plan); false on a failure.
tap_summary() {
	echo "$npass passed, $nfail failed, $nskip skipped"
	[ "$nfail" = 0 ]
}

# tap_end: the plan and "N passed, N failed, N skipped"; false on a failure.
tap_end() {
	echo "1..$num"
	echo "$npass passed, $nfail failed, $nskip skipped"
	[ "$nfail" = 0 ]
}
