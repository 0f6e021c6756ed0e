#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Self-check of the QEMU runner: boots the cached stock kernel a few times and
# checks that tests/qemu/run.sh passes a clean run and fails the bad ones.
#
# usage: tests/qemu/selftest.sh [--quick] [--kernel PATH]
#   --quick   only the clean boot and the WARNING boot (two boots, ~15 s)
#   --kernel  boot PATH instead of the Debian kernel for scripts/kver.sh
# Prints TAP and a closing "N passed, N failed"; exits 1 when a check failed.

set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
run=$here/run.sh

quick=0 kernel='' kver=''
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1; shift ;;
	--kernel) [ $# -ge 2 ] || exit 2; kernel=$2; shift 2 ;;
	*) echo "usage: $0 [--quick] [--kernel PATH]" >&2; exit 2 ;;
	esac
done
if [ -z "$kernel" ]; then
	kver=$("$top/scripts/kver.sh")
	kernel=$("$here/kernel.sh" "$kver")
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/mni-selftest.XXXXXX")
trap 'rm -rf "$work"' EXIT

n=0 passed=0 failed=0
if [ "$quick" = 1 ]; then echo "1..2"; else echo "1..6"; fi

# check NAME EXPECT(pass|fail) GREP_STDOUT GREP_STDERR -- run.sh args...
# Runs run.sh with the given arguments; the run must end as EXPECTed and
# its stdout / stderr must match each of the given extended regexes (one per
# line; '' = anything).
check() {
	local name=$1 expect=$2 want_out=$3 want_err=$4 rc t0 t1 re why=''
	shift 5
	n=$((n + 1))
	t0=$(date +%s.%N)
	rc=0
	"$run" --kernel "$kernel" --log "$work/$n.log" "$@" \
		</dev/null >"$work/$n.out" 2>"$work/$n.err" || rc=$?
	t1=$(date +%s.%N)
	if [ "$expect" = pass ] && [ "$rc" != 0 ]; then
		why="run.sh exited $rc, expected 0"
	elif [ "$expect" = fail ] && [ "$rc" != 1 ]; then
		why="run.sh exited $rc, expected 1"
	else
		while IFS= read -r re; do
			[ -z "$re" ] || grep -Eq -- "$re" "$work/$n.out" ||
				why="${why}stdout lacks /$re/; "
		done <<<"$want_out"
		while IFS= read -r re; do
			[ -z "$re" ] || grep -Eq -- "$re" "$work/$n.err" ||
				why="${why}stderr lacks /$re/; "
		done <<<"$want_err"
	fi
	local secs
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	if [ -z "$why" ]; then
		passed=$((passed + 1))
		echo "ok $n - $name (${secs} s)"
	else
		failed=$((failed + 1))
		echo "not ok $n - $name (${secs} s)"
		echo "# $why"
		sed 's/^/# stdout: /' "$work/$n.out" | tail -n 20
		sed 's/^/# stderr: /' "$work/$n.err" | tail -n 30
	fi
}

cat >"$work/boot.sh" <<'EOF'
echo "ok 1 - booted"
uname -r
echo "args=$#:$1:$2"
for fs in proc sysfs devtmpfs debugfs tmpfs; do
	grep -q " $fs " /proc/mounts || { echo "not mounted: $fs"; exit 1; }
done
[ -f /guest/added/file ] || { echo "missing --add file"; exit 1; }
echo "MNI_GUEST=$MNI_GUEST"
EOF
mkdir -p "$work/added"
echo data >"$work/added/file"
printf 'echo "WARNING: test" >/dev/kmsg\necho "ok 1 - warned"\n' >"$work/warn.sh"
printf 'echo "not ok 1 - deliberate"\nexit 3\n' >"$work/rc.sh"
printf 'echo c >/proc/sysrq-trigger\necho "still alive"\n' >"$work/panic.sh"
printf 'echo "sleeping"\nsleep 100000\n' >"$work/hang.sh"

kre=.
[ -z "$kver" ] || kre="^$(printf '%s' "$kver" | sed 's/[.]/[.]/g')\$"
check "clean boot passes, guest output and uname -r on stdout" pass \
	"^ok 1 - booted\$
$kre
^args=2:a b:c'd\$
^MNI_GUEST=1\$" "PASS" -- \
	--script "$work/boot.sh" --add "$work/added" -- "a b" "c'd"
check "WARNING on the console fails the run" fail \
	"^ok 1 - warned\$" "^  >> .*WARNING: test" -- --script "$work/warn.sh"
if [ "$quick" = 0 ]; then
	check "guest rc != 0 fails the run" fail \
		"^not ok 1" "MNI-GUEST-EXIT rc=3" -- --script "$work/rc.sh"
	check "kernel panic fails the run" fail \
		"" "Kernel panic.*sysrq" -- --script "$work/panic.sh"
	check "--allow exempts a deliberate WARNING" pass \
		"^ok 1 - warned\$" "PASS" -- --script "$work/warn.sh" \
		--allow '^\[ *[0-9.]+\] WARNING: test$'
	check "--timeout kills a hung guest" fail \
		"" "TIMEOUT" -- --script "$work/hang.sh" --timeout 20
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
