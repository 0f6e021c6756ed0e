#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Functions run through trap and check(), not unreachable:
# shellcheck disable=SC2317
#
# tests/dkms/run.sh - the Debian package and DKMS, end to end (TAP)
#
# As root on Debian 12. For the stock kernel release KVER (scripts/kver.sh):
#   1. builds mmu-interval-notifier-dkms with dpkg-buildpackage, lintian clean
#      (scripts/build-deb.sh, into build/deb/);
#   2. in an overlay over a cached bookworm chroot with linux-headers-KVER
#      (tests/dkms/chroot.sh; the overlay is thrown away afterwards):
#      installs the .deb, so DKMS builds, signs and installs the module and
#      keeps its Module.symvers; registers the sample consumer
#      (samples/consumer, as shipped in the package's examples) whose
#      dkms.conf has BUILD_DEPENDS=("mmu-interval-notifier"); checks that
#      autoinstall refuses it without its dependency and builds both in order
#      with it; checks the refusals: no MNI_IMPORT_NS() (modpost), a kernel
#      without CONFIG_MMU_NOTIFIER (BUILD_EXCLUSIVE_CONFIG), no installed
#      module (mni.mk), and the module's own Kbuild for a kernel without
#      CONFIG_MMU_NOTIFIER;
#   3. boots the stock KVER kernel in QEMU with the chroot's
#      /lib/modules/KVER (tests/dkms/guest-dkms.sh): modprobe of the consumer
#      pulls in mmu_interval_notifier, which then refuses to unload; the
#      consumer's self-test mirrors pages and sees their invalidations; a
#      consumer without the namespace import and one built against altered
#      CRCs are refused at load;
#   4. kernel upgrade: installs the newest bookworm-backports kernel headers
#      (with their image, no initramfs), checks that DKMS's hook
#      autoinstalls both modules for that kernel, in order, and boots that
#      image with them as in 3. (MNI_DKMS_UPGRADE=0 skips it; about 130 MB
#      of .debs, cached);
#   5. purges the package and checks that nothing of it is left;
#   6. runs the package's autopkgtest (Testsuite: autopkgtest-pkg-dkms) in
#      the purged chroot with the null runner (MNI_DKMS_AUTOPKGTEST=0 skips
#      it).
# MNI_KEEP=1 keeps the overlay's upper layer (under TMPDIR, default /var/tmp).
# Logs: build/logs/dkms/. Ends with "N passed, N failed, N skipped".

set -u

here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here" || exit 1

logs=$here/build/logs/dkms
# shellcheck source=tests/dkms/lib.sh
. "$here/tests/dkms/lib.sh"
private_ns "$0" "$@"
rm -rf "$logs"
mkdir -p "$logs"
lane="dkms lane"

# Host tools of this lane, on top of scripts/deps.sh's list. DKMS itself
# runs only in the chroot.
DKMS_HOST_PKGS="build-essential debhelper dh-dkms lintian debootstrap dpkg-dev cpio"
if MNI_EXTRA_PKGS="$DKMS_HOST_PKGS" scripts/deps.sh >"$logs/deps.log" 2>&1; then
	ok "host packages ($DKMS_HOST_PKGS)"
else
	show "$logs/deps.log"
	bail "$lane" "host packages ($DKMS_HOST_PKGS)"
fi

kver=$(scripts/kver.sh) || bail "$lane" "scripts/kver.sh names a kernel"
ver=$(cat VERSION)
arch=$(uname -m)
echo "# kernel $kver, version $ver, arch $arch"

# ------------------------------------------------------------ versions
conf_ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' dkms.conf)
deb_ver=$(dpkg-parsechangelog -S Version)
if [ "$conf_ver" = "$ver" ] && [ "${deb_ver%-*}" = "$ver" ]; then
	ok "VERSION, dkms.conf and debian/changelog agree ($ver)"
else
	nok "VERSION ($ver), dkms.conf ($conf_ver), debian/changelog ($deb_ver) agree"
fi

# ------------------------------------------------------------ package
start=$(date +%s)
if deb=$(scripts/build-deb.sh "$here/build/deb" 2>"$logs/build-deb.log"); then
	ok "dpkg-buildpackage -us -uc -b builds $(basename "$deb"), lintian clean ($(( $(date +%s) - start )) s)"
	grep '^build-deb: lintian:' "$logs/build-deb.log" | diag
else
	show "$logs/build-deb.log" 30
	bail "$lane" "the package builds and is lintian clean"
fi

# ------------------------------------------------------------ chroot
start=$(date +%s)
if base=$(tests/dkms/chroot.sh "$kver" 2>"$logs/chroot.log"); then
	ok "bookworm chroot with linux-headers-$kver ($(( $(date +%s) - start )) s)"
else
	show "$logs/chroot.log"
	bail "$lane" "bookworm chroot with linux-headers-$kver"
fi

if ! overlay "$base" ||
	! mount --bind "${base%/*}/debs" "$root/var/cache/apt/archives"; then
	bail "$lane" "overlay over $base"
fi

cp "$deb" "$root/tmp/mni/"
debname=$(basename "$deb")

# ------------------------------------------------------------ install
start=$(date +%s)
if inch install dpkg -i "/tmp/mni/$debname"; then
	ok "dpkg -i $debname: DKMS builds for $kver ($(( $(date +%s) - start )) s)"
else
	show "$logs/install.log" 30
	f=$root$dtree/$pkg/$ver/build/make.log
	[ -f "$f" ] && show "$f" 30
	nok "dpkg -i $debname: DKMS builds for $kver"
fi
status | diag
if installed "$pkg" "$kver"; then
	ok "dkms status: $pkg/$ver, $kver: installed"
else
	nok "dkms status: $pkg/$ver, $kver: installed"
fi
ko=$root/lib/modules/$kver/updates/dkms/mmu_interval_notifier.ko
if [ -f "$ko" ]; then
	vm=$(modinfo -F vermagic "$ko")
	ok "/lib/modules/$kver/updates/dkms/mmu_interval_notifier.ko (vermagic $vm)"
	case $vm in
	"$kver "*) ok "built for $kver, not for the running kernel" ;;
	*) nok "built for $kver, not for the running kernel (vermagic $vm)" ;;
	esac
	signer=$(modinfo -F signer "$ko")
	if [ -n "$signer" ] && [ -f "$root$dtree/mok.pub" ]; then
		ok "signed with DKMS's MOK key ($signer; $dtree/mok.pub for mokutil)"
	else
		nok "signed with DKMS's MOK key (signer '$signer')"
	fi
else
	nok "/lib/modules/$kver/updates/dkms/mmu_interval_notifier.ko"
fi
symvers=$dtree/$pkg/kernel-$kver-$arch/module/Module.symvers
nexp=$(grep -c -E '^0x[0-9a-f]+	mni_[a-z_]+	.*	EXPORT_SYMBOL_GPL	MNI$' "$root$symvers" 2>/dev/null)
if [ "${nexp:-0}" -ge 4 ]; then
	ok "POST_BUILD kept $symvers ($nexp exports in namespace MNI)"
else
	nok "POST_BUILD kept $symvers with the MNI exports"
	diag <"$root$symvers"
fi
check "headers in /usr/src/$pkg-$ver/include and /usr/share/$pkg/mni.mk" \
	test -f "$root/usr/src/$pkg-$ver/include/mni_compat.h" -a \
	-f "$root/usr/src/$pkg-$ver/include/mni.h" -a -f "$root/usr/share/$pkg/mni.mk"

# ------------------------------------------------------------ consumer
# The sample as the package ships it, registered the way a vendor package
# would: its source in /usr/src/<name>-<version>, then dkms add.
inch consumer cp -r "/usr/share/doc/$pkg-dkms/examples/consumer" "/usr/src/$con-$cver"
check "dkms add $con/$cver (the packaged example)" inch consumer dkms add "$con/$cver"

# Without its dependency registered, autoinstall must hold it back.
inch deps dkms remove "$pkg/$ver" --all
inch deps dkms autoinstall -k "$kver"
rc=$?
if [ "$rc" != 0 ] && grep -q "$con/$cver autoinstall failed due to missing dependencies: $pkg" \
	"$logs/deps.log" && ! installed "$con" "$kver"; then
	ok "autoinstall holds $con back without $pkg (BUILD_DEPENDS)"
else
	nok "autoinstall holds $con back without $pkg (BUILD_DEPENDS; rc $rc)"
	show "$logs/deps.log"
fi

start=$(date +%s)
inch autoinstall dkms add "$pkg/$ver"
if inch autoinstall dkms autoinstall -k "$kver" && installed "$pkg" "$kver" &&
	installed "$con" "$kver"; then
	ok "dkms autoinstall -k $kver builds and installs both ($(( $(date +%s) - start )) s)"
else
	nok "dkms autoinstall -k $kver builds and installs both"
	show "$logs/autoinstall.log" 30
	f=$root$dtree/$con/$cver/build/make.log
	[ -f "$f" ] && show "$f" 30
fi
status | diag
check "$pkg was installed before $con" in_order "$logs/autoinstall.log"
check "mni_sample_mirror depends on mmu_interval_notifier, imports MNI, in modules.dep" \
	depends_ok "$kver"

# ------------------------------------------------------------ refusals
mkneg mni_noimport
sed -i '/^MNI_IMPORT_NS();$/d' "$root/tmp/neg/mni_noimport/mni_noimport.c"
build_refused noimport 'but does not import it' \
	"a consumer without MNI_IMPORT_NS() fails to build (modpost)" "$kver" /tmp/neg/mni_noimport
# The same linked as the kernel would not, and one with other CRCs, for the
# load-time refusals in QEMU.
build_negatives "$kver" "$ver"

mkneg mni_nomodule
build_refused nomodule 'mni.mk: mmu-interval-notifier is not installed' \
	"mni.mk stops when the module is not installed for the kernel" \
	"$kver" /tmp/neg/mni_nomodule MNI_KVER=0.0.0-none

# A kernel without CONFIG_MMU_NOTIFIER: a source dir whose .config lacks it.
fake=/tmp/neg/ksrc-nomn
mkdir -p "$root$fake"
# (The build link is absolute: read it in the chroot.)
q cat "/lib/modules/$kver/build/.config" | grep -v '^CONFIG_MMU_NOTIFIER=' >"$root$fake/.config"
inch exclusive dkms build "$pkg/$ver" -k "$kver-nomn" --kernelsourcedir "$fake"
rc=$?
if [ "$rc" = 77 ] && grep -q 'BUILD_EXCLUSIVE directive which does not match' "$logs/exclusive.log"; then
	ok "DKMS refuses a kernel without CONFIG_MMU_NOTIFIER (BUILD_EXCLUSIVE_CONFIG, exit 77)"
	grep -A1 'BUILD_EXCLUSIVE' "$logs/exclusive.log" | diag
else
	nok "DKMS refuses a kernel without CONFIG_MMU_NOTIFIER (exit $rc)"
	show "$logs/exclusive.log"
fi

refuses_no_notifier "$kver" "$ver"

# ------------------------------------------------------------ QEMU
if img=$(tests/qemu/kernel.sh "$kver" 2>"$logs/kernel.log"); then
	boot_guest "$kver" "$img"
else
	nok "stock kernel image $kver"
	show "$logs/kernel.log"
fi

# ------------------------------------------------------------ upgrade
# A second kernel's headers arrive: DKMS's kernel hook must autoinstall
# both modules for it, in BUILD_DEPENDS order.
bpo_headers() {
	q apt-cache depends -t bookworm-backports linux-headers-amd64 |
		sed -n 's/^ *Depends: \(linux-headers-.*-amd64\)$/\1/p' | head -n 1
}
bpo_install() {
	inch upgrade apt-get install -y --no-install-recommends -t bookworm-backports "$1"
}
if [ "${MNI_DKMS_UPGRADE:-1}" = 1 ]; then
	start=$(date +%s)
	# The headers bring their kernel image; no initramfs is wanted for it.
	inch upgrade dpkg-divert --local --rename --add /usr/sbin/update-initramfs
	ln -s /bin/true "$root/usr/sbin/update-initramfs"
	bpo=$(bpo_headers)
	# The cached lists may be stale: refresh them once on failure.
	if [ -z "$bpo" ] || ! bpo_install "$bpo"; then
		inch upgrade apt-get update
		bpo=$(bpo_headers)
		[ -n "$bpo" ] && ! bpo_install "$bpo" && bpo=
	fi
	if [ -z "$bpo" ]; then
		nok "bookworm-backports kernel headers install"
		show "$logs/upgrade.log"
	else
		bk=${bpo#linux-headers-}
		if installed "$pkg" "$bk" && installed "$con" "$bk"; then
			ok "installing $bpo autoinstalls both modules for $bk ($(( $(date +%s) - start )) s)"
		else
			nok "installing $bpo autoinstalls both modules for $bk"
			status | diag
			show "$logs/upgrade.log" 30
		fi
		check "... $pkg first" in_order "$logs/upgrade.log"
		check "both still installed for $kver" installed "$con" "$kver"
		# And they load on the new kernel (its image came with the headers).
		build_negatives "$bk" "$ver"
		boot_guest "$bk" "$root/boot/vmlinuz-$bk"
	fi
else
	skipped "kernel upgrade: DKMS builds for a second kernel" "MNI_DKMS_UPGRADE=0"
fi

# ------------------------------------------------------------ purge
purge_all

# ------------------------------------------------------------ autopkgtest
# The Testsuite: autopkgtest-pkg-dkms of debian/control, on the clean
# (purged) chroot. The null runner lacks "revert-full-system": breaks-testbed
# is ignored because this testbed is a throw-away overlay.
if [ "${MNI_DKMS_AUTOPKGTEST:-1}" = 1 ]; then
	start=$(date +%s)
	tree=$here/build/deb/source/$(dpkg-parsechangelog -S Source)
	cp -a "$tree" "$root/tmp/mni/src"
	aptin() {
		inch autopkgtest apt-get install -y --no-install-recommends autopkgtest autodep8
	}
	if ! aptin && ! { inch autopkgtest apt-get update && aptin; }; then
		nok "apt-get install autopkgtest autodep8"
		show "$logs/autopkgtest.log"
	else
		inch autopkgtest autopkgtest --ignore-restrictions=breaks-testbed \
			"/tmp/mni/$debname" /tmp/mni/src/ -- null
		rc=$?
		# 8: "no tests", as autopkgtest counts a superficial-only pass.
		if { [ "$rc" = 0 ] || [ "$rc" = 8 ]; } &&
			grep -qE '^dkms-autopkgtest +PASS' "$logs/autopkgtest.log" &&
			! grep -qE '^I: FAIL' "$logs/autopkgtest.log"; then
			ok "autopkgtest (autopkgtest-pkg-dkms) passes ($(( $(date +%s) - start )) s)"
		else
			nok "autopkgtest (autopkgtest-pkg-dkms) passes (exit $rc)"
			show "$logs/autopkgtest.log" 30
		fi
		grep -E '^I: (PASS|FAIL)' "$logs/autopkgtest.log" | diag
	fi
else
	skipped "autopkgtest (autopkgtest-pkg-dkms)" "MNI_DKMS_AUTOPKGTEST=0"
fi

finish "$lane"
