#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# guest-observe.sh [TEST...] - the observability tests, inside the QEMU guest
#
# Runs under busybox sh with its files in /guest/ (see run.sh --add):
# mmu_interval_notifier.ko, mni_test_mni.ko, mni_observe, guest-tap.sh.
# Loads the modules, mounts tracefs if it is not there yet, runs mni_observe on
# /dev/mni_test_mni (only the TESTs named, if any), turns the events off and
# unloads the modules: the engine must unload, so no registration, debugfs
# file or trace user is left behind. Prints one TAP stream ending with
# "N passed, N failed, N skipped" and exits non-zero on any failure.
#
# From the host, after `make tests`:
#   tests/qemu/run.sh --kernel "$(tests/qemu/kernel.sh 6.1.0-56-amd64)" \
#       --log /tmp/observe.log --add mmu_interval_notifier.ko \
#       --add tests/driver/mni_test_mni.ko --add tests/suite/mni_observe \
#       --add tests/qemu/guest-tap.sh \
#       --script tests/qemu/guest-observe.sh [-- TEST...]
# `-- show` prints the trace and debugfs text of a small workload instead.

G=/guest
W=/tmp/guest-observe
mkdir -p "$W"

# ok, not_ok, skip, check, tap_end.
# shellcheck source=tests/qemu/guest-tap.sh
. "$G/guest-tap.sh"

tracefs_dir() {
	for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do
		if [ -e "$d/trace" ]; then
			echo "$d"
			return 0
		fi
	done
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null &&
		[ -e /sys/kernel/tracing/trace ] && echo /sys/kernel/tracing
}

# A failed test may leave a child asleep in the driver (HOLD, up to 10 s)
# with the device open: give it time to go before unloading.
wait_unused() {
	i=0
	while [ "$(cat "/sys/module/$1/refcnt" 2>/dev/null)" != 0 ] && [ $i -lt 150 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# Fold mni_observe's TAP into ours: its own plan and summary go.
run_observe() {
	t0=$(date +%s)
	"$G/mni_observe" /dev/mni_test_mni "$@" >"$W/observe.tap" 2>&1
	rc=$?
	summary=
	while IFS= read -r line; do
		case $line in
		"ok "*" # SKIP "*)
			rest=${line#ok }
			rest=${rest#* }
			skip "${rest%% \# SKIP *}" "${rest#* \# SKIP }"
			;;
		"ok "*)
			rest=${line#ok }
			ok "${rest#* }"
			;;
		"not ok "*)
			rest=${line#not ok }
			not_ok "${rest#* }"
			;;
		*" passed, "*" failed, "*" skipped")
			summary=$line
			;;
		"TAP version"* | 1..*)
			;;
		*)
			echo "$line"
			;;
		esac
	done <"$W/observe.tap"
	echo "# mni_observe: ${summary:-no summary line}, exit $rc, $(($(date +%s) - t0)) s"
	if [ -z "$summary" ] || { [ "$rc" != 0 ] && [ "$nfail" = 0 ]; }; then
		not_ok "mni_observe # did not finish cleanly (exit $rc)"
	fi
}

echo "TAP version 13"
echo "# guest-observe: $(uname -r), $(nproc) cpus"

check load/mmu_interval_notifier insmod "$G/mmu_interval_notifier.ko"
check load/mni_test_mni insmod "$G/mni_test_mni.ko"
T=$(tracefs_dir)
if [ -n "$T" ] && [ -d "$T/events/mni" ]; then
	ok "tracefs # $T"
else
	not_ok "tracefs # no tracefs with events/mni"
fi

run_observe "$@"

if [ -n "$T" ]; then
	echo 0 >"$T/events/mni/enable"
	echo local >"$T/trace_clock"
fi
wait_unused mni_test_mni
check unload/mni_test_mni rmmod mni_test_mni
# Succeeds only if nothing still holds the engine.
check unload/mmu_interval_notifier rmmod mmu_interval_notifier
if [ -d /sys/kernel/debug/mmu_interval_notifier ]; then
	not_ok "unload/debugfs-gone # /sys/kernel/debug/mmu_interval_notifier still there"
else
	ok "unload/debugfs-gone"
fi

# A consumer that leaked a pre-registration, then unloaded: the engine's
# module exit forgets it with a warning naming the mm (a WARNING would
# panic the guest), while debugfs is read in a loop: rmmod is refused
# (EBUSY) only while a read holds a file open.
leak_unload() {
	insmod "$G/mmu_interval_notifier.ko" || return 1
	insmod "$G/mni_test_mni.ko" || return 1
	"$G/mni_observe" /dev/mni_test_mni --leak-hold >"$W/leak.id" &
	holder=$!
	i=0
	while [ ! -s "$W/leak.id" ] && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
	id=$(cat "$W/leak.id")
	[ -n "$id" ] || { echo "no mm id from --leak-hold"; kill $holder; return 1; }
	D=/sys/kernel/debug/mmu_interval_notifier
	( while :; do cat $D/mms $D/summary; done >/dev/null 2>&1 ) &
	reader=$!
	sleep 0.5
	rmmod mni_test_mni || { kill $reader $holder; return 1; }
	i=0
	until rmmod mmu_interval_notifier 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 200 ] || { echo "rmmod refused 200 times"; kill $reader $holder; return 1; }
	done
	echo "rmmod refused $i times while reading"
	kill $reader $holder
	wait $reader $holder 2>/dev/null
	dmesg | grep -q "mni: mm $id (pid $holder): 0 subscription(s) never removed, 1 pre-registration(s) never put; forgetting them" ||
		{ echo "no warning naming mm $id (pid $holder):"; dmesg | tail -5; return 1; }
	[ ! -d $D ] || { echo "$D still there"; return 1; }
}
if [ "${1:-}" != show ]; then
	check unload/leaked-hold-while-reading leak_unload
fi

tap_end
