#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# guest-scale.sh [PROCS [MAX_K]] - mni_scale on both drivers, inside the
# QEMU guest (tests/qemu/scale.sh boots it)
#
# Loads the three modules, runs mni_scale on the kernel's flavour and on
# ours (PROCS and MAX_K, when given, become MNI_SCALE_PROCS and
# MNI_SCALE_MAX_K), unloads them, which fails if a subscription or a
# registration leaked, and ends with one "N passed, N failed" line.

G=/guest
pass=0 fail=0 skipped=0

[ -z "${1:-}" ] || export MNI_SCALE_PROCS="$1"
[ -z "${2:-}" ] || export MNI_SCALE_MAX_K="$2"
echo "# guest-scale: $(uname -r), $(nproc) cpus, $(grep MemTotal /proc/meminfo)"
for m in mmu_interval_notifier mni_test_mni mni_test_kern; do
	insmod "$G/$m.ko" || { echo "Bail out! insmod $m failed"; exit 1; }
done
for flav in kern mni; do
	"$G/mni_scale" "/dev/mni_test_$flav" >/tmp/scale.$flav 2>&1
	rc=$?
	sed -e 's/^\(not \)\{0,1\}ok [0-9]* /&'"$flav"'\//' /tmp/scale.$flav |
		grep -v -e '^TAP version' -e '^1\.\.' -e ' passed, '
	sum=$(grep -E '^[0-9]+ passed, [0-9]+ failed' /tmp/scale.$flav | tail -n 1)
	p=$(echo "$sum" | sed -n 's/^\([0-9]*\) passed, .*/\1/p')
	f=$(echo "$sum" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	s=$(echo "$sum" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
	[ -n "$p" ] || { p=0; f=1; echo "not ok $flav/mni_scale exit $rc"; }
	pass=$((pass + p)) fail=$((fail + f)) skipped=$((skipped + ${s:-0}))
done
for m in mni_test_mni mni_test_kern mmu_interval_notifier; do
	rmmod "$m" || { echo "not ok rmmod $m"; fail=$((fail + 1)); }
done
echo "$pass passed, $fail failed, $skipped skipped"
