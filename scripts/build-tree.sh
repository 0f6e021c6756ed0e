#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the module and both test-driver flavours against a kernel other
# than the default one, in a copy of the sources, so the in-tree objects
# built for the default kernel stay as they are.
# Usage: build-tree.sh KDIR OUTDIR [make variables...]
# Leaves OUTDIR/mmu_interval_notifier.ko and OUTDIR/tests/driver/*.ko.
set -eu
kdir=$1
mkdir -p "$2"
out=$(cd "$2" && pwd)
shift 2
top=$(cd "$(dirname "$0")/.." && pwd)

mkdir -p "$out/tests"
# Sources only: objects of another kernel must not leak in.
tar -C "$top" -cf - --exclude='*.o' --exclude='*.ko' --exclude='*.mod*' \
	--exclude='.*.cmd' --exclude='Module.symvers' --exclude='modules.order' \
	--exclude='mni_config.h' \
	Kbuild VERSION src include scripts tests/driver tests/Makefile |
	tar -C "$out" -xf -
make -s -C "$kdir" M="$out" W=1 "$@" modules
make -s -C "$out/tests" driver KDIR="$kdir" \
	MNI_SYMVERS="$out/Module.symvers" "$@"
