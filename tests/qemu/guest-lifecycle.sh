#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# guest-lifecycle.sh [CYCLES] - load / work / unload loop, inside the guest
#
# CYCLES times (default 200): insmod mmu_interval_notifier.ko and
# mni_test_mni.ko, run mni_triggers' lifecycle_workload (four processes
# that mirror, fault and munmap and exit with subscriptions still
# inserted, then a close with one left), rmmod both. Every step must
# succeed: an rmmod refused means a reference or registration leaked. The
# console is judged by run.sh (warnings, KASAN, lockdep) and on the debug
# kernel guest-debug.sh's kmemleak scan afterwards catches leaked memory.
# Expects the modules unloaded on entry; run from guest-check.sh.

G=/guest
cycles=${1:-200}
i=0
t0=$(date +%s)
while [ "$i" -lt "$cycles" ]; do
	i=$((i + 1))
	if ! insmod "$G/mmu_interval_notifier.ko"; then
		echo "cycle $i: insmod mmu_interval_notifier failed"
		exit 1
	fi
	if ! insmod "$G/mni_test_mni.ko"; then
		echo "cycle $i: insmod mni_test_mni failed"
		rmmod mmu_interval_notifier
		exit 1
	fi
	if ! out=$("$G/mni_triggers" /dev/mni_test_mni lifecycle_workload 2>&1); then
		echo "cycle $i: workload failed"
		echo "$out"
		exit 1
	fi
	if ! rmmod mni_test_mni; then
		echo "cycle $i: rmmod mni_test_mni failed"
		exit 1
	fi
	if ! rmmod mmu_interval_notifier; then
		echo "cycle $i: rmmod mmu_interval_notifier failed (leaked reference?)"
		exit 1
	fi
done
echo "$cycles cycles in $(($(date +%s) - t0)) s"
