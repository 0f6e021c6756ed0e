#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# guest-demo.sh [DEVICE] - the mirror demo, inside the QEMU guest
#
# Runs under busybox sh with mmu_interval_notifier.ko, mni_test_mni.ko and
# mni_demo in /guest/ (mni_test_kern.ko too, if DEVICE is
# /dev/mni_test_kern). Loads the modules, runs mni_demo on DEVICE (default
# /dev/mni_test_mni) and unloads them again. From the host:
#   tests/qemu/run.sh --kernel "$(tests/qemu/kernel.sh 6.1.0-56-amd64)" \
#       --log /tmp/demo.log --add mmu_interval_notifier.ko \
#       --add tests/driver/mni_test_mni.ko --add samples/demo/mni_demo \
#       --script tests/qemu/guest-demo.sh

G=/guest
dev=${1:-/dev/mni_test_mni}
rc=0

insmod "$G/mmu_interval_notifier.ko" || exit 1
insmod "$G/mni_test_mni.ko" || rc=1
if [ -f "$G/mni_test_kern.ko" ]; then
	insmod "$G/mni_test_kern.ko" || rc=1
fi

"$G/mni_demo" "$dev" || rc=1

for m in mni_test_kern mni_test_mni mmu_interval_notifier; do
	if [ -d "/sys/module/$m" ]; then
		rmmod "$m" || rc=1
	fi
done
exit $rc
