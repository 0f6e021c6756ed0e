#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# arm64-root.sh KERNEL
#
# Make sure $MNI_CACHE/arm64/ABI is a private root for cross-building
# external modules for the newest stock Debian arm64 kernel of KERNEL, and
# booting it, and print "ABI ROOT":
#
#   KERNEL     suite                        headers / image of
#   6.1        bookworm                     linux-headers-<abi>-arm64
#   6.12       bookworm-security            linux-headers-<abi>-arm64
#   6.12-16k   bookworm-security            linux-headers-<abi>-arm64-16k
#   6.12-rt    bookworm-security            linux-headers-<abi>-rt-arm64
#
# The packages come through scripts/suite-apt.sh's "bookworm-arm64" (bookworm
# and bookworm-security, amd64 and arm64 lists) with `apt-get download` and
# are unpacked with dpkg-deb -x into ROOT, never installed:
#   - linux-headers-ABI (arm64) and the -common (and -common-rt) headers it
#     depends on;
#   - linux-kbuild-VER of the same version for amd64, where the arm64
#     headers' scripts and tools links point (relative, inside ROOT): fixdep,
#     modpost and the other kbuild helpers run natively on this machine;
#   - linux-image-ABI(-unsigned) (arm64): ROOT/boot/vmlinuz-ABI and
#     config-ABI, and where the virtio console the guest script writes to
#     (tests/qemu/run.sh --arch arm64) is modular (6.1) its modules,
#     listed in load order in ROOT/guest-modules;
#   - busybox-static (arm64): ROOT/bin/busybox for the guest's initramfs.
# The arm64 headers' Makefile includes the -common one by its absolute
# /usr/src path; that line is pointed into ROOT.
#
# Both kernels were built by Debian with gcc-12 on bookworm (the headers
# depend on gcc-12), the compiler of gcc-aarch64-linux-gnu here, which
# scripts/deps.sh installs with qemu-system-arm and libc6-dev-arm64-cross.
#
# A new root is unpacked into a temporary directory renamed into place when
# complete; an existing one is reused. Runs serialise on a lock. Progress
# goes to stderr.

set -eu

me=${0##*/}
if [ $# -ne 1 ]; then
	echo "usage: $me KERNEL (6.1, 6.12, 6.12-16k, 6.12-rt)" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
cache=${MNI_CACHE:-/var/cache/mni}
suite=bookworm-arm64
apt() { "$here/suite-apt.sh" "$suite" "$@"; }

case $1 in
6.1) series=6.1 flav=arm64 ;;
6.12) series=6.12 flav=arm64 ;;
6.12-16k) series=6.12 flav=arm64-16k ;;
6.12-rt) series=6.12 flav=rt-arm64 ;;
*) echo "$me: unknown kernel '$1' (6.1, 6.12, 6.12-16k, 6.12-rt)" >&2; exit 2 ;;
esac

# The newest ABI of the flavour within the series (6.1.0-57, 6.12.118+deb12).
v=$(apt apt-cache pkgnames linux-headers- |
	sed -n "s/^linux-headers-\\(.*\\)-$flav\$/\\1/p" |
	grep -E '^[0-9]+\.[0-9]+(\.[0-9]+)?(-[0-9]+|\+[a-z0-9.~]+)$' |
	awk -v s="$series" 'index($0, s ".") == 1' | sort -V | tail -n 1)
if [ -z "$v" ]; then
	echo "$me: $suite has no linux-headers-$series.*-$flav" >&2
	exit 1
fi
abi=$v-$flav
root=$cache/arm64/$abi
if [ -f "$root/.complete" ]; then
	echo "$abi $root"
	exit 0
fi

mkdir -p "$cache/arm64"
exec 9>"$cache/arm64/.lock"
flock 9
if [ -f "$root/.complete" ]; then
	echo "$abi $root"
	exit 0
fi
rm -rf "$cache/arm64/.tmp.$abi".*
tmp=$(mktemp -d "$cache/arm64/.tmp.$abi.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)

# The headers' Depends: the -common packages and linux-kbuild-VER.
# An arch-all dependency of an arm64 package shows as <name:arm64>.
deps=$(apt apt-cache depends "linux-headers-$abi:arm64" |
	sed -n 's/^  Depends: <\{0,1\}\([^:>]*\).*/\1/p')
pkgs="linux-headers-$abi:arm64"
for d in $deps; do
	case $d in
	linux-headers-*-common*) pkgs="$pkgs $d" ;;
	linux-kbuild-*) pkgs="$pkgs $d:amd64" ;;
	esac
done
case $pkgs in
*linux-kbuild-*) ;;
*) echo "$me: linux-headers-$abi depends on no linux-kbuild" >&2; exit 1 ;;
esac
img=linux-image-$abi-unsigned:arm64
[ -n "$(apt apt-cache show "$img" 2>/dev/null)" ] || img=linux-image-$abi:arm64
pkgs="$pkgs $img busybox-static:arm64"
echo "$me: $abi: downloading $pkgs" >&2
mkdir -p "$tmp/debs" "$tmp/root"
# shellcheck disable=SC2086 # the package list
if ! (cd "$tmp/debs" && apt apt-get download -q $pkgs) >"$tmp/apt.log" 2>&1; then
	echo "$me: apt-get download failed:" >&2
	tail -n 10 "$tmp/apt.log" >&2
	exit 1
fi
# Of the image only /boot and the virtio console's modules, if modular.
vmods="drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci_modern_dev
	drivers/virtio/virtio_pci drivers/char/virtio_console"
for d in "$tmp"/debs/*.deb; do
	case ${d##*/} in
	linux-image-*)
		# shellcheck disable=SC2046 # the module patterns
		dpkg-deb --fsys-tarfile "$d" | tar -x -C "$tmp/root" --wildcards \
			--no-wildcards-match-slash ./boot \
			$(for m in $vmods; do echo "./lib/modules/$abi/kernel/$m.ko"; done) \
			2>/dev/null || true ;;
	*) dpkg-deb -x "$d" "$tmp/root" ;;
	esac
done
: >"$tmp/root/guest-modules"
for m in $vmods; do
	f=lib/modules/$abi/kernel/$m.ko
	[ ! -f "$tmp/root/$f" ] || echo "$f" >>"$tmp/root/guest-modules"
done
mk=$tmp/root/usr/src/linux-headers-$abi/Makefile
sed -i "s|^include /usr/src/|include $root/usr/src/|" "$mk"
common=$(sed -n "s|^include $root/||p" "$mk")
[ -f "$tmp/root/$common" ] || {
	echo "$me: $mk includes no -common Makefile that was unpacked" >&2
	exit 1
}
for f in "$tmp/root/usr/src/linux-headers-$abi/scripts/basic/fixdep" \
	"$tmp/root/boot/vmlinuz-$abi" "$tmp/root/bin/busybox"; do
	[ -e "$f" ] || { echo "$me: $abi: no ${f#"$tmp/root"} after unpacking" >&2; exit 1; }
done
(cd "$tmp/debs" && ls) >"$tmp/root/.packages"
rm -rf "$root"
mv -T "$tmp/root" "$root"
touch "$root/.complete"
echo "$me: $root ready after $(($(date +%s) - start)) s" >&2
echo "$abi $root"
