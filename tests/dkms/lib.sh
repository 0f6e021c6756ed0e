# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Functions run through trap and check(), not unreachable; $here and $logs
# come from the caller:
# shellcheck disable=SC2317,SC2154
#
# tests/dkms/lib.sh - what tests/dkms/run.sh (bookworm, the package's whole
# life) and tests/dkms/suite.sh (the package on another suite's kernel)
# share: TAP counters, an overlay over a cached chroot, commands in it, the
# sample consumer's broken copies, and the boot of a kernel with the module
# tree DKMS made. Sourced; the caller sets $here (the repository) and $logs
# (its log directory) first, and runs in a private mount namespace.

n=0 pass=0 fail=0 skip=0
t0=$(date +%s)

# private_ns SCRIPT ARGS...: unless already there, re-run SCRIPT (as root)
# in a private mount namespace, where every mount it makes goes away with it.
private_ns() {
	[ "${MNI_DKMS_NS:-}" != 1 ] || return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "not ok 1 - ${1##*/} runs as root (chroot, mounts)"
		echo "0 passed, 1 failed, 0 skipped"
		exit 1
	fi
	MNI_DKMS_NS=1 exec unshare -m --propagation private -- "$@"
}

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
# finish LANE: the plan and the summary line, then exit.
finish() {
	echo "1..$n"
	echo "# $1: $(( $(date +%s) - t0 )) s"
	echo "$pass passed, $fail failed, $skip skipped"
	[ "$fail" = 0 ]
	exit
}
# bail LANE DESCRIPTION: a failure that ends the run.
bail() {
	nok "$2"
	echo "# remaining tests skipped: $2"
	finish "$1"
}

pkg=mmu-interval-notifier
con=mni-sample-mirror
dtree=/var/lib/dkms
cver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$here/samples/consumer/dkms.conf")

# overlay BASE: mount a throw-away overlay over the chroot BASE at
# $work/root (set $root), with its own /proc and /tmp; the upper layer lives
# in $work, made here and removed on exit (MNI_KEEP=1 keeps it).
overlay() {
	work=$(mktemp -d "${TMPDIR:-/var/tmp}/mni-dkms.XXXXXX")
	root=$work/root
	trap overlay_cleanup EXIT
	mkdir -p "$work/upper" "$work/ovl" "$root"
	mount -t overlay overlay \
		-o "lowerdir=$1,upperdir=$work/upper,workdir=$work/ovl" "$root" &&
		mount -t proc proc "$root/proc" &&
		mount -t tmpfs tmpfs "$root/tmp" &&
		mkdir -p "$root/tmp/mni"
}
overlay_cleanup() {
	umount -R "$work/root" 2>/dev/null
	if [ "${MNI_KEEP:-0}" = 1 ]; then
		echo "# kept $work"
	else
		rm -rf "$work"
	fi
}

# inch LOG COMMAND...: run in the chroot, output to $logs/LOG.log. In a PID
# namespace of its own, so that nothing it started outlives it (dkms >= 3.2
# leaves the sleeps of its progress dots behind) and keeps the overlay busy.
inch() {
	local log=$logs/$1.log
	shift
	echo "+ $*" >>"$log"
	unshare --pid --fork chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
		"$@" >>"$log" 2>&1
}
# q COMMAND...: a quiet chroot command, output on stdout.
q() {
	unshare --pid --fork chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LC_ALL=C.UTF-8 "$@" 2>/dev/null
}
status() { q dkms status "$@"; }
installed() { # installed MODULE KVER
	status -m "$1" -k "$2" | grep -q ": installed"
}
# modfile KVER NAME: the installed module NAME.ko (DKMS compresses it the
# way the kernel's own modules are, on some suites), chroot path.
modfile() {
	local f
	for f in "$root/lib/modules/$1/updates/dkms/$2.ko"*; do
		[ -f "$f" ] && { echo "${f#"$root"}"; return 0; }
	done
	return 1
}
# modinfo_of KVER NAME FIELD
modinfo_of() {
	local f
	f=$(modfile "$1" "$2") && q modinfo -F "$3" "$f"
}
# depends_ok KVER: the consumer depends on the engine and imports MNI, and
# depmod wrote that down.
depends_ok() {
	[ "$(modinfo_of "$1" mni_sample_mirror depends)" = mmu_interval_notifier ] &&
		[ "$(modinfo_of "$1" mni_sample_mirror import_ns)" = MNI ] &&
		grep -qE 'mni_sample_mirror\.ko[^:]*:.*mmu_interval_notifier\.ko' \
			"$root/lib/modules/$1/modules.dep"
}
# in_order LOG: DKMS installed mmu_interval_notifier.ko before the consumer.
in_order() {
	local first second
	first=$(grep -n -m1 -E '^mmu_interval_notifier\.ko(\.[a-z]+)?:' "$1" | cut -d: -f1)
	second=$(grep -n -m1 -E '^mni_sample_mirror\.ko(\.[a-z]+)?:' "$1" | cut -d: -f1)
	[ -n "$first" ] && [ -n "$second" ] && [ "$first" -lt "$second" ]
}

# by_hand LOG NAME/VERSION KVER: dkms add, build and install, a test each.
by_hand() {
	local start
	check "dkms add $2" inch "$1" dkms add "$2"
	start=$(date +%s)
	if inch "$1" dkms build "$2" -k "$3"; then
		ok "dkms build $2 -k $3 ($(( $(date +%s) - start )) s)"
	else
		nok "dkms build $2 -k $3"
		show "$logs/$1.log" 30
	fi
	check "dkms install $2 -k $3" inch "$1" dkms install "$2" -k "$3"
}

# kb LOG KVER DIR ARGS...: kbuild the module in the chroot's DIR.
kb() {
	local log=$1 kv=$2 dir=$3
	shift 3
	inch "$log" make -C "/lib/modules/$kv/build" M="$dir" "$@" modules
}
# build_refused LOG PATTERN DESCRIPTION KVER DIR ARGS...: kbuild of the
# chroot's DIR fails, saying why in a line matching PATTERN.
build_refused() {
	local log=$1 pat=$2 d=$3 msg
	shift 3
	if kb "$log" "$@"; then
		nok "$d (it built)"
		return
	fi
	msg=$(grep -m1 -e "$pat" "$logs/$log.log")
	if [ -n "$msg" ]; then
		ok "$d"
		echo "$msg" | diag
	else
		nok "$d"
		show "$logs/$log.log"
	fi
}
# refuses_no_notifier KVER VERSION: kbuild of the installed source, as for
# a kernel without CONFIG_MMU_NOTIFIER, stops with the module's message
# (dkms before 3.0.3 ignores BUILD_EXCLUSIVE_CONFIG and runs that build).
refuses_no_notifier() {
	inch nomn cp -r "/usr/src/$pkg-$2" /tmp/nomn
	build_refused nomn 'mmu_interval_notifier: kernel .* has no CONFIG_MMU_NOTIFIER=y' \
		"refused by the module's Kbuild, with a message, for a kernel without CONFIG_MMU_NOTIFIER" \
		"$1" /tmp/nomn CONFIG_MMU_NOTIFIER=
}
# modversions KVER: the kernel checks CRCs (its build link is absolute, so
# it is followed in the chroot).
modversions() {
	q grep -q '^CONFIG_MODVERSIONS=y' "/lib/modules/$1/build/.config"
}
# mkneg NAME: a copy of the sample as module NAME in the chroot's /tmp/neg/NAME.
mkneg() {
	local d=$root/tmp/neg/$1
	mkdir -p "$d"
	cp "$here/samples/consumer/mni_sample_mirror.c" "$d/$1.c"
	sed "s/mni_sample_mirror\.o/$1.o/" "$here/samples/consumer/Kbuild" >"$d/Kbuild"
}
# build_negatives KVER VERSION: the two broken consumers the guest must
# refuse, in the chroot's /tmp/neg/: mni_noimport.ko (no MNI_IMPORT_NS(),
# linked as on a kernel that allows missing imports; the stock ones do not)
# and mni_badcrc.ko (built against another build's Module.symvers: the same
# exports with other CRCs; only where the kernel has CONFIG_MODVERSIONS).
build_negatives() {
	local kv=$1 ver=$2 symvers
	symvers=$dtree/$pkg/kernel-$kv-$(uname -m)/module/Module.symvers
	mkneg mni_noimport
	sed -i '/^MNI_IMPORT_NS();$/d' "$root/tmp/neg/mni_noimport/mni_noimport.c"
	kb noimport-forced "$kv" /tmp/neg/mni_noimport \
		CONFIG_MODULE_ALLOW_MISSING_NAMESPACE_IMPORTS=y ||
		show "$logs/noimport-forced.log"
	# Debian's 7.x kernels have no CONFIG_MODVERSIONS: no CRCs, no test.
	modversions "$kv" || return 0
	mkneg mni_badcrc
	sed -E 's/^0x[0-9a-f]{8}(\tmni_)/0x0badc0de\1/' "$root$symvers" \
		>"$root/tmp/neg/other.symvers"
	kb badcrc "$kv" /tmp/neg/mni_badcrc MNI_SYMVERS=/tmp/neg/other.symvers \
		MNI_INCLUDE="/usr/src/$pkg-$ver/include" || show "$logs/badcrc.log"
}

# boot_guest KVER VMLINUZ [MODDIR]: boot VMLINUZ in QEMU with the module
# tree DKMS and depmod made in the chroot (MODDIR, default
# /lib/modules/KVER; its updates/ and depmod's files only, not the kernel's
# own modules or the headers links) and the broken consumers, and run
# tests/dkms/guest-dkms.sh there; its lines become tests here.
boot_guest() {
	local kv=$1 img=$2 mdir=$root${3:-/lib/modules/$1} guest=$work/guest-$1 start qrc line
	start=$(date +%s)
	rm -rf "$guest"
	mkdir -p "$guest/modules" "$guest/neg"
	(cd "$mdir" && find . -maxdepth 1 -name 'modules.*' -type f -print &&
		find updates -type f -print) | (cd "$mdir" && cpio -pdm --quiet "$guest/modules")
	cp "$root/tmp/neg/mni_noimport/mni_noimport.ko" "$guest/neg/" 2>/dev/null
	if modversions "$kv"; then
		cp "$root/tmp/neg/mni_badcrc/mni_badcrc.ko" "$guest/neg/" 2>/dev/null ||
			{ nok "mni_badcrc.ko for the QEMU run on $kv"; return; }
	fi
	if ! modfile "$kv" mni_sample_mirror >/dev/null || [ ! -f "$guest/neg/mni_noimport.ko" ]; then
		nok "modules for the QEMU run on $kv"
		find "$guest" | diag
		return
	fi
	"$here/tests/qemu/run.sh" --kernel "$img" --log "$logs/qemu-$kv.log" --timeout 300 \
		--add "$guest/modules:/lib/modules/$kv" --add "$guest/neg" \
		--script "$here/tests/dkms/guest-dkms.sh" >"$logs/guest-$kv.out" 2>"$logs/run-$kv.err"
	qrc=$?
	while IFS= read -r line; do
		case $line in
		'ok - '*) ok "$kv guest: ${line#ok - }" ;;
		'not ok - '*) nok "$kv guest: ${line#not ok - }" ;;
		'skip - '*) line=${line#skip - }
			skipped "$kv guest: ${line%% \# *}" "${line#* \# }" ;;
		'#'*) echo "#   ${line#\# }" ;;
		esac
	done <"$logs/guest-$kv.out"
	if [ "$qrc" = 0 ]; then
		ok "QEMU run on stock $kv is clean ($(( $(date +%s) - start )) s)"
	else
		nok "QEMU run on stock $kv is clean"
		diag <"$logs/run-$kv.err"
	fi
}

# purge_all: remove the consumer and purge the package, and check that
# nothing of either is left, for every kernel in the chroot.
purge_all() {
	local left
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
		lib/modules/*/updates/dkms/mni_sample_mirror.ko* 2>/dev/null)
	if [ -z "$left" ]; then
		ok "nothing left: /usr/src/$pkg-*, $dtree/$pkg, /usr/share/$pkg, modules"
	else
		nok "nothing left after purge:"
		echo "$left" | diag
	fi
	if ! grep -qs mmu_interval_notifier "$root"/lib/modules/*/modules.dep; then
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
}
