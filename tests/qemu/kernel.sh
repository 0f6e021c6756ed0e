#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/qemu/kernel.sh KVER
#
# Make sure the stock Debian kernel image for release KVER (the one matching
# the installed linux-headers-KVER) is cached outside the repository and print
# the path of its vmlinuz.  Cache layout (MNI_CACHE defaults to /var/cache/mni):
#
#   $MNI_CACHE/kernels/KVER/vmlinuz             the bzImage
#   $MNI_CACHE/kernels/KVER/config              its .config
#   $MNI_CACHE/kernels/KVER/System.map
#   $MNI_CACHE/kernels/KVER/lib/modules/KVER/   the package's in-tree modules
#   $MNI_CACHE/kernels/KVER/package             name and version of the .deb
#
# The image comes from `apt-get download linux-image-KVER-unsigned` (falling
# back to the signed linux-image-KVER). From 7.x Debian splits the image:
# linux-image-KVER is a meta package, the bzImage is in
# linux-binary-unsigned-KVER (or the signed linux-binary-KVER) and config and
# System.map in linux-base-KVER, so those are tried too. It is unpacked with
# `dpkg -x` into a
# temporary directory that is renamed into place only when complete, so an
# interrupted run never leaves a half-filled cache.  Nothing is fetched when
# the cache entry already exists.  Progress goes to stderr, the path to stdout.
#
# apt is the machine's, unless APT_CONFIG names another configuration: for
# the kernels of other Debian suites scripts/suite-apt.sh prints one.

set -eu

if [ $# -ne 1 ] || [ -z "$1" ]; then
	echo "usage: $0 KVER" >&2
	exit 2
fi
kver=$1
case $kver in
*/* | .*) echo "kernel.sh: bad release '$kver'" >&2; exit 2 ;;
esac

cache=${MNI_CACHE:-/var/cache/mni}
kdir=$cache/kernels
dest=$kdir/$kver

if [ -f "$dest/vmlinuz" ]; then
	printf '%s\n' "$dest/vmlinuz"
	exit 0
fi

mkdir -p "$kdir"
# Serialise concurrent fetches of the same cache.
exec 9>"$kdir/.lock"
flock 9
if [ -f "$dest/vmlinuz" ]; then
	printf '%s\n' "$dest/vmlinuz"
	exit 0
fi

# Holding the lock, any temp dir left is from a killed run.
rm -rf "$kdir/.fetch.$kver".*
tmp=$(mktemp -d "$kdir/.fetch.$kver.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log=$tmp/apt.log
start=$(date +%s)

fetch() {
	# apt's download sandbox user cannot write into root's temp dir.
	(cd "$tmp" && apt-get download -o APT::Sandbox::User=root "$1") >>"$log" 2>&1
}

pkg=
for try in 1 2; do
	for p in "linux-image-$kver-unsigned" "linux-binary-unsigned-$kver" \
		"linux-image-$kver" "linux-binary-$kver"; do
		if fetch "$p"; then
			pkg=$p
			break 2
		fi
	done
	[ "$try" = 1 ] || break
	# Stale package lists are the usual cause: refresh once and retry.
	echo "kernel.sh: linux-image-$kver not in apt lists, running apt-get update" >&2
	apt-get update >>"$log" 2>&1 || true
done
if [ -z "$pkg" ]; then
	echo "kernel.sh: cannot download linux-image-$kver(-unsigned):" >&2
	tail -n 5 "$log" >&2
	echo "kernel.sh: if the archive has moved to a newer ABI, upgrade the headers" \
		"(apt-get install linux-headers-amd64) and use the new release" >&2
	exit 1
fi

deb=$(ls "$tmp"/*.deb)
echo "kernel.sh: fetched ${deb##*/} in $(($(date +%s) - start)) s, unpacking" >&2
dpkg-deb -x "$deb" "$tmp/root"
case $pkg in
linux-binary-*)
	# The split image's config and System.map; the bzImage boots without.
	mkdir -p "$tmp/base"
	if (cd "$tmp/base" && apt-get download -o APT::Sandbox::User=root \
		"linux-base-$kver") >>"$log" 2>&1; then
		dpkg-deb -x "$tmp"/base/*.deb "$tmp/root"
	fi
	;;
esac

stage=$tmp/stage
mkdir -p "$stage/lib/modules"
vmlinuz=
for f in "$tmp/root/boot/vmlinuz-$kver" "$tmp/root/boot/vmlinuz" \
	"$tmp/root/usr/lib/modules/$kver/vmlinuz.unsigned" \
	"$tmp/root/usr/lib/modules/$kver/vmlinuz"; do
	if [ -f "$f" ]; then vmlinuz=$f; break; fi
done
if [ -z "$vmlinuz" ]; then
	echo "kernel.sh: no boot/vmlinuz-$kver in ${deb##*/}" >&2
	exit 1
fi
mv "$vmlinuz" "$stage/vmlinuz"
for f in "$tmp/root/boot/config-$kver" "$tmp/root/usr/lib/modules/$kver/config"; do
	[ ! -f "$f" ] || mv "$f" "$stage/config"
done
for f in "$tmp/root/boot/System.map-$kver" "$tmp/root/usr/lib/modules/$kver/System.map"; do
	[ ! -f "$f" ] || mv "$f" "$stage/System.map"
done
# Debian ships modules in /lib (bookworm) or /usr/lib (merged-/usr suites).
for m in "$tmp/root/lib/modules/$kver" "$tmp/root/usr/lib/modules/$kver"; do
	if [ -d "$m" ]; then
		mv "$m" "$stage/lib/modules/$kver"
		break
	fi
done
dpkg-deb -f "$deb" Package Version >"$stage/package"

rm -rf "$dest"
mv -T "$stage" "$dest"
echo "kernel.sh: cached $dest ($(($(date +%s) - start)) s)" >&2
printf '%s\n' "$dest/vmlinuz"
