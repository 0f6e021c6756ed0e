#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/dkms/chroot.sh KVER
#
# Make sure a Debian 12 (bookworm) chroot with DKMS and linux-headers-KVER
# is cached, and print its path.  The chroot is only ever used as the
# read-only lower layer of an overlay (tests/dkms/run.sh), so it stays
# pristine and is reused as is.  Cache layout (MNI_CACHE defaults to
# /var/cache/mni):
#
#   $MNI_CACHE/chroots-dkms/bookworm-KVER/        the chroot
#   $MNI_CACHE/chroots-dkms/bookworm-KVER/.mni-chroot   stamp: package list
#   $MNI_CACHE/chroots-dkms/debs/                 apt's downloaded .debs (also
#                                                 for later installs in it)
#   $MNI_CACHE/logs/dkms-chroot-KVER.log          debootstrap/apt output
#
# apt's lists are kept (run.sh installs more from them, and updates them
# when that fails). It is built with `debootstrap --variant=minbase` in a temporary directory
# that is renamed into place only when complete (and the stamp matches the
# package list below), so an interrupted run never leaves a half-made
# chroot.  Concurrent callers serialise on a lock.  Needs root and access
# to deb.debian.org.  Progress goes to stderr, the path to stdout.

set -eu

if [ $# -ne 1 ] || [ -z "$1" ]; then
	echo "usage: $0 KVER" >&2
	exit 2
fi
kver=$1
case $kver in
*/* | .* | *' '*) echo "chroot.sh: bad release '$kver'" >&2; exit 2 ;;
esac

mirror=${MNI_DEBIAN_MIRROR:-http://deb.debian.org/debian}
secmirror=${MNI_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
# openssl: DKMS signs modules with its MOK key only when it can make one.
pkgs="dkms linux-headers-$kver openssl kmod"
# bookworm-backports (priority 100: nothing comes from it unless asked)
# gives tests/dkms/run.sh a newer kernel's headers to upgrade to.
stamp="suite=bookworm+backports packages=$pkgs"

cache=${MNI_CACHE:-/var/cache/mni}
top=$cache/chroots-dkms
dest=$top/bookworm-$kver
log=$cache/logs/dkms-chroot-$kver.log

ready() {
	[ -f "$dest/.mni-chroot" ] && [ "$(cat "$dest/.mni-chroot")" = "$stamp" ]
}

if ready; then
	printf '%s\n' "$dest"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "chroot.sh: must run as root to build $dest" >&2
	exit 1
fi
command -v debootstrap >/dev/null || {
	echo "chroot.sh: debootstrap missing (scripts/deps.sh with MNI_DKMS=1)" >&2
	exit 1
}

mkdir -p "$top" "$top/debs/partial" "${log%/*}"
exec 9>"$top/.lock"
flock 9
if ready; then
	printf '%s\n' "$dest"
	exit 0
fi

# Holding the lock, anything left over is from a killed run.
rm -rf "$top/.new.bookworm-$kver".*
tmp=$(mktemp -d "$top/.new.bookworm-$kver.XXXXXX")
# Mounts live in a private mount namespace (see below); only the
# directory needs cleaning.
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
: >"$log"

echo "chroot.sh: debootstrap bookworm into $tmp (log $log)" >&2
if ! debootstrap --variant=minbase --cache-dir="$top/debs" bookworm "$tmp" \
	"$mirror" >>"$log" 2>&1; then
	echo "chroot.sh: debootstrap failed; last lines of $log:" >&2
	tail -n 20 "$log" >&2
	exit 1
fi

cat >"$tmp/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $secmirror bookworm-security main
deb $mirror bookworm-backports main
EOF
# No daemons may start inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
chmod 755 "$tmp/usr/sbin/policy-rc.d"

echo "chroot.sh: installing $pkgs" >&2
# A private mount namespace: proc and the .deb cache vanish with it.
# shellcheck disable=SC2016 # expanded by the inner shell
if ! unshare -m --propagation private -- sh -c '
	set -e
	root=$1 debs=$2 pkgs=$3
	mount -t proc proc "$root/proc"
	mount --bind "$debs" "$root/var/cache/apt/archives"
	export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
	chroot "$root" apt-get update
	# shellcheck disable=SC2086
	chroot "$root" apt-get install -y --no-install-recommends $pkgs
	' sh "$tmp" "$top/debs" "$pkgs" >>"$log" 2>&1; then
	echo "chroot.sh: apt-get failed in the chroot; last lines of $log:" >&2
	tail -n 20 "$log" >&2
	exit 1
fi
if [ ! -d "$tmp/lib/modules/$kver/build/" ]; then
	echo "chroot.sh: no /lib/modules/$kver/build in the chroot" >&2
	exit 1
fi
printf '%s\n' "$stamp" >"$tmp/.mni-chroot"

rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "chroot.sh: $dest ready after $(( $(date +%s) - start )) s" >&2
printf '%s\n' "$dest"
