#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/dkms/suite.sh KERNEL ROOT ABI VMLINUZ - the package and DKMS on
# another Debian suite's kernel, end to end (TAP)
#
# scripts/matrix.sh runs it for each kernel of the matrix, after the
# conformance run, with that suite's cached chroot (ROOT, with the suite's
# own dkms and compiler and linux-headers-ABI), the kernel release ABI and
# its image. As root. In a throw-away overlay over ROOT:
#   1. installs mmu-interval-notifier-dkms (built by scripts/build-deb.sh on
#      this machine, Architecture: all) with dpkg -i: the suite's DKMS
#      builds and installs the module for ABI, and its POST_BUILD keeps
#      Module.symvers. Where the suite's dkms is older than the package
#      needs (bullseye), puts the package's files in place and runs
#      dkms add, build and install itself, as a user of that suite would;
#      checks that the module's Kbuild stops with a message for a kernel
#      without CONFIG_MMU_NOTIFIER (what such a dkms would run);
#   2. registers the sample consumer from the package's examples with
#      `dkms add`, then `dkms build` and `dkms install` for ABI, against the
#      engine's Module.symvers through mni.mk; builds the two broken copies
#      of it (no MNI_IMPORT_NS(), other CRCs);
#   3. boots the suite's stock kernel VMLINUZ in QEMU with the module tree
#      DKMS and depmod made (tests/dkms/guest-dkms.sh): modprobe of the
#      consumer pulls in the engine, which refuses to unload under it; the
#      consumer's self-test runs; the broken consumers are refused at load;
#   4. purges the package (or dkms remove) and checks that nothing of it is
#      left.
# Logs: build/logs/dkms-KERNEL/. Ends with "N passed, N failed, N skipped".

set -u

if [ $# -ne 4 ]; then
	echo "usage: $0 KERNEL ROOT ABI VMLINUZ" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here" || exit 1

kernel=$1 base=$2 abi=$3 img=$4
logs=$here/build/logs/dkms-$kernel
# shellcheck source=tests/dkms/lib.sh
. "$here/tests/dkms/lib.sh"
private_ns "$0" "$@"
rm -rf "$logs"
mkdir -p "$logs"
lane="dkms on $kernel"
ver=$(cat VERSION)

if MNI_EXTRA_PKGS="debhelper dh-dkms lintian cpio" scripts/deps.sh >"$logs/deps.log" 2>&1; then
	ok "host packages (debhelper dh-dkms lintian cpio)"
else
	show "$logs/deps.log"
	bail "$lane" "host packages (debhelper dh-dkms lintian cpio)"
fi
# A package of its own: lanes never share an output directory.
if deb=$(scripts/build-deb.sh "$here/build/deb-$kernel" 2>"$logs/build-deb.log"); then
	ok "$(basename "$deb") builds, lintian clean"
else
	show "$logs/build-deb.log" 30
	bail "$lane" "the package builds and is lintian clean"
fi
[ -L "$base/lib/modules/$abi/build" ] || bail "$lane" "$base has linux-headers-$abi"
overlay "$base" || bail "$lane" "overlay over $base"
# The chroot has the kernel's headers, not its image: dkms >= 3.1 runs
# depmod only for a kernel with a modules.dep, and compresses modules the
# way the kernel's own are. The image's depmod input files and one of its
# modules (from the cached image) stand in for it: depmod over all of them
# would take a minute, and only updates/ reaches the guest. From 7.x the
# modules have a package of their own, which is not fetched: there DKMS
# installs uncompressed modules.
kmods=${img%/*}/lib/modules/$abi
one=$(cd "$kmods" && find . -path './kernel/*' -name '*.ko*' -type f | head -n 1)
if ! (cd "$kmods" && cp --parents ${one:+"$one"} modules.* "$root/lib/modules/$abi/") ||
	! inch depmod depmod -a "$abi"; then
	bail "$lane" "the modules of $abi in the chroot, as its image installs them"
fi
echo "# stand-in for the kernel's own modules: ${one:-none}"
# shellcheck disable=SC2016 # a dpkg-query format, not shell
dver=$(q dpkg-query -W -f '${Version}' dkms)
echo "# $kernel: $abi, chroot $base, dkms $dver"

# ------------------------------------------------------------ install
# dh_dkms makes the package depend on dkms >= 3.0.3-4~, the first to honour
# BUILD_EXCLUSIVE_CONFIG. With an older dkms (bullseye's 2.8.4) the package
# cannot be installed; what a user of that suite does instead is to put
# the same files in place and run dkms add, build and install.
need=$(dpkg-deb -f "$deb" Depends | sed -n 's/.*dkms (>= \([^)]*\)).*/\1/p')
cp "$deb" "$root/tmp/mni/"
start=$(date +%s)
if dpkg --compare-versions "$dver" ge "${need:-0}"; then
	via=dpkg
	if inch install dpkg -i "/tmp/mni/${deb##*/}"; then
		ok "dpkg -i ${deb##*/} with dkms $dver: DKMS builds for $abi ($(( $(date +%s) - start )) s)"
	else
		nok "dpkg -i ${deb##*/} with dkms $dver: DKMS builds for $abi"
		show "$logs/install.log" 30
		f=$root$dtree/$pkg/$ver/build/make.log
		[ -f "$f" ] && show "$f" 30
	fi
else
	via=dkms
	echo "# dkms $dver < $need (the package's Depends): its files and dkms add/build/install"
	inch install dpkg-deb -x "/tmp/mni/${deb##*/}" /
	by_hand install "$pkg/$ver" "$abi"
fi
status | diag
check "dkms status: $pkg/$ver, $abi: installed" installed "$pkg" "$abi"
vm=$(modinfo_of "$abi" mmu_interval_notifier vermagic)
case $vm in
"$abi "*) ok "$(modfile "$abi" mmu_interval_notifier) has vermagic $abi" ;;
*) nok "$pkg built for $abi (vermagic '$vm')" ;;
esac
symvers=$dtree/$pkg/kernel-$abi-$(uname -m)/module/Module.symvers
nexp=$(grep -c -E '^0x[0-9a-f]+	mni_[a-z_]+	.*	EXPORT_SYMBOL_GPL	MNI$' "$root$symvers" 2>/dev/null)
if [ "${nexp:-0}" -ge 4 ]; then
	ok "$symvers kept ($nexp exports in namespace MNI)"
else
	nok "$symvers kept with the MNI exports"
fi

refuses_no_notifier "$abi" "$ver"

# ------------------------------------------------------------ consumer
inch consumer cp -r "/usr/share/doc/$pkg-dkms/examples/consumer" "/usr/src/$con-$cver"
by_hand consumer "$con/$cver" "$abi"
check "dkms status: $con/$cver, $abi: installed" installed "$con" "$abi"
check "mni_sample_mirror depends on mmu_interval_notifier, imports MNI, in modules.dep" \
	depends_ok "$abi"
build_negatives "$abi" "$ver"

# ------------------------------------------------------------ QEMU
boot_guest "$abi" "$img"

# ------------------------------------------------------------ purge
if [ "$via" = dpkg ]; then
	purge_all
else
	inch purge dkms remove "$con/$cver" --all
	check "dkms remove $pkg/$ver --all" inch purge dkms remove "$pkg/$ver" --all
	left=$(status)
	if [ -z "$left" ]; then ok "dkms status is empty"; else nok "dkms status is empty: $left"; fi
	left=$(cd "$root" && ls lib/modules/*/updates/dkms/ 2>/dev/null)
	if [ -z "$left" ]; then ok "no module left in updates/dkms"; else nok "modules left: $left"; fi
fi

finish "$lane"
