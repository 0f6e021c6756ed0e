#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# guest-bench.sh [mni_bench ARGS] - the benchmarks, inside the QEMU guest
#
# Runs under busybox sh with its files in /guest/ (see run.sh --add):
# mmu_interval_notifier.ko, mni_test_mni.ko, mni_test_kern.ko, mni_bench.
# Loads the three modules, runs mni_bench (its CSV goes to stdout), then
# unloads them again, which fails if a subscription or a registration
# leaked. tests/bench/bench.sh boots this and collects the CSV.

G=/guest
rc=0

echo "# guest-bench: $(uname -r), $(nproc) cpus, $(grep MemTotal /proc/meminfo)"
for m in mmu_interval_notifier mni_test_mni mni_test_kern; do
	insmod "$G/$m.ko" || { echo "# guest-bench: insmod $m failed"; exit 1; }
done

# bench.sh --trace: measure with every mni tracepoint on.
if grep -q 'mni_bench_trace=1' /proc/cmdline; then
	t=/sys/kernel/tracing
	[ -d "$t/events" ] || t=/sys/kernel/debug/tracing
	echo 1 >"$t/events/mni/enable" &&
		echo "# guest-bench: mni tracepoints enabled" ||
		{ echo "# guest-bench: cannot enable mni tracepoints"; exit 1; }
fi

"$G/mni_bench" "$@" || rc=$?
echo "# guest-bench: mni_bench exit $rc"

for m in mni_test_mni mni_test_kern mmu_interval_notifier; do
	rmmod "$m" || { echo "# guest-bench: rmmod $m failed"; rc=1; }
done
exit "$rc"
