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
#      module (mni.mk);
#   3. boots the stock KVER kernel in QEMU with the chroot's
#      /lib/modules/KVER (tests/dkms/guest-dkms.sh): modprobe of the consumer
#      pulls in mmu_interval_notifier, which then refuses to unload; the
#      consumer's self-test mirrors pages and sees their invalidations; a
#      consumer without the namespace import and one built against altered
#      CRCs are refused at load;
#   4. kernel upgrade: installs the newest bookworm-backports kernel headers
#      (with their image, no initramfs) and checks that DKMS's hook
#      autoinstalls both modules for that kernel, in order
#      (MNI_DKMS_UPGRADE=0 skips it; about 130 MB of .debs, cached);
#   5. purges the package and checks that nothing of it is left;
#   6. runs the package's autopkgtest (Testsuite: autopkgtest-pkg-dkms) in
#      the purged chroot with the null runner (MNI_DKMS_AUTOPKGTEST=0 skips
#      it).
# MNI_KEEP=1 keeps the overlay's upper layer (under TMPDIR, default /var/tmp).
# Logs: build/logs/dkms/. Ends with "N passed, N failed, N skipped".

set -u

here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here" || exit 1

if [ "${MNI_DKMS_NS:-}" != 1 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "not ok 1 - tests/dkms/run.sh runs as root (chroot, mounts)"
		echo "0 passed, 1 failed, 0 skipped"
		exit 1
	fi
	# A private mount namespace: every mount below goes away with it.
	MNI_DKMS_NS=1 exec unshare -m --propagation private -- "$0" "$@"
fi

logs=$here/build/logs/dkms
rm -rf "$logs"
mkdir -p "$logs"
n=0 pass=0 fail=0 skip=0
t0=$(date +%s)

ok() { n=$((n + 1)) pass=$((pass + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)) fail=$((fail + 1)); echo "not ok $n - $*"; }
skipped() { n=$((n + 1)) skip=$((skip + 1)); echo "ok $n - $1 # SKIP $2"; }
diag() { sed 's/^/#   /'; }
# check DESCRIPTION COMMAND...: one test from a command's exit status.
check() {
	local d=$1
	shift
	if "$@"; then ok "$d"; else nok "$d"; fi
}
# show LOG [LINES]: the tail of a log as diagnostics.
show() { echo "#   (log $1)"; tail -n "${2:-15}" "$1" | diag; }
finish() {
	echo "1..$n"
	echo "# dkms lane: $(( $(date +%s) - t0 )) s"
	echo "$pass passed, $fail failed, $skip skipped"
	[ "$fail" = 0 ]
	exit
}
bail() {
	nok "$1"
	echo "# remaining tests skipped: $1"
	finish
}

# Host tools of this lane, on top of scripts/deps.sh's list. DKMS itself
# runs only in the chroot.
DKMS_HOST_PKGS="debhelper dh-dkms lintian debootstrap dpkg-dev cpio"
if MNI_EXTRA_PKGS="$DKMS_HOST_PKGS" scripts/deps.sh >"$logs/deps.log" 2>&1; then
	ok "host packages ($DKMS_HOST_PKGS)"
else
	show "$logs/deps.log"
	bail "host packages ($DKMS_HOST_PKGS)"
fi

kver=$(scripts/kver.sh) || bail "scripts/kver.sh names a kernel"
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
	bail "the package builds and is lintian clean"
fi

# ------------------------------------------------------------ chroot
start=$(date +%s)
if base=$(tests/dkms/chroot.sh "$kver" 2>"$logs/chroot.log"); then
	ok "bookworm chroot with linux-headers-$kver ($(( $(date +%s) - start )) s)"
else
	show "$logs/chroot.log"
	bail "bookworm chroot with linux-headers-$kver"
fi

work=$(mktemp -d "${TMPDIR:-/var/tmp}/mni-dkms.XXXXXX")
cleanup() {
	umount -R "$work/root" 2>/dev/null
	if [ "${MNI_KEEP:-0}" = 1 ]; then
		echo "# kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
root=$work/root
mkdir -p "$work/upper" "$work/ovl" "$root"
if ! mount -t overlay overlay \
	-o "lowerdir=$base,upperdir=$work/upper,workdir=$work/ovl" "$root" ||
	! mount -t proc proc "$root/proc" ||
	! mount -t tmpfs tmpfs "$root/tmp" ||
	! mount --bind "${base%/*}/debs" "$root/var/cache/apt/archives"; then
	bail "overlay over $base"
fi

# inch LOG COMMAND...: run in the chroot, output to build/logs/dkms/LOG.log.
inch() {
	local log=$logs/$1.log
	shift
	echo "+ $*" >>"$log"
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
		"$@" >>"$log" 2>&1
}
# q COMMAND...: a quiet chroot command, output on stdout.
q() {
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LC_ALL=C.UTF-8 "$@" 2>/dev/null
}
status() { q dkms status "$@"; }
installed() { # installed MODULE KVER
	status -m "$1" -k "$2" | grep -q ": installed"
}

mkdir -p "$root/tmp/mni"
cp "$deb" "$root/tmp/mni/"
debname=$(basename "$deb")
pkg=mmu-interval-notifier
con=mni-sample-mirror
dtree=/var/lib/dkms

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
cver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' samples/consumer/dkms.conf)
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
# in_order LOG: DKMS installed mmu_interval_notifier.ko before the consumer.
in_order() {
	local first second
	first=$(grep -n -m1 -E '^mmu_interval_notifier\.ko(\.[a-z]+)?:' "$1" | cut -d: -f1)
	second=$(grep -n -m1 -E '^mni_sample_mirror\.ko(\.[a-z]+)?:' "$1" | cut -d: -f1)
	[ -n "$first" ] && [ -n "$second" ] && [ "$first" -lt "$second" ]
}
check "$pkg was installed before $con" in_order "$logs/autoinstall.log"
cko=$root/lib/modules/$kver/updates/dkms/mni_sample_mirror.ko
if [ -f "$cko" ] && [ "$(modinfo -F depends "$cko")" = mmu_interval_notifier ] &&
	[ "$(modinfo -F import_ns "$cko")" = MNI ]; then
	ok "mni_sample_mirror.ko depends on mmu_interval_notifier, imports MNI"
else
	nok "mni_sample_mirror.ko depends on mmu_interval_notifier, imports MNI"
fi
if [ -f "$ko" ] && [ -f "$cko" ] &&
	grep -q 'mni_sample_mirror.ko:.*mmu_interval_notifier.ko' \
		"$root/lib/modules/$kver/modules.dep"; then
	ok "depmod recorded the dependency in modules.dep"
else
	nok "depmod recorded the dependency in modules.dep"
	diag <"$root/lib/modules/$kver/modules.dep"
fi

# ------------------------------------------------------------ refusals
# Plain kbuild builds of copies of the sample, in the chroot.
kb() { # kb LOG DIR ARGS...: build the module in DIR
	local log=$1 dir=$2
	shift 2
	inch "$log" make -C "/lib/modules/$kver/build" M="$dir" "$@" modules
}
mkneg() { # mkneg NAME: a copy of the sample as module NAME in /tmp/neg/NAME
	local d=$root/tmp/neg/$1
	mkdir -p "$d"
	cp samples/consumer/mni_sample_mirror.c "$d/$1.c"
	sed "s/mni_sample_mirror\.o/$1.o/" samples/consumer/Kbuild >"$d/Kbuild"
}

mkneg mni_noimport
sed -i '/^MNI_IMPORT_NS();$/d' "$root/tmp/neg/mni_noimport/mni_noimport.c"
if kb noimport /tmp/neg/mni_noimport; then
	nok "a consumer without MNI_IMPORT_NS() fails to build (modpost)"
else
	msg=$(grep -m1 'but does not import it' "$logs/noimport.log")
	if [ -n "$msg" ]; then
		ok "a consumer without MNI_IMPORT_NS() fails to build (modpost)"
		echo "$msg" | diag
	else
		nok "a consumer without MNI_IMPORT_NS() fails to build with modpost's namespace error"
		show "$logs/noimport.log"
	fi
fi
# The same, linked as on a kernel that allows missing imports, for the
# load-time check in QEMU (the stock kernel does not allow them).
if ! kb noimport-forced /tmp/neg/mni_noimport CONFIG_MODULE_ALLOW_MISSING_NAMESPACE_IMPORTS=y; then
	show "$logs/noimport-forced.log"
fi

mkneg mni_badcrc
# Another build's Module.symvers: the same exports with other CRCs.
sed -E 's/^0x[0-9a-f]{8}(\tmni_)/0x0badc0de\1/' "$root$symvers" >"$root/tmp/neg/other.symvers"
if ! kb badcrc /tmp/neg/mni_badcrc MNI_SYMVERS=/tmp/neg/other.symvers \
	MNI_INCLUDE="/usr/src/$pkg-$ver/include"; then
	show "$logs/badcrc.log"
fi

mkneg mni_nomodule
if kb nomodule /tmp/neg/mni_nomodule MNI_KVER=0.0.0-none; then
	nok "mni.mk stops when the module is not installed for the kernel"
else
	msg=$(grep -m1 'mni.mk: mmu-interval-notifier is not installed' "$logs/nomodule.log")
	if [ -n "$msg" ]; then
		ok "mni.mk stops when the module is not installed for the kernel"
		echo "$msg" | diag
	else
		nok "mni.mk stops when the module is not installed for the kernel"
		show "$logs/nomodule.log"
	fi
fi

# A kernel without CONFIG_MMU_NOTIFIER: a source dir whose .config lacks it.
fake=/tmp/neg/ksrc-nomn
mkdir -p "$root$fake"
grep -v '^CONFIG_MMU_NOTIFIER=' "$root/lib/modules/$kver/build/.config" >"$root$fake/.config"
inch exclusive dkms build "$pkg/$ver" -k "$kver-nomn" --kernelsourcedir "$fake"
rc=$?
if [ "$rc" = 77 ] && grep -q 'BUILD_EXCLUSIVE directive which does not match' "$logs/exclusive.log"; then
	ok "DKMS refuses a kernel without CONFIG_MMU_NOTIFIER (BUILD_EXCLUSIVE_CONFIG, exit 77)"
	grep -A1 'BUILD_EXCLUSIVE' "$logs/exclusive.log" | diag
else
	nok "DKMS refuses a kernel without CONFIG_MMU_NOTIFIER (exit $rc)"
	show "$logs/exclusive.log"
fi

# ------------------------------------------------------------ QEMU
guest=$work/guest
mkdir -p "$guest/modules" "$guest/neg"
# The module tree DKMS and depmod made, without the headers links.
(cd "$root/lib/modules/$kver" && find . -path ./build -prune -o -path ./source -prune -o \
	-type f -print | cpio -pdm --quiet "$guest/modules") 2>/dev/null
cp "$root/tmp/neg/mni_noimport/mni_noimport.ko" "$root/tmp/neg/mni_badcrc/mni_badcrc.ko" \
	"$guest/neg/" 2>/dev/null
if [ ! -f "$guest/modules/updates/dkms/mni_sample_mirror.ko" ] ||
	[ ! -f "$guest/neg/mni_noimport.ko" ] || [ ! -f "$guest/neg/mni_badcrc.ko" ]; then
	nok "modules for the QEMU run"
	find "$guest" | diag
else
	start=$(date +%s)
	if img=$(tests/qemu/kernel.sh "$kver" 2>"$logs/kernel.log"); then
		tests/qemu/run.sh --kernel "$img" --log "$logs/qemu.log" --timeout 300 \
			--add "$guest/modules:/lib/modules/$kver" --add "$guest/neg" \
			--script tests/dkms/guest-dkms.sh >"$logs/guest.out" 2>"$logs/run.err"
		qrc=$?
		while IFS= read -r line; do
			case $line in
			'ok - '*) ok "guest: ${line#ok - }" ;;
			'not ok - '*) nok "guest: ${line#not ok - }" ;;
			'#'*) echo "#   ${line#\# }" ;;
			esac
		done <"$logs/guest.out"
		if [ "$qrc" = 0 ]; then
			ok "QEMU run on stock $kver is clean ($(( $(date +%s) - start )) s)"
		else
			nok "QEMU run on stock $kver is clean"
			diag <"$logs/run.err"
		fi
	else
		nok "stock kernel image $kver"
		show "$logs/kernel.log"
	fi
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
	fi
else
	skipped "kernel upgrade: DKMS builds for a second kernel" "MNI_DKMS_UPGRADE=0"
fi

# ------------------------------------------------------------ purge
inch purge dkms remove "$con/$cver" --all
inch purge rm -rf "/usr/src/$con-$cver"
if inch purge dpkg --purge "$pkg-dkms"; then
	ok "dpkg --purge $pkg-dkms"
else
	nok "dpkg --purge $pkg-dkms"
	show "$logs/purge.log"
fi
left=$(status)
if [ -z "$left" ]; then ok "dkms status is empty"; else nok "dkms status is empty: $left"; fi
left=$(cd "$root" && ls -d usr/src/$pkg-* "${dtree#/}/$pkg" usr/share/$pkg \
	usr/share/doc/$pkg-dkms lib/modules/*/updates/dkms/mmu_interval_notifier.ko* \
	2>/dev/null)
if [ -z "$left" ]; then
	ok "nothing left: /usr/src/$pkg-*, $dtree/$pkg, /usr/share/$pkg, modules"
else
	nok "nothing left after purge:"
	echo "$left" | diag
fi
if ! grep -rqs mmu_interval_notifier "$root/lib/modules/$kver/modules.dep"; then
	ok "modules.dep no longer names mmu_interval_notifier"
else
	nok "modules.dep no longer names mmu_interval_notifier"
fi
# shellcheck disable=SC2016 # a dpkg-query format, not shell
if q dpkg-query -W -f '${db:Status-Abbrev}' "$pkg-dkms" | grep -q '^i'; then
	nok "dpkg knows nothing of $pkg-dkms"
else
	ok "dpkg knows nothing of $pkg-dkms"
fi

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

finish
