#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# suite-chroot.sh SUITE HEADERS_PKG...
#
# Make sure $MNI_CACHE/chroots/SUITE is a Debian SUITE chroot in which
# external modules build against each HEADERS_PKG (linux-headers-<abi>-amd64,
# ...), and print its path.
#
# The chroot is `debootstrap --variant=minbase` plus what the headers
# packages depend on besides the kernel's own packages: the compiler they
# were built with (gcc-10 through linux-compiler-gcc-10-x86 on bullseye,
# gcc-14 on trixie, gcc-16-for-host on sid) and the libraries of the
# prebuilt kbuild tools (libelf, libssl, zlib, pahole), plus make,
# libc6-dev and perl (W=1 runs scripts/kernel-doc on 6.12), and the suite's
# own dkms for tests/dkms/suite.sh. Nothing else is needed to build a
# module: bc, flex, bison and libelf-dev are for building the kernel or its
# host tools, which the headers ship prebuilt.
#
# The kernel's packages themselves (linux-headers-<abi>-amd64, -common,
# linux-kbuild-<ver>) are fetched with scripts/suite-apt.sh and unpacked
# (dpkg-deb --fsys-tarfile | tar -x), not installed: on trixie the headers depend on the
# kernel image, whose installation would build an initramfs in the chroot.
# A stamp in /var/lib/mni/ records each completed unpack.
#
# For RELEASE-backports (apt through scripts/suite-apt.sh, which pins the
# kernel packages to the backports line) the chroot is a debootstrap of
# RELEASE kept apart from RELEASE's own: the backports kernel wants other
# toolchain packages (gcc-14-for-host, not gcc-14, on trixie-backports),
# and a chroot lacking one is rebuilt.
#
# A new chroot is built in a temporary directory and renamed into place
# only when complete; an existing one is reused, and rebuilt the same way
# when it lacks a toolchain package that newer headers need. Progress and
# logs go to stderr and $MNI_CACHE/chroots/SUITE.log; runs for one suite
# serialise on a lock.

set -eu

me=${0##*/}
if [ $# -lt 2 ]; then
	echo "usage: $me SUITE HEADERS_PKG..." >&2
	exit 2
fi
suite=$1
shift
case $suite in
'' | */* | .* | *[!a-z0-9.-]*) echo "$me: bad suite '$suite'" >&2; exit 2 ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
cache=${MNI_CACHE:-/var/cache/mni}
mirror=${MNI_DEBIAN_MIRROR:-http://deb.debian.org/debian}
cdir=$cache/chroots
root=$cdir/$suite
log=$cdir/$suite.log
apt() { "$here/suite-apt.sh" "$suite" "$@"; }

mkdir -p "$cdir"
exec 9>"$cdir/.$suite.lock"
flock 9

# Unmount whatever a killed debootstrap left mounted under $1, then remove it
# without ever crossing into a mount.
remove_tree() {
	local m
	findmnt -rn -o TARGET | grep -F "$1/" | sort -r | while read -r m; do
		umount -l "$m" || true
	done
	rm -rf --one-file-system "$1"
}

# Walk the Depends of the kernel packages: kernel packages to unpack go to
# $kpkgs, everything else (the toolchain) to $tools.
kpkgs='' tools=''
queue="$*"
while [ -n "$queue" ]; do
	set -- $queue
	p=$1
	shift
	queue="$*"
	case " $kpkgs " in *" $p "*) continue ;; esac
	kpkgs="$kpkgs $p"
	deps=$(apt apt-cache depends --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances "$p" 2>/dev/null |
		sed -n 's/^  Depends: //p')
	if [ -z "$(apt apt-cache show --no-all-versions "$p" 2>/dev/null)" ]; then
		echo "$me: $suite has no package $p" >&2
		exit 1
	fi
	for d in $deps; do
		case $d in
		linux-headers-* | linux-kbuild-*) queue="$queue $d" ;;
		# The image (trixie's headers want one), and the base packages that
		# hold install scripts and the image's config: not for building.
		linux-image-* | linux-base | linux-base-*) ;;
		'<'*) ;;
		*) case " $tools " in *" $d "*) ;; *) tools="$tools $d" ;; esac ;;
		esac
	done
done
# perl: 6.12's W=1 runs scripts/kernel-doc, which needs more than perl-base.
# dkms, kmod and openssl (DKMS's signing key): tests/dkms/suite.sh installs
# the package in an overlay over this chroot, as on a machine of the suite.
tools="make libc6-dev perl dkms kmod openssl$tools"

have_tools() {
	local st
	[ -f "$root/var/lib/mni/complete" ] || return 1
	for t in $tools; do
		st=$(chroot "$root" dpkg-query -W -f='${db:Status-Status}' "$t" 2>/dev/null) || return 1
		[ "$st" = installed ] || return 1
	done
}

if ! have_tools; then
	rm -rf --one-file-system "$cdir/.$suite.old"
	for t in "$cdir/.$suite".tmp.*; do
		[ ! -e "$t" ] || remove_tree "$t"
	done
	tmp=$(mktemp -d "$cdir/.$suite.tmp.XXXXXX")
	trap 'remove_tree "$tmp"' EXIT
	mkdir -p "$cache/debootstrap/$suite"
	start=$(date +%s)
	echo "$me: debootstrap $suite (minbase +$(echo "$tools" | tr ' ' ',')), log $log" >&2
	if ! debootstrap --variant=minbase --cache-dir="$cache/debootstrap/$suite" \
		--include="$(echo $tools | tr ' ' ',')" \
		"${suite%-backports}" "$tmp" "$mirror" >"$log" 2>&1; then
		echo "$me: debootstrap $suite failed, see $log:" >&2
		tail -n 15 "$log" >&2
		exit 1
	fi
	mkdir -p "$tmp/var/lib/mni"
	echo "$suite $(date -u +%FT%TZ) $tools" >"$tmp/var/lib/mni/complete"
	if [ -e "$root" ]; then
		mv -T "$root" "$cdir/.$suite.old"
	fi
	mv -T "$tmp" "$root"
	trap - EXIT
	rm -rf --one-file-system "$cdir/.$suite.old"
	echo "$me: $root ready after $(($(date +%s) - start)) s" >&2
fi

# The kernel's own packages, unpacked once each.
dl=$cache/apt/$suite/debs
for p in $kpkgs; do
	[ ! -f "$root/var/lib/mni/unpacked-$p" ] || continue
	rm -rf "$dl.tmp"
	mkdir -p "$dl.tmp"
	if ! (cd "$dl.tmp" && apt apt-get download -q "$p") >>"$log" 2>&1; then
		echo "$me: apt-get download $p failed, see $log" >&2
		exit 1
	fi
	# Merged-/usr: /lib is a symlink that tar must not replace.
	dpkg-deb --fsys-tarfile "$dl.tmp"/*.deb |
		tar -x --keep-directory-symlink --no-same-owner -C "$root"
	rm -rf "$dl.tmp"
	echo "$p" >"$root/var/lib/mni/unpacked-$p"
	echo "$me: unpacked $p into $root" >&2
done

printf '%s\n' "$root"
