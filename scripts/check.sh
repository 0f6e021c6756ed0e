#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run test lanes one after another, echo their TAP, and end with one line
# summing every lane: "N passed, N failed, N skipped". A lane that exits
# non-zero without a summary of its own counts as one failure.
# A lane whose name starts with "+" runs in the background: "+NAME=CMD"
# starts at once (downloads, chroots, kernel builds), "+NAME^A,B=CMD" once
# the lanes named A and B (foreground or background) have ended, whatever
# their result. At its place in the list its output is echoed and counted
# as if it had run there, once it has ended. The kernel lanes' results are
# kept in README.md's table of tested kernels (scripts/kernels-table.sh).
# Usage: check.sh NAME[^AFTER,...]=COMMAND...
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
pass=0 fail=0 skip=0 kernels=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Lane i's name is name_of[i]; index_of[NAME] is i. A lane's end, in
# either place, is the file $tmp/i.end (the time it ended).
declare -A bg_pid bg_start index_of name_of
i=0
for lane in "$@"; do
	i=$((i + 1))
	head=${lane%%=*}
	name=${head%%^*}
	name_of[$i]=${name#+}
	index_of[${name#+}]=$i
done

# wait_for NAMES: until each lane of the comma-separated NAMES has ended;
# fails if the check itself has ended ($tmp gone).
wait_for() {
	local dep
	for dep in ${1//,/ }; do
		while [ ! -e "$tmp/${index_of[$dep]}.end" ]; do
			[ -d "$tmp" ] || return 1
			sleep 2
		done
	done
}

i=0
for lane in "$@"; do
	i=$((i + 1))
	head=${lane%%=*}
	case $head in
	+*)
		after=
		case $head in *^*) after=${head#*^} ;; esac
		for dep in ${after//,/ }; do
			if [ -z "${index_of[$dep]:-}" ]; then
				echo "not ok - lane ${name_of[$i]} waits for $dep, which is no lane"
				echo "0 passed, 1 failed"
				exit 1
			fi
		done
		cmd=${lane#*=}
		(
			wait_for "$after" || exit 1
			date +%s >"$tmp/$i.start"
			bash -c "$cmd"
			rc=$?
			date +%s >"$tmp/$i.end"
			exit $rc
		) >"$tmp/$i.log" 2>&1 </dev/null &
		bg_pid[$i]=$!
		bg_start[$i]=$(date +%s)
		;;
	esac
done

i=0
for lane in "$@"; do
	i=$((i + 1))
	name=${name_of[$i]}
	cmd=${lane#*=}
	log=$tmp/$i.log
	echo "# lane $name: $cmd"
	if [ -n "${bg_pid[$i]:-}" ]; then
		start=${bg_start[$i]}
		wait "${bg_pid[$i]}"
		rc=$?
		cat "$log"
		began=$(cat "$tmp/$i.start" 2>/dev/null || echo "$start")
		echo "# lane $name: ran in the background from $((began - start)) s to $(($(cat "$tmp/$i.end" 2>/dev/null || date +%s) - start)) s after the start of the check"
		# Counted as this lane's time: from its own start to its end.
		start=$began
	else
		start=$(date +%s)
		bash -c "$cmd" 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]}
		date +%s >"$tmp/$i.end"
	fi
	# This lane's count: p passed, f failed, s skipped.
	sum=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -n "$sum" ]; then
		p=$(echo "$sum" | sed -E 's/^([0-9]+) passed.*/\1/')
		f=$(echo "$sum" | sed -E 's/.* ([0-9]+) failed.*/\1/')
		s=$(echo "$sum" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
		s=${s:-0}
		[ "$rc" != 0 ] && [ "$f" = 0 ] && f=1 &&
			echo "# lane $name: exit $rc with no failed test: counted as a failure"
	else
		p=0 f=0 s=0
		[ "$rc" = 0 ] && p=1 || f=1
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	secs=$(($(cat "$tmp/$i.end" 2>/dev/null || date +%s) - start))
	echo "# lane $name: exit $rc after $secs s"
	# A kernel lane's result goes to README.md's table of tested kernels
	# (not the lanes that prepare chroots and kernels, nor a run of some
	# tests only: MNI_KERNELS_TABLE=0).
	case ${MNI_KERNELS_TABLE:-1}:$name in
	0:* | *:*-prepare | *:*-chroot | *:debug-kernel-*) ;;
	*:stock-* | *:matrix-* | *:debug-*)
		"$top/scripts/kernels-table.sh" record "$name" "$log" "$secs" \
			"$p" "$f" "$s" &&
			kernels=1 ;;
	esac
done

if [ "$kernels" = 1 ] && ! "$top/scripts/kernels-table.sh" readme; then
	echo "not ok - README.md's table of tested kernels not written"
	fail=$((fail + 1))
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
