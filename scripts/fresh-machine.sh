#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/fresh-machine.sh - the README's set-up commands on a fresh Debian
# 12, as a new user would run them: from a source tarball (no .git), as
# root, in a `debootstrap --variant=minbase bookworm` chroot with only
# `make` added (no git, no compiler, no python3, ...), with a cold cache.
# `make fresh-check` runs it; it is not a lane of `make check` (a full run
# is a cold `make check` plus the chroot, well over an hour on 2 cores).
#
#   1. the tree's files (scripts/tree-files.sh: what git lists, or without
#      git the tree less what .gitignore names) are packed into
#      mmu-interval-notifier-<version>.tar.gz, checked to hold no .git;
#   2. the pristine chroot: debootstrap --variant=minbase --include=make
#      bookworm, with the apt sources the Debian 12 installer writes
#      (bookworm, bookworm-updates, bookworm-security; debootstrap alone
#      writes only the first, and the 6.12 sources and kernels of bookworm
#      come through bookworm-security), kept as a tarball in
#      $MNI_CACHE/fresh/minbase-bookworm.tar and built only when missing;
#   3. every run unpacks that tarball into $MNI_CACHE/fresh/root (so nothing a
#      previous run installed survives), bind-mounts it on itself (a mount
#      point, as / is, for unshare --mount) and /proc, /sys and /dev
#      (QEMU needs /dev; it runs TCG), copies the host's resolv.conf,
#      unpacks the source tarball in /root and runs, as root in a clean
#      login environment, `make TARGET` for each of $FRESH_TARGETS (default
#      "demo check", the README's two commands). MNI_CACHE is not passed:
#      inside the chroot it is the default /var/cache/mni, empty;
#   4. prints TAP, one line per step and per target with its time, and ends
#      with "N passed, N failed". A target fails when make exits non-zero;
#      one whose last line is a summary "N passed, N failed..." (check,
#      check-quick, lint) also when that is not "N passed, 0 failed...",
#      and a check target also when it has no such line.
#
# Logs: build/logs/fresh/TARGET.log in this tree (and the chroot stays in
# $MNI_CACHE/fresh/root, unmounted, until the next run). Runs serialise on
# $MNI_CACHE/fresh/.lock.
#
# Environment: FRESH_TARGETS (default "demo check"; e.g. "demo check-quick"),
# MNI_CACHE (default /var/cache/mni; only fresh/ under it is used),
# MNI_DEBIAN_MIRROR (default http://deb.debian.org/debian),
# MNI_SECURITY_MIRROR (default http://deb.debian.org/debian-security),
# FRESH_REBUILD=1 to debootstrap the pristine chroot again.
# Needs root, debootstrap (scripts/deps.sh installs it) and network access to
# the Debian archive.

set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${MNI_CACHE:-/var/cache/mni}
fresh=$cache/fresh
mirror=${MNI_DEBIAN_MIRROR:-http://deb.debian.org/debian}
secmirror=${MNI_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
targets=${FRESH_TARGETS:-demo check}
suite=bookworm
pristine=$fresh/minbase-$suite.tar
root=$fresh/root
logs=$top/build/logs/fresh

pass=0 fail=0 n=0
ok() { n=$((n + 1)) pass=$((pass + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)) fail=$((fail + 1)); echo "not ok $n - $*"; }
show() { [ ! -s "$1" ] || tail -n "${2:-30}" "$1" | sed 's/^/# /'; }
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
	exit
}
bail() {
	notok "$*"
	finish
}

echo "TAP version 13"
[ "$(id -u)" = 0 ] || bail "runs as root (debootstrap, chroot, mounts)"
command -v debootstrap >/dev/null ||
	bail "debootstrap installed (scripts/deps.sh installs it)"
for t in $targets; do
	case $t in
	*[!a-z0-9_.-]*) bail "FRESH_TARGETS: '$t' is not a make target" ;;
	esac
done
[ -n "$targets" ] || bail "FRESH_TARGETS names at least one make target"

mkdir -p "$fresh" "$logs"
exec 9>"$fresh/.lock"
flock 9

# Unmount everything under $1 (deepest first), then remove it without ever
# crossing into a mount that could not be unmounted.
unmount_all() {
	local m
	findmnt -rn -o TARGET | grep -F "$1/" | sort -r | while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" || true
	done
	if mountpoint -q "$1"; then
		umount "$1" 2>/dev/null || umount -l "$1" || true
	fi
}
remove_tree() {
	unmount_all "$1"
	rm -rf --one-file-system "$1"
}
work=$(mktemp -d "${TMPDIR:-/tmp}/mni-fresh.XXXXXX")
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	unmount_all "$root"
	for t in "$fresh"/.minbase.tmp.*; do
		[ ! -e "$t" ] || remove_tree "$t"
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# ------------------------------------------------------------ 1. tarball
ver=$(cat "$top/VERSION")
name=mmu-interval-notifier-$ver
tarball=$work/$name.tar.gz
if (cd "$top" && scripts/tree-files.sh >"$work/files") 2>"$work/files.err" &&
	tar -C "$top" --null -T "$work/files" --transform "s,^,$name/," \
		--owner=0 --group=0 -czf "$tarball" 2>>"$work/files.err"; then
	nfiles=$(tar -tzf "$tarball" | grep -vc '/$')
	if tar -tzf "$tarball" | grep -qE '(^|/)\.git(/|$)'; then
		tar -tzf "$tarball" | grep -E '(^|/)\.git(/|$)' >"$work/files.err"
		notok "source tarball $name.tar.gz holds no .git"
		show "$work/files.err"
		finish
	fi
	ok "source tarball $name.tar.gz: $nfiles files, no .git"
else
	show "$work/files.err"
	bail "source tarball of the tree (scripts/tree-files.sh)"
fi

# ------------------------------------------------------------ 2. pristine chroot
if [ "${FRESH_REBUILD:-0}" = 1 ]; then
	rm -f "$pristine"
fi
if [ -f "$pristine" ]; then
	ok "pristine minbase $suite chroot (+make): cached ${pristine#"$fresh"/}"
else
	for t in "$fresh"/.minbase.tmp.*; do
		[ ! -e "$t" ] || remove_tree "$t"
	done
	tmp=$(mktemp -d "$fresh/.minbase.tmp.XXXXXX")
	dlog=$fresh/debootstrap.log
	start=$(date +%s)
	echo "# debootstrap --variant=minbase --include=make $suite (log $dlog)"
	if debootstrap --variant=minbase --include=make "$suite" "$tmp" "$mirror" \
		>"$dlog" 2>&1; then
		# What the Debian 12 installer writes, deb.debian.org for each.
		cat >"$tmp/etc/apt/sources.list" <<-EOF
			deb $mirror $suite main
			deb $mirror $suite-updates main
			deb $secmirror $suite-security main
		EOF
		chroot "$tmp" apt-get clean
		rm -f "$tmp/etc/resolv.conf" "$tmp/etc/hostname"
		rm -rf "$tmp/var/lib/apt/lists/"*
		mkdir -p "$tmp/var/lib/apt/lists/partial"
		tar -C "$tmp" --numeric-owner -cf "$pristine.tmp" . &&
			mv "$pristine.tmp" "$pristine"
	fi
	remove_tree "$tmp"
	if [ -f "$pristine" ]; then
		ok "pristine minbase $suite chroot (+make): debootstrap and pack in $(($(date +%s) - start)) s"
	else
		rm -f "$pristine.tmp"
		notok "debootstrap --variant=minbase --include=make $suite"
		show "$dlog" 15
		finish
	fi
fi

# ------------------------------------------------------------ 3. the run
remove_tree "$root"
mkdir -p "$root"
tar -C "$root" --numeric-owner -xf "$pristine" ||
	bail "unpack $pristine into $root"
# A fresh machine: make and nothing the project needs.
present=
for t in git gcc cc python3 xz cpio qemu-system-x86_64 dpkg-buildpackage; do
	chroot "$root" sh -c "command -v $t" >/dev/null 2>&1 && present="$present $t"
done
if [ -z "$present" ] && chroot "$root" sh -c 'command -v make' >/dev/null; then
	ok "fresh chroot $root: make, and no git, gcc, python3, xz, cpio, qemu"
else
	bail "fresh chroot: only make added, but it has$present"
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
echo fresh >"$root/etc/hostname"
# The root a mount point of its own, as / is on a machine: else
# `unshare --mount` (tests/dkms, scripts/matrix.sh) fails in the chroot with
# "cannot change root filesystem propagation".
mounted() {
	mount --bind "$root" "$root" &&
		mount -t proc proc "$root/proc" &&
		mount -t sysfs sysfs "$root/sys" &&
		mount --bind /dev "$root/dev" || return 1
	if [ -d /dev/pts ]; then
		mount --bind /dev/pts "$root/dev/pts" || return 1
	fi
	if mountpoint -q /dev/shm; then
		mount --bind /dev/shm "$root/dev/shm" || return 1
	fi
}
mounted || bail "mount /proc, /sys and /dev in $root"

# As root would, after logging in: a login shell with a clean environment.
in_chroot() {
	chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/bin/bash -l -c "$1"
}
cp "$tarball" "$root/root/"
if in_chroot "cd /root && tar -xzf $name.tar.gz && rm $name.tar.gz && test -f $name/Makefile" \
	>"$logs/unpack.log" 2>&1; then
	ok "source tarball unpacked in the chroot as /root/$name"
else
	show "$logs/unpack.log"
	bail "source tarball unpacked in the chroot"
fi

for t in $targets; do
	log=$logs/$t.log
	start=$(date +%s)
	echo "# make $t in the fresh chroot (log $log)"
	in_chroot "cd /root/$name && make $t" </dev/null >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	took="$((secs / 60)) min $((secs % 60)) s"
	last=$(grep . "$log" | tail -n 1)
	# A target that ends in a TAP summary (check, check-quick, lint, ...)
	# passes only with 0 failed; a check target must end in one.
	verdict=ok
	[ "$rc" = 0 ] || verdict=fail
	if printf '%s\n' "$last" | grep -qE '^[0-9]+ passed, [0-9]+ failed'; then
		printf '%s\n' "$last" | grep -qE '^[0-9]+ passed, 0 failed' ||
			verdict=fail
		what=": \"$last\""
	else
		case $t in check*) verdict=fail ;; esac
		what=
	fi
	if [ "$verdict" = ok ]; then
		ok "make $t in the fresh chroot$what ($took)"
	else
		notok "make $t in the fresh chroot: exit $rc, last line \"$last\" ($took)"
		grep -E '^not ok|^# lane .* exit [1-9]' "$log" | head -n 40 | sed 's/^/# /'
		show "$log" 20
	fi
done

finish
