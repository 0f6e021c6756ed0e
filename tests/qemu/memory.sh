#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/qemu/memory.sh [MMS [SUBS]] - kernel memory per mm and per
# subscription, ours against the kernel's engine, at 8 and at 256 possible
# CPUs (the possible_cpus= boot parameter: no 256 vCPUs needed)
#
# Boots the stock kernel ($KVER) twice and runs tests/qemu/guest-memory.sh
# (mni_memory on both drivers) in each. Prints the guests' TAP, then the
# table, and these checks of its own:
#   - ours per mm does not grow with the CPU count: from 8 to 256, by no
#     more than the kernel's engine (which has nothing per CPU) changes
#     between the same two boots, up or down, plus 512 bytes of reading
#     noise;
#   - ours costs at most 4 KiB more per mm than the kernel's engine (the
#     spare records), and nothing more per subscription than it (within
#     128 bytes of reading noise).
# Writes results/memory.csv. Needs the modules and suites built (make
# tests). Ends with "N passed, N failed".

set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
kver=${KVER:-$(scripts/kver.sh)}
kernel=$(tests/qemu/kernel.sh "$kver") || exit 2
out=${MNI_MEMORY_OUT:-results}
mkdir -p "$out" build/logs
csv=$out/memory.csv
: >"$csv"
pass=0 fail=0

for cpus in 8 256; do
	raw=$(mktemp)
	tests/qemu/run.sh --kernel "$kernel" --timeout 600 \
		--log "build/logs/memory-$cpus-$kver.log" \
		--append "possible_cpus=$cpus" \
		--add mmu_interval_notifier.ko \
		--add tests/driver/mni_test_mni.ko \
		--add tests/driver/mni_test_kern.ko \
		--add tests/bench/mni_memory \
		--script tests/qemu/guest-memory.sh -- "$@" >"$raw"
	rc=$?
	grep -v '^csv,' "$raw" | sed -e "s/^\(not \)\{0,1\}ok [0-9]* /&cpus$cpus\//" \
		-e '/ passed, .* failed/d'
	grep '^csv,memory,' "$raw" >>"$csv"
	sum=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$raw" | tail -n 1)
	p=${sum%% passed*} f=${sum#*, }
	f=${f%% failed*}
	if [ -z "$sum" ]; then
		echo "not ok cpus$cpus/guest # run.sh exit $rc, no summary"
		p=0 f=1
	elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "not ok cpus$cpus/guest # run.sh exit $rc (console report?)"
		f=1
	fi
	pass=$((pass + p)) fail=$((fail + f))
	rm -f "$raw"
done

val() { awk -F, -v e="$1" -v c="$2" -v k="$3" \
	'$3 == e && $4 == c && $5 == k { print $6 }' "$csv"; }
check() {
	if [ "$1" = 1 ]; then
		echo "ok $((pass + fail + 1)) $2"; pass=$((pass + 1))
	else
		echo "not ok $((pass + fail + 1)) $2"; fail=$((fail + 1))
	fi
}
le() { [ -n "$1" ] && [ -n "$2" ] && [ "$1" -le "$2" ] && echo 1 || echo 0; }

echo "# bytes (slab + per-CPU + vmalloc), the test driver's bare struct included:"
echo "# | possible CPUs | per mm, kernel's | per mm, ours | per subscription, kernel's | per subscription, ours |"
for cpus in 8 256; do
	echo "# | $cpus | $(val kern "$cpus" per_mm) | $(val mni "$cpus" per_mm) | $(val kern "$cpus" per_sub) | $(val mni "$cpus" per_sub) |"
done
# The kernel's engine keeps nothing per CPU either: its own change between
# the two boots, up or down, is their reading noise, so ours may not grow
# by more than that much, plus 512 bytes. A per-CPU word per mm would
# grow it by 248 words.
m8=$(val mni 8 per_mm) m256=$(val mni 256 per_mm)
k8=$(val kern 8 per_mm) k256=$(val kern 256 per_mm)
flat=0
if [ -n "$m8" ] && [ -n "$m256" ] && [ -n "$k8" ] && [ -n "$k256" ]; then
	noise=$((k256 - k8))
	flat=$(le "$((m256 - m8))" "$((${noise#-} + 512))")
fi
check "$flat" \
	"ours per mm does not grow with possible CPUs ($m8 at 8, $m256 at 256; the kernel's $k8, $k256)"
for cpus in 8 256; do
	k=$(val kern "$cpus" per_mm) m=$(val mni "$cpus" per_mm)
	check "$(le "$m" "$((${k:-0} + 4096))")" \
		"ours per mm at most 4 KiB above the kernel's at $cpus CPUs ($m, $k)"
	k=$(val kern "$cpus" per_sub) m=$(val mni "$cpus" per_sub)
	check "$(le "$m" "$((${k:-0} + 128))")" \
		"ours per subscription no more than the kernel's at $cpus CPUs ($m, $k)"
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
