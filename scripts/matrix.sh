#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# matrix.sh [--prepare] [KERNEL...]
#
# The kernel matrix: for each stock Debian KERNEL (default: all of them)
#
#   KERNEL   suite             flavour of linux-headers-<abi>-FLAVOUR
#   5.10     bullseye          amd64 (bullseye-security's)
#   6.12     trixie            amd64
#   6.12-rt  trixie            rt-amd64
#   7.2      sid               amd64
#   7.3      trixie-backports  amd64
#   7.3-rt   trixie-backports  rt-amd64
#
# build mmu_interval_notifier.ko and both test drivers at W=1 inside a
# chroot of that suite, require no diagnostic at all, run the conformance
# run (tests/qemu/guest-check.sh) on the suite's kernel in QEMU, then
# install the package through the suite's own DKMS in an overlay over the
# chroot and load what it installed with modprobe on the same kernel
# (tests/dkms/suite.sh).
# 6.1 is the host's own kernel: `make check-quick` covers it.
#
# The ABI is the newest linux-headers-<abi>-FLAVOUR the suite has today
# (by version, not the meta package: backports keeps older ABIs beside the
# newest), within the KERNEL's series for a stable release (bullseye also
# has 6.1); it is printed, and when sid or a backports line has gone past
# the KERNEL named (sid after 7.2), the lane says so and tests the newest.
# The chroot
# ($MNI_CACHE/chroots/SUITE, scripts/suite-chroot.sh) and the kernel image
# ($MNI_CACHE/kernels/ABI, tests/qemu/kernel.sh through the suite's private
# apt, scripts/suite-apt.sh) are made once and reused.
#
# The sources are copied (scripts/tree-files.sh: as git lists them, or the
# tree's files less what .gitignore names where there is no git) into
# the chroot's /build/ABI and built there, against the suite's headers with
# the suite's compiler: the module and the drivers must be built by the
# compiler the kernel was built with. The TAP suites (tests/suite) are
# plain C, linked statically, with no kernel header but the driver's uapi:
# they are built on the host from the same copy (seconds) and run on every
# kernel, as glibc's static binaries run on any kernel from 3.2.
#
# --prepare makes the chroots and fetches the images of the KERNELs, one
# suite per background job, and builds nothing: on a fresh machine it
# overlaps the three debootstraps and downloads.
#
# Output: TAP; the guest's and the DKMS run's TAP are nested (indented)
# under each kernel, and the last line sums everything, nested tests included:
# "N passed, N failed, N skipped". Logs: build/matrix/KERNEL/ and
# build/logs/matrix-KERNEL.log (the QEMU console).

set -u

me=${0##*/}
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${MNI_CACHE:-/var/cache/mni}
export MNI_CACHE=$cache
ALL="5.10 6.12 6.12-rt 7.2 7.3 7.3-rt"

prepare_only=0
if [ "${1:-}" = --prepare ]; then
	prepare_only=1
	shift
fi
kernels=${*:-$ALL}

# kernel -> "suite flavour [series]": a stable release's kernel stays
# within its series (bullseye-security also carries 6.1); sid and a
# backports line move on.
lookup() {
	case $1 in
	5.10) echo "bullseye amd64 5.10" ;;
	6.12) echo "trixie amd64 6.12" ;;
	6.12-rt) echo "trixie rt-amd64 6.12" ;;
	7.2) echo "sid amd64" ;;
	7.3) echo "trixie-backports amd64" ;;
	7.3-rt) echo "trixie-backports rt-amd64" ;;
	*) return 1 ;;
	esac
}

for k in $kernels; do
	if ! lookup "$k" >/dev/null; then
		echo "$me: unknown kernel '$k' (known: $ALL; 6.1 is make check-quick)" >&2
		exit 2
	fi
done

n=0 pass=0 fail=0 skip=0
ok() { n=$((n + 1)) pass=$((pass + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)) fail=$((fail + 1)); echo "not ok $n - $*"; }
diag() { sed 's/^/# /' "$@" | head -n 40; }

# The newest headers ABI of KERNEL's flavour (and series) the suite ships
# today, e.g. 6.12.117+deb13-amd64: of the linux-headers-<abi>-FLAVOUR
# packages, where <abi> is a kernel version with Debian's ABI suffix
# (5.10.0-35, 6.1.0-0.deb11.52, 7.3.4+deb13; not 6.12.117+deb13-rt for
# the flavour amd64, nor the meta package's 6.1), the highest.
abi_of() {
	local suite flav series v
	read -r suite flav series <<<"$(lookup "$1")"
	v=$("$top/scripts/suite-apt.sh" "$suite" apt-cache pkgnames linux-headers- |
		sed -n "s/^linux-headers-\(.*\)-$flav\$/\1/p" |
		grep -E '^[0-9]+\.[0-9]+(\.[0-9]+)?(-[0-9]+[a-z0-9.~]*|\+[a-z0-9.~]+)$' |
		awk -v s="$series" 's == "" || index($0, s ".") == 1' | sort -V | tail -n 1)
	if [ -z "$v" ]; then
		echo "$me: $suite has no linux-headers-<${series:-version}...>-$flav" >&2
		return 1
	fi
	echo "$v-$flav"
}

# Chroot with the headers and cached image of every KERNEL of one suite;
# once more with fresh package lists if the archive moved on meanwhile.
prepare_suite() {
	prepare_suite_once "$@" ||
		{ "$top/scripts/suite-apt.sh" "$1" --update >/dev/null &&
		  prepare_suite_once "$@"; }
}

prepare_suite_once() {
	local suite=$1 k abi pkgs='' abis=''
	shift
	for k in "$@"; do
		abi=$(abi_of "$k") || return 1
		echo "$me: $k: the newest $suite kernel is $abi" >&2
		pkgs="$pkgs linux-headers-$abi"
		abis="$abis $abi"
	done
	# shellcheck disable=SC2086 # word lists
	"$top/scripts/suite-chroot.sh" "$suite" $pkgs >/dev/null || return 1
	for abi in $abis; do
		APT_CONFIG=$("$top/scripts/suite-apt.sh" "$suite") \
			"$top/tests/qemu/kernel.sh" "$abi" >/dev/null || return 1
	done
}

if [ "$prepare_only" = 1 ]; then
	echo "TAP version 13"
	mkdir -p "$top/build/matrix"
	pids='' suites=''
	for k in $kernels; do
		s=$(lookup "$k" | cut -d' ' -f1)
		case " $suites " in *" $s "*) continue ;; esac
		suites="$suites $s"
		# shellcheck disable=SC2046 # the suite's kernels
		prepare_suite "$s" $(for j in $kernels; do
			[ "$(lookup "$j" | cut -d' ' -f1)" = "$s" ] && echo "$j"; done) \
			>"$top/build/matrix/prepare-$s.log" 2>&1 &
		pids="$pids $!:$s"
	done
	for p in $pids; do
		if wait "${p%%:*}"; then
			ok "prepare ${p#*:}: chroot and kernel images"
		else
			not_ok "prepare ${p#*:}: chroot and kernel images"
			diag "$top/build/matrix/prepare-${p#*:}.log"
		fi
	done
	echo "1..$n"
	echo "$pass passed, $fail failed, $skip skipped"
	[ "$fail" = 0 ]
	exit
fi

# run_in ROOT CMD: a shell command inside the chroot, with its own /proc
# (objtool reads it) in a private mount namespace that vanishes with it.
run_in() {
	unshare --mount --pid --fork --mount-proc="$1/proc" \
		chroot "$1" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LC_ALL=C sh -c "$2"
}

# A W=1 build step: TAP line, no output allowed but the BTF notice (the
# headers carry no vmlinux).
w1_step() {	# w1_step NAME LOG ROOT CMD
	local name=$1 log=$2
	run_in "$3" "$4" >"$log" 2>&1
	local rc=$?
	grep -v -e 'Skipping BTF generation' "$log" >"$log.diag"
	if [ "$rc" = 0 ] && [ ! -s "$log.diag" ]; then
		ok "$name"
		return 0
	fi
	not_ok "$name"
	diag "$log.diag"
	return 1
}

# nest NAME TAP RC ERR: a nested run (its TAP file, exit status, stderr)
# indented under ours, its counts added to ours, and one test of ours for
# it, timed from $start.
nest() {
	local sum p f s
	sed 's/^/    /' "$2"
	sum=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$2" | tail -n 1)
	if [ -n "$sum" ]; then
		read -r p _ f _ s _ <<<"$(echo "$sum" | tr -d ',')"
		pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + ${s:-0}))
	fi
	if [ "$3" = 0 ] && [ -n "$sum" ]; then
		ok "$1: $sum ($(($(date +%s) - start)) s)"
	else
		not_ok "$1: ${sum:-no summary}, exit $3"
		diag "$4"
	fi
}

echo "TAP version 13"
for k in $kernels; do
	start=$(date +%s)
	read -r suite _ <<<"$(lookup "$k")"
	out=$top/build/matrix/$k
	rm -rf "$out"
	mkdir -p "$out"
	echo "# $k: suite $suite"

	if ! prepare_suite "$suite" "$k" >"$out/prepare.log" 2>&1 ||
	   ! abi=$(abi_of "$k" 2>>"$out/prepare.log"); then
		not_ok "$k: chroot and kernel image"
		diag "$out/prepare.log"
		continue
	fi
	root=$cache/chroots/$suite
	kdir=/usr/src/linux-headers-$abi
	echo "# $k: $abi, the newest kernel of $suite, chroot $root"
	case $abi in
	"$k".* | "${k%-rt}".*-rt-*) ;;
	*) echo "# $k: $suite has moved on to $abi: this lane tests that" ;;
	esac

	# A fresh copy of the sources; only one run per ABI at a time.
	bdir=$root/build/$abi
	mkdir -p "$root/build"
	exec 7>"$root/build/.$abi.lock"
	flock 7
	rm -rf "$bdir"
	mkdir -p "$bdir"
	if ! (cd "$top" && scripts/tree-files.sh | xargs -0 -r cp --parents -t "$bdir"); then
		not_ok "$k: copy the sources to $bdir"
		continue
	fi

	if ! w1_step "$k: mmu_interval_notifier.ko builds at W=1, no diagnostics" \
		"$out/build-module.log" "$root" \
		"make -s -j\$(nproc) -C $kdir M=/build/$abi W=1 modules"; then
		continue
	fi
	if ! w1_step "$k: mni_test_mni.ko and mni_test_kern.ko build at W=1, no diagnostics" \
		"$out/build-driver.log" "$root" \
		"make -s -C /build/$abi/tests driver KDIR=$kdir \
			MNI_SYMVERS=/build/$abi/Module.symvers W=1"; then
		continue
	fi
	if make -s -C "$bdir/tests" suite >"$out/build-suite.log" 2>&1; then
		ok "$k: the static test programs of tests/suite build (host)"
	else
		not_ok "$k: the static test programs of tests/suite build (host)"
		diag "$out/build-suite.log"
		continue
	fi
	# What the stock lane gives the guest: the modules, every program
	# `make suite` built and the guest scripts' helpers.
	mkdir -p "$out/guest"
	cp "$bdir/mmu_interval_notifier.ko" "$bdir/tests/driver/mni_test_mni.ko" \
		"$bdir/tests/driver/mni_test_kern.ko" "$out/guest/"
	for f in "$bdir"/tests/suite/* "$bdir"/tests/qemu/guest-*.sh; do
		case $f in
		*.[ch] | */guest-check.sh) ;;
		*/tests/suite/*) [ ! -f "$f" ] || [ ! -x "$f" ] || cp "$f" "$out/guest/" ;;
		*) cp "$f" "$out/guest/" ;;
		esac
	done
	cp "$bdir/tests/qemu/guest-check.sh" "$out/"
	flock -u 7

	# The conformance run, booted as the stock lane boots 6.1 (two fake
	# NUMA nodes for the page migration test). The runs whose length is
	# set are shorter than the 6.1 lanes' (debug-6.1 makes 20 OOM kills
	# and a minute of fuzz per flavour, both 6.1 lanes 20 s of torture,
	# the stock 6.1 lane 200 load/work/unload cycles): 6 kills, 8 s of
	# torture (and 4 of its storm mode), 15 s of fuzz per flavour and 20
	# cycles. Its TAP nests under ours.
	adds=(--append "numa=fake=2 mni_oom_kills=6 mni_torture_secs=8 mni_fuzz_secs=15 mni_cycles=20")
	for f in "$out"/guest/*; do
		adds+=(--add "$f")
	done
	"$top/tests/qemu/run.sh" --kernel "$cache/kernels/$abi/vmlinuz" \
		--log "$top/build/logs/matrix-$k.log" --timeout 900 "${adds[@]}" \
		--script "$out/guest-check.sh" >"$out/guest.tap" 2>"$out/run.err"
	nest "$k: guest-check in QEMU" "$out/guest.tap" $? "$out/run.err"

	# The package and DKMS in an overlay over the same chroot, and the
	# modules DKMS installed loaded with modprobe on the same kernel.
	start=$(date +%s)
	"$top/tests/dkms/suite.sh" "$k" "$root" "$abi" "$cache/kernels/$abi/vmlinuz" \
		>"$out/dkms.tap" 2>"$out/dkms.err"
	nest "$k: DKMS install and modprobe (tests/dkms/suite.sh)" "$out/dkms.tap" $? \
		"$out/dkms.err"
done

echo "1..$n"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
