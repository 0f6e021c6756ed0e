#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install (as root, on Debian 12) every Debian package the project needs to
# build, check and test mmu_interval_notifier.ko.  Idempotent: when all
# packages are already installed it only runs dpkg-query and returns in well
# under a second.  apt output goes to ${MNI_CACHE:-/var/cache/mni}/logs/deps.log;
# stdout gets one line per action.
#
# Nothing here pins a kernel ABI: linux-headers-amd64 pulls in whatever
# linux-headers-<abi>-amd64 the archive currently has, and scripts/kver.sh /
# tests/qemu/kernel.sh derive the release from what got installed.
#
# Extra packages can be requested with MNI_EXTRA_PKGS="pkg1 pkg2".

set -eu

PKGS="gcc make libc6-dev linux-headers-amd64 qemu-system-x86 busybox-static
cpio kmod sparse linux-source-6.1 xz-utils perl python3 debootstrap
${MNI_EXTRA_PKGS:-}"

cache=${MNI_CACHE:-/var/cache/mni}
log=$cache/logs/deps.log

missing_pkgs() {
	local p st
	missing=
	for p in $PKGS; do
		st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
		[ "$st" = installed ] || missing="$missing $p"
	done
}

missing_pkgs
if [ -n "$missing" ] && [ "$(id -u)" -eq 0 ]; then
	# Lanes of `make check` can run side by side (scripts/check.sh's "+"
	# lanes): one installer at a time, and the list again once it is ours.
	mkdir -p "${log%/*}"
	exec 8>"${log%/*}/.deps.lock"
	flock 8
	missing_pkgs
fi
if [ -z "$missing" ]; then
	echo "deps: all packages present"
else
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing:$missing (run as root to install)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	echo "deps: apt-get update (log: $log)"
	if ! apt-get update >>"$log" 2>&1; then
		echo "deps: apt-get update failed, see $log" >&2
		tail -n 20 "$log" >&2
		exit 1
	fi
	echo "deps: installing$missing"
	# shellcheck disable=SC2086 # word splitting of the package list is wanted
	if ! apt-get install -y --no-install-recommends $missing >>"$log" 2>&1; then
		echo "deps: apt-get install failed, see $log" >&2
		tail -n 20 "$log" >&2
		exit 1
	fi
fi

# The headers meta package must have brought a usable build tree.
here=$(cd "$(dirname "$0")" && pwd)
if ! kver=$("$here/kver.sh" 2>/dev/null); then
	echo "deps: no /lib/modules/*-amd64/build after install" >&2
	exit 1
fi
echo "deps: kernel headers $kver"
