#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# arm64.sh [--prepare] [KERNEL...]
#
# The arm64 lanes: for each stock Debian arm64 KERNEL (default: 6.1 and
# 6.12-16k; also 6.12 and 6.12-rt, see scripts/arm64-root.sh)
#
#   1. cross-builds mmu_interval_notifier.ko and both test drivers at W=1
#      against the kernel's Debian arm64 headers (ARCH=arm64
#      CROSS_COMPILE=aarch64-linux-gnu-, the compiler Debian built the
#      kernel with; the headers' kbuild helpers are amd64 ones of the same
#      version) and requires no diagnostic but the BTF notice; prints the
#      probe answers (src/mni_config.h) beside amd64's for the same kernel
#      series where this machine has them;
#   2. builds the TAP suites of tests/suite with aarch64-linux-gnu-gcc
#      -static;
#   3. boots the stock arm64 kernel in QEMU (tests/qemu/run.sh --arch arm64:
#      qemu-system-aarch64 -M virt -cpu max, TCG) with panic_on_warn=1 and
#      the console scan of every QEMU lane, and runs guest-check.sh there:
#      both flavours of the conformance suite (mni_suite), the triggers with
#      the stale-read torture (mni_triggers), the OOM kills (mni_faults),
#      and the load/work/unload cycles, shortened for TCG's arm64
#      emulation (MNI_ARM64_APPEND below).
#
# 6.1 runs with 4 KiB pages, 6.12-16k with 16 KiB ones: every PAGE_SIZE
# assumption of the engine, the test driver and the suites shows there.
#
# --prepare installs the host packages (qemu-system-arm,
# gcc-aarch64-linux-gnu, libc6-dev-arm64-cross, pahole for the 6.12
# kbuild) through scripts/deps.sh and fetches each KERNEL's private root
# (scripts/arm64-root.sh), and builds nothing.
#
# Output: TAP, the guest's nested (indented) under each kernel; the last
# line sums everything, nested tests included. Logs: build/arm64/KERNEL/,
# build/logs/arm64-KERNEL.log (the QEMU console).

set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${MNI_CACHE:-/var/cache/mni}
export MNI_CACHE=$cache
cross=aarch64-linux-gnu-
host_pkgs="qemu-system-arm gcc-aarch64-linux-gnu libc6-dev-arm64-cross pahole"

# The guest's command line beyond run.sh's: as the amd64 matrix lanes
# (6 OOM kills, two fake NUMA nodes where the kernel can make them), the
# stale-read torture 8 s, and 20 load/work/unload cycles instead of 200:
# under TCG an arm64 guest runs several times slower than an amd64 one.
MNI_ARM64_APPEND=${MNI_ARM64_APPEND:-numa=fake=2 mni_oom_kills=6 mni_torture_secs=8 mni_cycles=20}

prepare_only=0
if [ "${1:-}" = --prepare ]; then
	prepare_only=1
	shift
fi
kernels=${*:-6.1 6.12-16k}

n=0 pass=0 fail=0 skip=0
ok() { n=$((n + 1)) pass=$((pass + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)) fail=$((fail + 1)); echo "not ok $n - $*"; }
diag() { sed 's/^/# /' "$@" | head -n 40; }
end() {
	echo "1..$n"
	echo "$pass passed, $fail failed, $skip skipped"
	[ "$fail" = 0 ]
	exit
}

echo "TAP version 13"
mkdir -p "$top/build/arm64" "$top/build/logs"
if MNI_EXTRA_PKGS="$host_pkgs" "$top/scripts/deps.sh" >"$top/build/arm64/deps.log" 2>&1; then
	ok "host packages ($host_pkgs)"
else
	not_ok "host packages ($host_pkgs)"
	diag "$top/build/arm64/deps.log"
	end
fi

if [ "$prepare_only" = 1 ]; then
	for k in $kernels; do
		log=$top/build/arm64/prepare-$k.log
		if r=$("$top/scripts/arm64-root.sh" "$k" 2>"$log"); then
			ok "prepare arm64 $k: ${r%% *} headers, kbuild, image, busybox"
		else
			not_ok "prepare arm64 $k"
			diag "$log"
		fi
	done
	end
fi

# A W=1 build step: TAP line, no output allowed but the BTF notice (the
# headers carry no vmlinux).
w1_step() {	# w1_step NAME LOG CMD...
	local name=$1 log=$2 rc
	shift 2
	"$@" >"$log" 2>&1
	rc=$?
	grep -v -e 'Skipping BTF generation' "$log" >"$log.diag"
	if [ "$rc" = 0 ] && [ ! -s "$log.diag" ]; then
		ok "$name"
		return 0
	fi
	not_ok "$name"
	diag "$log.diag"
	return 1
}

# probes FILE: the answers of a src/mni_config.h on one line, its kernel
# first ("!" before what that kernel does not have).
probes() {
	sed -n -e 's|^/\* \([0-9][^ ]*\) \*/$|\1:|p' \
		-e 's/^#define MNI_HAVE_\([A-Z0-9_]*\) .*/\1/p' \
		-e 's|^/\* #undef MNI_HAVE_\([A-Z0-9_]*\) \*/|!\1|p' "$1" | tr '\n' ' '
}

# newest FILE...: the one of the highest kernel version that exists.
newest() {
	local f
	for f in "$@"; do
		[ ! -f "$f" ] || echo "$f"
	done | sort -V | tail -n 1
}

# amd64_config KERNEL: an amd64 src/mni_config.h of the same series, if
# this machine has one: the tree's own build (6.1), the matrix lane's
# (6.12, 6.12-rt).
amd64_config() {
	local f
	case $1 in
	6.1) f=$top/src/mni_config.h ;;
	6.12-rt) f=$(newest "$cache"/chroots/trixie/build/6.12.*-rt-amd64/src/mni_config.h) ;;
	6.12*) f=$(newest "$cache"/chroots/trixie/build/6.12.*+deb13-amd64/src/mni_config.h) ;;
	esac
	[ -n "${f:-}" ] && [ -f "$f" ] && echo "$f"
}

for k in $kernels; do
	start=$(date +%s)
	out=$top/build/arm64/$k
	rm -rf "$out"
	mkdir -p "$out"
	if ! r=$("$top/scripts/arm64-root.sh" "$k" 2>"$out/prepare.log"); then
		not_ok "arm64 $k: headers, kbuild, image and busybox"
		diag "$out/prepare.log"
		continue
	fi
	abi=${r%% *} root=${r#* }
	kdir=$root/usr/src/linux-headers-$abi
	img=$root/boot/vmlinuz-$abi
	psz=$(sed -n 's/^CONFIG_ARM64_\([0-9]*K\)_PAGES=y$/\1/p' "$root/boot/config-$abi")
	echo "# arm64 $k: $abi, ${psz:-?}iB pages, root $root"

	bdir=$out/src
	mkdir -p "$bdir"
	if ! (cd "$top" && scripts/tree-files.sh | xargs -0 -r cp --parents -t "$bdir"); then
		not_ok "arm64 $k: copy the sources to $bdir"
		continue
	fi
	mk=(make -s -j2 ARCH=arm64 "CROSS_COMPILE=$cross" W=1)
	if ! w1_step "arm64 $k: mmu_interval_notifier.ko cross-builds at W=1, no diagnostics" \
		"$out/build-module.log" "${mk[@]}" -C "$kdir" M="$bdir" modules; then
		continue
	fi
	echo "# probes arm64 $(probes "$bdir/src/mni_config.h")"
	if amd=$(amd64_config "$k"); then
		echo "# probes amd64 $(probes "$amd")"
	fi
	if ! w1_step "arm64 $k: mni_test_mni.ko and mni_test_kern.ko cross-build at W=1, no diagnostics" \
		"$out/build-driver.log" "${mk[@]}" -C "$bdir/tests" driver KDIR="$kdir" \
		MNI_SYMVERS="$bdir/Module.symvers"; then
		continue
	fi
	# The programs guest-check.sh runs here, not all of `make suite`.
	if make -s -j2 -C "$bdir/tests" suite/mni_suite suite/mni_triggers suite/mni_faults \
		CC=${cross}gcc >"$out/build-suite.log" 2>&1; then
		ok "arm64 $k: the static test programs of tests/suite build (${cross}gcc -static)"
	else
		not_ok "arm64 $k: the static test programs of tests/suite build (${cross}gcc -static)"
		diag "$out/build-suite.log"
		continue
	fi
	echo "# arm64 $k: built in $(($(date +%s) - start)) s"

	adds=()
	for f in "$bdir/mmu_interval_notifier.ko" "$bdir/tests/driver/mni_test_mni.ko" \
		"$bdir/tests/driver/mni_test_kern.ko" "$bdir/tests/suite/mni_suite" \
		"$bdir/tests/suite/mni_triggers" "$bdir/tests/suite/mni_faults" \
		"$bdir/tests/qemu/guest-tap.sh" "$bdir/tests/qemu/guest-lifecycle.sh"; do
		adds+=(--add "$f")
	done
	while read -r m; do
		adds+=(--module "$root/$m")
	done <"$root/guest-modules"
	start=$(date +%s)
	MNI_BUSYBOX=$root/bin/busybox "$top/tests/qemu/run.sh" --arch arm64 \
		--kernel "$img" --log "$top/build/logs/arm64-$k.log" --timeout 1500 \
		--append "$MNI_ARM64_APPEND" "${adds[@]}" \
		--script "$bdir/tests/qemu/guest-check.sh" >"$out/guest.tap" 2>"$out/run.err"
	rc=$?
	sed 's/^/    /' "$out/guest.tap"
	sum=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out/guest.tap" | tail -n 1)
	if [ -n "$sum" ]; then
		read -r p _ f _ s _ <<<"$(echo "$sum" | tr -d ',')"
		pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + ${s:-0}))
	fi
	if [ "$rc" = 0 ] && [ -n "$sum" ]; then
		ok "arm64 $k: guest-check in QEMU, ${psz:-?}iB pages: $sum ($(($(date +%s) - start)) s)"
	else
		not_ok "arm64 $k: guest-check in QEMU: ${sum:-no summary}, exit $rc"
		diag "$out/run.err"
	fi
done

end
