#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# guest-memory.sh [MMS [SUBS]] - mni_memory on both drivers, inside the
# QEMU guest (tests/qemu/memory.sh boots it once per possible-CPU count)
#
# Loads the three modules, runs mni_memory on the kernel's flavour and on
# ours (its csv lines go to the host), unloads them, and ends with one
# "N passed, N failed" line.

G=/guest
pass=0 fail=0

for m in mmu_interval_notifier mni_test_mni mni_test_kern; do
	insmod "$G/$m.ko" || { echo "Bail out! insmod $m failed"; exit 1; }
done
for flav in kern mni; do
	"$G/mni_memory" "/dev/mni_test_$flav" "$@" >/tmp/mem.$flav 2>&1
	rc=$?
	sed -e 's/^\(not \)\{0,1\}ok [0-9]* /&'"$flav"'\//' /tmp/mem.$flav |
		grep -v -e '^TAP version' -e '^1\.\.' -e ' passed, '
	p=$(sed -n 's/^\([0-9]*\) passed, .*/\1/p' /tmp/mem.$flav)
	f=$(sed -n 's/.* \([0-9]*\) failed$/\1/p' /tmp/mem.$flav)
	[ -n "$p" ] || { p=0; f=1; echo "not ok $flav/mni_memory exit $rc"; }
	pass=$((pass + p)) fail=$((fail + f))
done
for m in mni_test_mni mni_test_kern mmu_interval_notifier; do
	rmmod "$m" || { echo "not ok rmmod $m"; fail=$((fail + 1)); }
done
echo "$pass passed, $fail failed"
