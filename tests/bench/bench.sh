#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/bench/bench.sh [--smoke] [--trace] [--out DIR] [--only FIGURE]...
#
# Boot the stock kernel ($KVER, default scripts/kver.sh) once in QEMU and
# run every benchmark there (tests/bench/guest-bench.sh, mni_bench), the
# kernel's engine and ours side by side. Needs the modules built (make
# tests); builds mni_bench itself.
#
# Writes to DIR (default results/):
#   bench.csv   the raw numbers: mni_bench's meta and csv lines
#   bench.md    the table (tests/bench/report.py)
#   bench.svg   the plot
# and prints the table. The console log goes to build/logs/.
#
# --trace: the same run with every mni tracepoint enabled in the guest (the
# ring buffer just overwrites itself); DIR defaults to results/trace.
#
# --only FIGURE (repeatable): only those figures (mni_bench's names, e.g.
# parallel); DIR then defaults to build/bench-FIGURE..., so that results/
# keeps the full run.
#
# --smoke: a short run (two repetitions of tiny batches, under two minutes)
# that only checks that every figure was produced and is finite; prints TAP
# ending in "N passed, N failed". DIR defaults to build/bench-smoke.
#
# The guest boots with tsc=reliable: under TCG the kernel finds the vCPUs'
# TSCs unsynchronized and falls back to the HPET, whose every read is an
# emulated MMIO access costing about a microsecond; the bench reads the
# clock around every batch and the driver's callback reads it too.

set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"

smoke=0 out='' append=tsc=reliable only=() onlyname=''
while [ $# -gt 0 ]; do
	case $1 in
	--smoke) smoke=1; shift ;;
	--trace) append="$append mni_bench_trace=1"; out=${out:-results/trace}; shift ;;
	--out) [ $# -ge 2 ] || { echo "bench.sh: --out needs a directory" >&2; exit 2; }
		out=$2; shift 2 ;;
	--only) [ $# -ge 2 ] || { echo "bench.sh: --only needs a figure" >&2; exit 2; }
		only+=(--only "$2"); onlyname="$onlyname-$2"; shift 2 ;;
	*) echo "usage: bench.sh [--smoke] [--trace] [--out DIR] [--only FIGURE]..." >&2; exit 2 ;;
	esac
done

kver=${KVER:-$(scripts/kver.sh)}
if [ "$smoke" = 1 ]; then
	out=${out:-build/bench-smoke$onlyname}
	args=(-- --smoke "${only[@]}")
	timeout=300
	name=bench-smoke
else
	if [ -n "$onlyname" ]; then
		out=${out:-build/bench$onlyname}
	else
		out=${out:-results}
	fi
	args=(-- "${only[@]}")
	timeout=900
	name=bench
fi

for f in mmu_interval_notifier.ko tests/driver/mni_test_mni.ko tests/driver/mni_test_kern.ko; do
	[ -f "$f" ] || { echo "bench.sh: $f missing: run 'make tests' first" >&2; exit 2; }
done
make -s -C tests/bench
kernel=$(tests/qemu/kernel.sh "$kver")

mkdir -p "$out" build/logs
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
log=build/logs/$name-$kver.log
date=$(date -u +%F)

set +e
tests/qemu/run.sh --kernel "$kernel" --log "$log" --timeout "$timeout" \
	--append "$append" \
	--add mmu_interval_notifier.ko \
	--add tests/driver/mni_test_mni.ko \
	--add tests/driver/mni_test_kern.ko \
	--add tests/bench/mni_bench \
	--script tests/bench/guest-bench.sh "${args[@]}" |
	tee "$raw" | grep --line-buffered -v -e '^csv,' -e '^meta,'
rc=${PIPESTATUS[0]}
set -e

grep -e '^meta,' -e '^csv,' "$raw" >"$out/bench.csv" || true
echo "meta,date,$date" >>"$out/bench.csv"
echo "meta,qemu,$(${QEMU:-qemu-system-x86_64} --version | head -n 1)" >>"$out/bench.csv"

python3 tests/bench/report.py "$out/bench.csv" --md "$out/bench.md" \
	--svg "$out/bench.svg" --date "$date" >/dev/null
if [ "$smoke" = 1 ]; then
	python3 tests/bench/report.py "$out/bench.csv" --check --run-ok "$rc"
	exit $?
fi
cat "$out/bench.md"
echo
echo "bench.sh: wrote $out/bench.csv, $out/bench.md, $out/bench.svg (console log $log)"
exit "$rc"
