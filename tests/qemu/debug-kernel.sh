#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/qemu/debug-kernel.sh [--force | --check-config] [KERNEL]
#
# Make sure a debug kernel is built and cached outside the repository, and
# print its cache directory. KERNEL (default 6.1) is one of
#
#   KERNEL   source             fragment (tests/qemu/)   cache name
#   6.1      linux-source-6.1   debug.config             6.1-debug
#   6.12-rt  linux-source-6.12  debug-6.12-rt.config     6.12-rt-debug
#                               + debug-6.12-rt.patch
#
# 6.1: KASAN, lockdep, DEBUG_ATOMIC_SLEEP, DEBUG_VM, kmemleak,
# DEVICE_PRIVATE, test_hmm.ko, ... (DESIGN.md section 4). 6.12-rt:
# PREEMPT_RT, KASAN, lockdep, DEBUG_ATOMIC_SLEEP, and little else
# (DESIGN.md section 3.13). Both sources are Debian 12 packages (6.12 from
# bookworm-security, the same 6.12 as trixie's, which Debian builds for
# bookworm with its gcc-12), installed through scripts/deps.sh and built
# with the host's compiler.
# A kernel is built from Debian's /usr/src/linux-source-VER.tar.xz, its
# patch (if any) applied, as `make tinyconfig` + the fragment
# (merge_config.sh -m) + `make olddefconfig`; the build stops when an option
# the fragment asks for is missing from the final .config (a dependency
# silently dropped it).
#
# Cache layout, D = ${MNI_CACHE:-/var/cache/mni}/kernels/NAME:
#
#   D/bzImage                      boot this (tests/qemu/run.sh --kernel)
#   D/build/                       KDIR: make -C D/build M=$PWD modules
#                                  (symlink to src/build, the O= output:
#                                  .config, Module.symvers, scripts,
#                                  include/generated, objtool, vmlinux)
#   D/src/                         the unpacked (and patched) linux-source
#   D/lib/modules/REL/             modules_install (REL in D/release); on
#                                  6.1 with kernel/lib/test_hmm.ko
#   D/config, D/System.map, D/release
#   D/fragment.sha256              what the cache was built from: sha256 of
#                                  the fragment (and of the patch) and the
#                                  linux-source version; a mismatch means
#                                  rebuild
#   D/build.log                    the full build log
#
# The tree is relocatable: the O= directory is a subdirectory of the source,
# so kbuild refers to the source as "..".  Everything is built in a
# temporary directory next to D and renamed into place only after the
# build, the option check and a test build of an external module passed,
# so an interrupted or failed run never leaves a half-filled cache (a failed
# build's log is kept as D.failed.log).  Nothing is rebuilt while D exists
# and fragment.sha256 matches.  The build runs as `nice -n 19 make -j2`
# (MNI_JOBS overrides -j) and takes 15-30 minutes on 2 cores for 6.1,
# about 6 minutes for the leaner 6.12-rt.
#
#   --force          rebuild even when the cache is current
#   --check-config   only generate the .config and check it (about 30 s);
#                    nothing is cached, nothing printed on stdout
#
# Progress goes to stderr, the directory to stdout.  Build dependencies
# (bison, flex, libelf-dev, bc, ...) are installed through scripts/deps.sh.

set -eu

me=${0##*/}
usage() {
	echo "usage: $0 [--force | --check-config] [6.1 | 6.12-rt]" >&2
	exit 2
}
force=0 check_only=0 kernel=6.1
case ${1:-} in
--force) force=1; shift ;;
--check-config) check_only=1; shift ;;
esac
[ $# -le 1 ] || usage
kernel=${1:-$kernel}

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# srcpkg: Debian's linux-source-VER; patch: applied before configuring;
# mods: modules (under lib/modules/REL/) the cache must hold.
case $kernel in
6.1)
	srcpkg=linux-source-6.1 fragment=$here/debug.config patch=''
	name=6.1-debug mods=kernel/lib/test_hmm.ko ;;
6.12-rt)
	srcpkg=linux-source-6.12 fragment=$here/debug-6.12-rt.config
	patch=$here/debug-6.12-rt.patch name=6.12-rt-debug mods='' ;;
*) usage ;;
esac
tarball=/usr/src/$srcpkg.tar.xz
cache=${MNI_CACHE:-/var/cache/mni}
kdir=$cache/kernels
dest=$kdir/$name
jobs=${MNI_JOBS:-2}

# A make further up (e.g. `make check` calling us) must not hand its
# jobserver or flags to the kernel build; stray kbuild variables neither.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES KBUILD_OUTPUT KCONFIG_CONFIG \
	KBUILD_EXTMOD ARCH CROSS_COMPILE LLVM CC O M 2>/dev/null || true

log() { echo "$me: $*" >&2; }
die() { log "$*"; exit 1; }

[ -r "$fragment" ] || die "missing $fragment"
[ -z "$patch" ] || [ -r "$patch" ] || die "missing $patch"
[ "$(uname -m)" = x86_64 ] || die "builds an x86_64 kernel on x86_64 only"

src_version() {
	dpkg-query -W -f='${Version}' "$srcpkg" 2>/dev/null || echo unknown
}
# What the cache must have been built from.
want_key() {
	printf 'fragment %s\n' "$(sha256sum <"$fragment" | cut -d' ' -f1)"
	[ -z "$patch" ] || printf 'patch %s\n' "$(sha256sum <"$patch" | cut -d' ' -f1)"
	printf '%s %s\n' "$srcpkg" "$(src_version)"
}

current() {
	local m
	[ -f "$dest/bzImage" ] && [ -f "$dest/fragment.sha256" ] &&
		[ "$(cat "$dest/fragment.sha256")" = "$(want_key)" ] &&
		[ -f "$dest/release" ] || return 1
	for m in $mods; do
		[ -f "$dest/lib/modules/$(cat "$dest/release")/$m" ] || return 1
	done
}

if [ "$check_only" = 0 ] && [ "$force" = 0 ] && current; then
	printf '%s\n' "$dest"
	exit 0
fi

# ------------------------------------------------------------ dependencies
# Everything a kernel build needs beyond what scripts/deps.sh installs anyway.
MNI_EXTRA_PKGS="${MNI_EXTRA_PKGS:-} bc bison flex libelf-dev libssl-dev \
	$srcpkg kmod cpio xz-utils perl${patch:+ patch}" \
	"$top/scripts/deps.sh" >&2 || die "cannot install the build dependencies"
[ -r "$tarball" ] || die "$tarball missing (apt-get install $srcpkg)"

mkdir -p "$kdir"
# One builder at a time (separate from kernel.sh's lock: a long build must
# not hold up stock-kernel fetches).
exec 9>"$kdir/.$name.lock"
if ! flock -n 9; then
	log "another build of $name is running, waiting for it"
	flock 9
fi
if [ "$check_only" = 0 ] && [ "$force" = 0 ] && current; then
	printf '%s\n' "$dest"
	exit 0
fi
# We hold the lock: temporary directories left by a killed run are garbage.
rm -rf "$kdir/.tmp.$name".*

tmp=$(mktemp -d "$kdir/.tmp.$name.XXXXXX")
blog=$tmp/build.log
child=
cleanup() {
	if [ -n "$child" ]; then
		kill -TERM -- "-$child" 2>/dev/null || true
		wait "$child" 2>/dev/null || true
	fi
	if [ -f "$blog" ] && [ "$check_only" = 0 ]; then
		cp "$blog" "$dest.failed.log" 2>/dev/null &&
			log "build log kept as $dest.failed.log"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# Runs "$@" in its own process group (so an interrupt stops the whole make)
# at the lowest priority, output to the build log.
run() {
	echo "+ $*" >>"$blog"
	setsid nice -n 19 "$@" >>"$blog" 2>&1 </dev/null &
	child=$!
	local rc=0
	wait "$child" || rc=$?
	child=
	if [ "$rc" != 0 ]; then
		log "failed ($rc): $*"
		tail -n 40 "$blog" | sed 's/^/    /' >&2
		exit 1
	fi
}

t0=$(date +%s)
log "working in $tmp (log: $blog)"
key=$(want_key)

log "unpacking $tarball"
run tar -xf "$tarball" -C "$tmp"
mv "$tmp/$srcpkg" "$tmp/src"
srcdir=$tmp/src
if [ -n "$patch" ]; then
	log "patching: ${patch#"$top"/}"
	run patch -d "$srcdir" -p1 --forward --batch -i "$patch"
fi
obj=$srcdir/build
mkdir "$obj"
mk() { run make -C "$srcdir" O="$obj" "$@"; }

log "configuring: tinyconfig + ${fragment#"$top"/}"
mk tinyconfig
run "$srcdir/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$fragment"
mk olddefconfig

# Every CONFIG_X=... and "# CONFIG_X is not set" line of the fragment must
# be in the final .config exactly (an unset symbol counts as "n").
if ! missing=$(perl -e '
	use strict; use warnings;
	my ($frag, $cfg) = @ARGV;
	my %have;
	open(my $C, "<", $cfg) or die "$cfg: $!\n";
	while (<$C>) {
		chomp;
		if (/^(CONFIG_\w+)=(.*)$/) { $have{$1} = $2 }
		elsif (/^# (CONFIG_\w+) is not set$/) { $have{$1} = "n" }
	}
	open(my $F, "<", $frag) or die "$frag: $!\n";
	my $bad = 0;
	while (<$F>) {
		chomp;
		my ($sym, $want);
		if (/^(CONFIG_\w+)=(.*)$/) { ($sym, $want) = ($1, $2) }
		elsif (/^# (CONFIG_\w+) is not set$/) { ($sym, $want) = ($1, "n") }
		else { next }
		my $got = $have{$sym} // "n";
		next if $got eq $want;
		print "  $sym: wanted $want, got $got\n";
		$bad++;
	}
	exit($bad ? 1 : 0);
' "$fragment" "$obj/.config"); then
	log "options of ${fragment##*/} missing from the final .config" \
		"(unmet dependencies):"
	printf '%s\n' "$missing" >&2
	exit 1
fi
n=$(grep -c '^CONFIG_' "$fragment")
log "all $n options of ${fragment##*/} are in the final .config"
if [ "$check_only" = 1 ]; then
	rm -f "$blog"
	exit 0
fi

log "compiling (nice -n 19 make -j$jobs; tail -f $blog to follow)"
t1=$(date +%s)
mk -j"$jobs"
t2=$(date +%s)
log "compiled in $((t2 - t1)) s"
rel=$(make -s -C "$srcdir" O="$obj" kernelrelease 2>>"$blog")
mk INSTALL_MOD_PATH="$tmp" modules_install

# modules_install links build/ and source/ to absolute temporary paths.
moddir=$tmp/lib/modules/$rel
mkdir -p "$moddir"
rm -f "$moddir/build" "$moddir/source"
ln -s ../../../build "$moddir/build"
ln -s ../../../src "$moddir/source"
for m in $mods; do
	[ -f "$moddir/$m" ] || die "no $m in $moddir"
done

cp "$obj/arch/x86/boot/bzImage" "$tmp/bzImage"
cp "$obj/.config" "$tmp/config"
cp "$obj/System.map" "$tmp/System.map"
ln -s src/build "$tmp/build"
printf '%s\n' "$rel" >"$tmp/release"
# The kernel's own objects are not needed to build external modules.
find "$obj" -name '*.o' ! -path "$obj/scripts/*" ! -path "$obj/tools/*" -delete
rm -f "$obj/vmlinux.o" "$obj/.tmp_vmlinux"*
printf '%s\n' "$key" >"$tmp/fragment.sha256"
chmod 755 "$tmp"

# Publish: rename into place, then prove the tree works as KDIR from there.
# (The log is $tmp/build.log already: from now on there is no failed log.)
blog=
old=
if [ -e "$dest" ]; then
	old=$kdir/.tmp.$name.old.$$
	mv -T "$dest" "$old"
fi
mv -T "$tmp" "$dest"
[ -z "$old" ] || rm -rf "$old"
rm -f "$dest.failed.log"

probe=$(mktemp -d "${TMPDIR:-/tmp}/mni-kdir-probe.XXXXXX")
trap 'rm -rf "$probe"' EXIT
cat >"$probe/probe.c" <<'EOF'
// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
#include <linux/mmu_notifier.h>
static int __init probe_init(void) { return 0; }
module_init(probe_init);
MODULE_LICENSE("GPL");
EOF
echo 'obj-m := probe.o' >"$probe/Kbuild"
if ! make -C "$dest/build" M="$probe" modules >"$probe/log" 2>&1; then
	log "test build of an external module against $dest/build failed:"
	tail -n 20 "$probe/log" | sed 's/^/    /' >&2
	rm -rf "$dest"
	exit 1
fi

log "cached $dest ($rel, $(($(date +%s) - t0)) s, $(du -sh "$dest" | cut -f1))"
printf '%s\n' "$dest"
